from django.urls import path

from .tickets import TicketCheckApi

urlpatterns = [
    path("check/", TicketCheckApi.as_view(), name="ticket-check"),
]
