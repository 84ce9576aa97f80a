"""One JSON error format for everything under /api/.

    {"detail": "<sentence>", "code": "<code>",
     "errors": {"<field>": [{"message": "...", "code": "..."}]}}

`detail` is a sentence for people (translated), `code` a machine value (never
translated); `errors` is there only when fields are at fault. Views raise
ordinary DRF exceptions (or Django's ValidationError, Http404, PermissionDenied)
and never build error bodies themselves; `api_exception_handler` (DRF's
EXCEPTION_HANDLER) and the JSON 404/500 views below all answer through
`error_body`.

An exception may add machine fields of its own through `extra_fields` (a dict),
e.g. the retrain conflict's `run_id`; they sit next to detail and code.
"""

import logging
import sys

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpResponsePermanentRedirect, JsonResponse
from django.urls import Resolver404, resolve
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import set_rollback

from .throttling import FailedAuthenticationThrottle

logger = logging.getLogger(__name__)

API_PREFIX = "/api/"
NON_FIELD_ERRORS = api_settings.NON_FIELD_ERRORS_KEY


class DatabaseUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = gettext_lazy(
        "The database is unavailable right now; try again in a moment."
    )
    default_code = "database_unavailable"


def error_body(detail, code: str, errors: dict | None = None, **extra) -> dict:
    """The one error shape: detail and code, errors only when fields are at fault."""
    body = {"detail": str(detail), "code": code}
    if errors:
        body["errors"] = errors
    body.update(extra)
    return body


def field_errors(detail, prefix: str = "") -> dict[str, list[dict]]:
    """DRF's nested error detail, flattened: {"a.b": [{"message", "code"}]}."""
    if isinstance(detail, dict):
        found = {}
        for key, value in detail.items():
            found.update(field_errors(value, f"{prefix}.{key}" if prefix else key))
        return found
    if isinstance(detail, list) and any(isinstance(v, dict | list) for v in detail):
        found = {}
        for index, value in enumerate(detail):
            found.update(field_errors(value, f"{prefix}.{index}"))
        return found
    items = detail if isinstance(detail, list) else [detail]
    return {
        prefix or NON_FIELD_ERRORS: [
            {"message": str(item), "code": getattr(item, "code", "invalid")}
            for item in items
        ]
    }


def validation_body(exc: exceptions.ValidationError) -> dict:
    """400: a list without fields is the sentence itself; fields go to `errors`."""
    if isinstance(exc.detail, dict):
        errors = field_errors(exc.detail)
        only = list(errors) == [NON_FIELD_ERRORS] and errors[NON_FIELD_ERRORS]
        if only:  # no field is at fault: the sentences are the detail
            return error_body(
                " ".join(item["message"] for item in only), only[0]["code"]
            )
        return error_body(
            _("The request is invalid; see the errors of each field."),
            "invalid",
            errors,
        )
    items = exc.detail if isinstance(exc.detail, list) else [exc.detail]
    messages = [str(item) for item in items] or [_("The request is invalid.")]
    code = getattr(items[0], "code", "invalid") if items else "invalid"
    return error_body(" ".join(messages), code)


def as_api_exception(exc):
    """Django's and the database's exceptions as the DRF ones they mean."""
    if isinstance(exc, Http404):
        args = exc.args if exc.args and str(exc.args[0]) else ()
        return exceptions.NotFound(*args)
    if isinstance(exc, PermissionDenied):
        return exceptions.PermissionDenied(*exc.args)
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            return exceptions.ValidationError(
                {
                    field: [
                        exceptions.ErrorDetail(m, code=e.code or "invalid")
                        for e in errs
                        for m in e.messages
                    ]
                    for field, errs in exc.error_dict.items()
                }
            )
        return exceptions.ValidationError(
            [
                exceptions.ErrorDetail(m, code=e.code or "invalid")
                for e in exc.error_list
                for m in e.messages
            ]
        )
    if isinstance(exc, OperationalError | InterfaceError):
        logger.warning("Database unavailable: %s", exc)
        return DatabaseUnavailable()
    return exc


