from django.urls import path

from .statistics import NumberStatisticsApi

urlpatterns = [
    path("numbers/", NumberStatisticsApi.as_view(), name="statistics-numbers"),
]
