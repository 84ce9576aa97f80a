from django.urls import path

from .browsing import DrawDetailApi, DrawLatestApi, DrawListApi

urlpatterns = [
    path("", DrawListApi.as_view(), name="draw-list"),
    path("latest/", DrawLatestApi.as_view(), name="draw-latest"),
    path("<int:draw_no>/", DrawDetailApi.as_view(), name="draw-detail"),
]
