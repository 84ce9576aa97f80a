"""Content negotiation for the API: an unknown ?format= is ignored, not a 404."""

from rest_framework.negotiation import DefaultContentNegotiation


class LenientContentNegotiation(DefaultContentNegotiation):
    """DRF's negotiation, except that `?format=<unknown>` falls back to Accept.

    DRF answers 404 "Not found" to a format it has no renderer for, which says
    the resource is missing when only the representation asked for is; the
    schema fuzz found it on every operation. An unknown format now chooses by
    the Accept header, as if no format had been given (JSON by default).
    """

    def filter_renderers(self, renderers, format):
        return [r for r in renderers if r.format == format] or list(renderers)
