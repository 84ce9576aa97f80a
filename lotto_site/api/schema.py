"""OpenAPI: one ErrorResponse component, documented on every status an operation
can answer, and descriptions written for consumers (never a view's docstring).

`ApiAutoSchema` is DRF's DEFAULT_SCHEMA_CLASS. For each operation it adds the
error statuses that the API's shared machinery can produce:

- 401 everywhere (a bogus token is refused on public endpoints too);
- 403 where a permission class other than AllowAny guards the view, or the
  method is unsafe (a session without its CSRF token);
- 400 where the operation reads query parameters or a body;
- 404 where the path has parameters or the list is paginated (?page=999);
- 415 where it takes a body; 429 where it is throttled;
- 500 and 503 (`database_unavailable`) everywhere.

Statuses an operation declares itself (409, 503 `no_draws`, ...) keep their
description; a declared error without a body gets ErrorResponse.
"""

from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.mixins import ListModelMixin
from rest_framework.permissions import AllowAny

ERROR_DESCRIPTIONS = {
    400: _("The request is invalid: `errors` names each field at fault."),
    401: _(
        "No valid credentials: the token is unknown, or the endpoint needs one "
        "(`WWW-Authenticate: Token`)."
    ),
    403: _("The credentials are valid but not allowed to do this."),
    404: _("There is nothing at this address (or no such page)."),
    405: _("This address does not take that method."),
    409: _("The request conflicts with the current state."),
    415: _("The body is not JSON (send `Content-Type: application/json`)."),
    429: _("Too many requests: wait the seconds `Retry-After` says."),
    500: _("The server failed; the error has been logged."),
    503: _(
        "The service cannot answer right now (`database_unavailable`); try again "
        "shortly."
    ),
}


class ErrorItemSerializer(serializers.Serializer):
    message = serializers.CharField(help_text=_("What is wrong, for people."))
    code = serializers.CharField(help_text=_("What is wrong, for programs."))


class ErrorResponseSerializer(serializers.Serializer):
    """Every error under /api/ has this shape."""

    detail = serializers.CharField(help_text=_("One sentence for people."))
    code = serializers.CharField(
        help_text=_(
            "A machine code that is never translated, e.g. invalid, "
            "not_authenticated, authentication_failed, permission_denied, "
            "not_found, method_not_allowed, unsupported_media_type, throttled, "
            "server_error, database_unavailable."
        )
    )
    errors = serializers.DictField(
        child=ErrorItemSerializer(many=True),
        required=False,
        help_text=_(
            "Only when fields are at fault: each field's errors (nested fields as "
            "a.b, list items as a.0)."
        ),
    )


def error_response(status_code: int, description=None) -> OpenApiResponse:
    return OpenApiResponse(
        ErrorResponseSerializer,
        description=description or ERROR_DESCRIPTIONS[status_code],
    )


def error_responses(*status_codes: int) -> dict[int, OpenApiResponse]:
    """{status: ErrorResponse} for an operation's own extend_schema(responses=)."""
    return {code: error_response(code) for code in status_codes}


class ApiAutoSchema(AutoSchema):
    def get_description(self) -> str:
        # Never a view's docstring: those are written for developers. Every
        # operation states its description in extend_schema(description=...).
        return ""

    def _get_response_bodies(self, direction="response"):
        # Here rather than in get_response_serializers, which extend_schema
        # replaces on the operations that declare their responses.
        responses = super()._get_response_bodies(direction)
        for code, response in list(responses.items()):
            if int(code) >= 400 and "content" not in response:
                described = error_response(int(code), response.get("description"))
                responses[code] = self._get_response_for_code(
                    described, code, direction=direction
                )
        for code in self.error_statuses():
            if str(code) not in responses:
                responses[str(code)] = self._get_response_for_code(
                    error_response(code), str(code), direction=direction
                )
        return dict(sorted(responses.items()))

    def is_list(self) -> bool:
        return isinstance(self.view, ListModelMixin)

    def error_statuses(self) -> set[int]:
        # 400 everywhere: the request guard (lotto_site/middleware.py) refuses a NUL
        # character or an out-of-range number in any query, on every operation.
        codes = {400, 401, 500, 503}
        view, method = self.view, self.method
        unsafe = method not in {"GET", "HEAD", "OPTIONS"}
        guarded = any(not isinstance(p, AllowAny) for p in view.get_permissions())
        if guarded or unsafe:
            codes.add(403)
        if getattr(view, "throttle_classes", None):
            codes.add(429)
        # Not self._get_parameters(): it asks get_response_serializers (list
        # view?), which would ask this again.
        reads_input = bool(self.get_override_parameters()) or self.is_list()
        if reads_input or unsafe:
            codes.add(400)
        if unsafe and self.get_request_serializer() is not None:
            codes.add(415)
        if "{" in self.path or (self.is_list() and self._get_paginator()):
            codes.add(404)
        return codes


API_DESCRIPTION = _(
    "Korean Lotto 6/45 draw history and number recommendations. Lottery draws "
    "are random: no recommendation improves the odds.\n\n"
    "Public endpoints need no credentials; with a token (`Authorization: "
    "Token <key>`, issued by staff) the rate limit is higher. Every error "
    "answers one JSON shape, `ErrorResponse`."
)
# Texts drf-spectacular publishes from places gettext can't wrap: serializers'
# docstrings (component descriptions) and its own token scheme. Listed here so
# the catalog has them; `translate_schema_texts` looks each one up.
PUBLISHED_TEXTS = (
    gettext_noop(
        "A computed figure next to its random-chance baseline, interval and verdict."
    ),
    gettext_noop("The figures of one series of scored forecasts (live or replayed)."),
    gettext_noop("The replayed series: a baseline, never mixed into the live health."),
    gettext_noop(
        "The API's ErrorResponse (code retrain_running) plus the run in the way."
    ),
    gettext_noop("Every error under /api/ has this shape."),
    gettext_noop('Token-based authentication with required prefix "Token"'),
)


def translate_schema_texts(result, generator, request, public):
    """POSTPROCESSING_HOOKS: the schema's fixed texts in the request's language."""
    result.setdefault("info", {})["description"] = str(API_DESCRIPTION)
    components = result.get("components", {})
    for group in ("schemas", "securitySchemes"):
        for component in components.get(group, {}).values():
            if component.get("description") in PUBLISHED_TEXTS:
                component["description"] = gettext(component["description"])
    return result
