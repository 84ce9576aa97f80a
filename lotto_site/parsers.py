"""DRF's JSON parser, made total: every body is data or a 400, never a 500."""

from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class SafeJSONParser(JSONParser):
    """JSONParser that answers 400 to a body nested too deeply to decode.

    Python's decoder raises RecursionError (not ValueError) at about a thousand
    levels, which DRF's parser lets through as a 500.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise ParseError(
                _("JSON parse error - the body is nested too deeply."),
                code="parse_error",
            ) from exc
