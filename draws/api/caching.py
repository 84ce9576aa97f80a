"""HTTP caching for the public read endpoints built on the draw history.

Mix `HttpCachedMixin` into an `APIView` whose answers depend only on the stored
draws, the URL, the language and the format. It answers with:

- `ETag`: a hash of the draw history version (latest draw, count, last change),
  the active language, the negotiated media type and the full path with query;
  it changes when a draw is imported or a sync fills in prize figures;
- `Cache-Control: public, max-age=<seconds until the next scheduled sync>`:
  nothing can change before the sync that stores the next draw;
- `304 Not Modified` to a matching `If-None-Match`, after authentication and
  throttling, without running the view;
- with `keep_rendered = True`, the rendered JSON body is kept in this process
  under the ETag (a small LRU, `KEPT_PAGES_MAX` bodies) and served from there until
  the history changes. In process rather than in Django's cache: that may be the
  database cache, and a query per hit would cost what the page itself costs.
"""

import hashlib
import threading
from collections import OrderedDict

from django.http import HttpResponse, HttpResponseNotModified
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.http import parse_etags
from django.utils.translation import get_language
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from draws.schedule import next_scheduled_sync
from draws.versioning import draw_history_version

# When no sync schedule is valid: revalidate often rather than never.
FALLBACK_MAX_AGE_SECONDS = 300
KEPT_PAGES_MAX = 64


class KeptPages:
    """Rendered bodies by ETag, least recently used dropped first; thread-safe."""

    def __init__(self, size: int):
        self.size = size
        self._pages: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, etag: str):
        with self._lock:
            page = self._pages.get(etag)
            if page is not None:
                self._pages.move_to_end(etag)
            return page

    def put(self, etag: str, page) -> None:
        with self._lock:
            self._pages[etag] = page
            self._pages.move_to_end(etag)
            while len(self._pages) > self.size:
                self._pages.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()


kept_pages = KeptPages(KEPT_PAGES_MAX)


class _Answered(Exception):
    """Carries a response decided before the view ran (304 or a kept body)."""

    def __init__(self, response):
        super().__init__()
        self.response = response


def seconds_until_next_sync() -> int:
    """max-age for draw data: until the next scheduled sync, at least 1 second."""
    upcoming = next_scheduled_sync()
    if upcoming is None:
        return FALLBACK_MAX_AGE_SECONDS
    return max(1, int((upcoming - timezone.now()).total_seconds()))


def draws_etag(request) -> str:
    """The strong ETag of this request's answer under the current draw history."""
    renderer = getattr(request, "accepted_media_type", "") or ""
    parts = (
        draw_history_version(),
        get_language() or "",
        renderer,
        request.get_full_path(),
    )
    digest = hashlib.blake2b("\x1f".join(parts).encode(), digest_size=12)
    return f'"{digest.hexdigest()}"'


def etag_matches(request, etag: str) -> bool:
    header = request.headers.get("If-None-Match", "")
    if not header:
        return False
    if header.strip() == "*":
        return True
    # Weak comparison (RFC 9110 13.1.2): a proxy may have weakened our ETag.
    wanted = etag.removeprefix("W/")
    return any(tag.removeprefix("W/") == wanted for tag in parse_etags(header))


class HttpCachedMixin:
    keep_rendered = False  # keep the rendered JSON body under its ETag

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)  # auth, throttles, negotiation
        self.http_etag = None
        if request.method not in ("GET", "HEAD"):
            return
        self.http_etag = draws_etag(request)
        if etag_matches(request, self.http_etag):
            raise _Answered(HttpResponseNotModified())
        if self._keeps_rendered(request):
            kept = kept_pages.get(self.http_etag)
            if kept is not None:
                content, content_type = kept
                raise _Answered(HttpResponse(content, content_type=content_type))

    def handle_exception(self, exc):
        if isinstance(exc, _Answered):
            return exc.response
        return super().handle_exception(exc)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        etag = getattr(self, "http_etag", None)
        if etag is None or response.status_code not in (200, 304):
            return response
        max_age = seconds_until_next_sync()
        response["ETag"] = etag
        response["Cache-Control"] = f"public, max-age={max_age}"
        patch_vary_headers(response, ("Accept", "Accept-Language"))
        if (
            isinstance(response, Response)
            and response.status_code == 200
            and self._keeps_rendered(request)
        ):
            response.render()
            kept_pages.put(etag, (response.content, response["Content-Type"]))
        return response

    def _keeps_rendered(self, request) -> bool:
        return self.keep_rendered and isinstance(
            getattr(request, "accepted_renderer", None), JSONRenderer
        )