def api_exception_handler(exc, context):
    """DRF's EXCEPTION_HANDLER: every API exception in the one format.

    Anything else returns None, so Django logs it and `server_error` answers.
    """
    exc = as_api_exception(exc)
    if not isinstance(exc, exceptions.APIException):
        return None
    if isinstance(exc, exceptions.AuthenticationFailed):
        throttle = FailedAuthenticationThrottle()
        if not throttle.allow_request(context["request"], context.get("view")):
            exc = exceptions.Throttled(throttle.wait())
    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None) is not None:
        headers["Retry-After"] = str(max(1, int(-(-exc.wait // 1))))
    if isinstance(exc, exceptions.ValidationError):
        body = validation_body(exc)
    elif isinstance(exc.detail, dict | list):
        body = validation_body(exceptions.ValidationError(exc.detail))
        body["code"] = exc.default_code
    elif isinstance(exc, exceptions.ParseError):
        reason = str(exc.detail).removeprefix("JSON parse error - ").rstrip(".")
        body = error_body(
            _("The request body could not be read: %(reason)s.") % {"reason": reason},
            "parse_error",
        )
    else:
        body = error_body(exc.detail, getattr(exc.detail, "code", exc.default_code))
    body.update(getattr(exc, "extra_fields", None) or {})
    set_rollback()
    return Response(body, status=exc.status_code, headers=headers)


# --- Django's error views: JSON under /api/, Django's pages elsewhere ----------


def is_api_request(request) -> bool:
    return request.path_info.startswith(API_PREFIX)


def json_error(status_code: int, detail, code: str) -> JsonResponse:
    return JsonResponse(error_body(detail, code), status=status_code)


def api_not_found(request, *args, **kwargs):
    """Any path under /api/ that no endpoint matches (bad path parameters too).

    A catch-all URL rather than only handler404, so the answer is JSON with
    DEBUG on as well. It keeps APPEND_SLASH's redirect for GET and HEAD, which
    a catch-all would otherwise take away.
    """
    if request.method in {"GET", "HEAD"} and settings.APPEND_SLASH:
        if not request.path_info.endswith("/") and resolves_elsewhere(
            request.path_info + "/"
        ):
            return HttpResponsePermanentRedirect(
                request.get_full_path(force_append_slash=True)
            )
    return json_error(404, _("There is no API endpoint at this address."), "not_found")


def resolves_elsewhere(path: str) -> bool:
    try:
        return resolve(path).func is not api_not_found
    except Resolver404:
        return False


def page_not_found(request, exception=None):
    """handler404: an Http404 outside DRF's views (JSON under /api/)."""
    if is_api_request(request):
        message = exception.args[0] if exception and exception.args else ""
        return json_error(404, message or _("Not found."), "not_found")
    return defaults.page_not_found(request, exception)


def server_error(request):
    """handler500: Django has logged the exception; say so in the one format.

    A database that is down answers 503 database_unavailable, as in DRF's views.
    """
    if not is_api_request(request):
        return defaults.server_error(request)
    exc = sys.exc_info()[1]
    if isinstance(exc, OperationalError | InterfaceError):
        return json_error(
            503, DatabaseUnavailable.default_detail, "database_unavailable"
        )
    return json_error(
        500,
        _("The server failed to answer this request; the error has been logged."),
        "server_error",
    )


def bad_request(request, exception=None):
    """handler400 (e.g. a host not in ALLOWED_HOSTS, a malformed request)."""
    if is_api_request(request):
        return json_error(400, _("The request is malformed."), "bad_request")
    return defaults.bad_request(request, exception)


def permission_denied(request, exception=None):
    """handler403 (e.g. a CSRF failure outside DRF)."""
    if is_api_request(request):
        message = exception.args[0] if exception and exception.args else ""
        return json_error(
            403,
            message or _("You do not have permission to do this."),
            "permission_denied",
        )
    return defaults.permission_denied(request, exception)
