from django.urls import path

from .views import RecommendationListApi

urlpatterns = [
    path("", RecommendationListApi.as_view(), name="recommendation-list"),
]
