from django.urls import path

from . import monitoring_views as views

urlpatterns = [
    path("monitor-status", views.MonitorStatusApi.as_view(), name="monitor-status"),
    path("accuracy-trend", views.AccuracyTrendApi.as_view(), name="accuracy-trend"),
    path("replay", views.ReplayApi.as_view(), name="monitor-replay"),
]
