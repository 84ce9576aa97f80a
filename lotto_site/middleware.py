"""Requests no view can answer sensibly are refused with a 400, never a 500."""

import logging

from django.core.exceptions import SuspiciousOperation
from django.db import DataError
from django.http import HttpResponseBadRequest
from django.utils.translation import gettext as _

from lotto_site.api.errors import is_api_request, json_error

logger = logging.getLogger(__name__)

FORM_TYPES = {"application/x-www-form-urlencoded", "multipart/form-data"}


class NulCharacterInRequest(SuspiciousOperation):
    """A NUL character in the path, the query string or a form field."""


def _has_nul(request) -> bool:
    if "\x00" in request.path:
        return True
    for key, values in request.GET.lists():
        if "\x00" in key or any("\x00" in value for value in values):
            return True
    # Not under /api/: DRF must read the body itself (a form there is 415), and
    # its serializer fields refuse NUL already.
    is_form = request.method == "POST" and request.content_type in FORM_TYPES
    if is_form and not request.path.startswith("/api/"):
        return any(
            "\x00" in key or any("\x00" in value for value in values)
            for key, values in request.POST.lists()
        )
    return False


def _bad_request(request, detail: str, code: str):
    if is_api_request(request):
        return json_error(400, detail, code)  # the API's one error format
    return HttpResponseBadRequest(f"{detail}\n", content_type="text/plain")


class RefuseBadInputMiddleware:
    """400 for input the database can't even compare with what it stores.

    - A NUL character anywhere a view reads text: PostgreSQL refuses it with an
      error that surfaced as a 500 (`/api/admin/models/%00/backup`, `?status=%00`,
      an admin search for `%00`). Serializer and form fields refuse NUL already;
      this covers path parameters, raw query parameters and admin forms.
    - A number out of a column's range in a read (`?groups__exact=9999999999`
      in an admin list: DataError on PostgreSQL, OverflowError on SQLite). Only
      for GET and HEAD: in a write, such an error is the server's own fault.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if _has_nul(request):
            if is_api_request(request):
                return _bad_request(
                    request,
                    _("The request contains a NUL character."),
                    "null_character",
                )
            raise NulCharacterInRequest("NUL character in the request")
        return self.get_response(request)

    def process_exception(self, request, exception):
        if request.method in {"GET", "HEAD"} and isinstance(
            exception, DataError | OverflowError
        ):
            logger.warning("Out-of-range value in %s: %s", request.path, exception)
            return _bad_request(
                request,
                _("A value in the request is out of range."),
                "out_of_range",
            )
        return None
