from django.urls import path

from .forecasts import ForecastListApi, LedgerApi

urlpatterns = [
    path("", ForecastListApi.as_view(), name="forecast-list"),
    path("ledger/", LedgerApi.as_view(), name="forecast-ledger"),
]
