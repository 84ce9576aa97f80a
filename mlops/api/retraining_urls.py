from django.urls import path

from . import retraining_views as views

urlpatterns = [
    path(
        "scheduler-status", views.SchedulerStatusApi.as_view(), name="scheduler-status"
    ),
    path("manual-retrain", views.ManualRetrainApi.as_view(), name="manual-retrain"),
    path(
        "emergency-retrain",
        views.EmergencyRetrainApi.as_view(),
        name="emergency-retrain",
    ),
    path("retrain-runs/", views.RetrainRunListApi.as_view(), name="retrain-run-list"),
    path(
        "retrain-runs/<int:pk>/",
        views.RetrainRunDetailApi.as_view(),
        name="retrain-run-detail",
    ),
]
