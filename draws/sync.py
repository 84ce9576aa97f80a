"""HTTP client for the operator's public draw endpoints (stdlib only).

One function, `fetch_draw`, asks for one draw: the current endpoint first, the legacy
one if the current fails. Every failure becomes a `DrawSourceError` whose message is
one line a person can act on; nothing here touches the database.
"""

import http.client
import json
import logging
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

logger = logging.getLogger(__name__)

# Say who we are: a weekly sync that asks for one draw at a time, not a scraper.
USER_AGENT = "lotto-mlops/0.1 (draw history sync; one request per draw; urllib)"
CURRENT_PATH = "/lt645/selectPstLt645Info.do"
LEGACY_PATH = "/common.do"
# A draw is a few hundred bytes; anything far bigger is a page, not an answer.
MAX_RESPONSE_BYTES = 1_000_000
# Worth asking again: the server or the network hiccupped. A 404, an HTML page or
# garbled JSON will not improve by asking again, and a 429 says to stop: asking
# again is what gets clients blocked. The next scheduled run tries again.
RETRY_STATUSES = {408, 500, 502, 503, 504}
STATUS_HINTS = {
    403: gettext_lazy(" (blocked?)"),
    404: gettext_lazy(" (changed?)"),
    429: gettext_lazy(" (too many requests)"),
}


class DrawSourceError(Exception):
    """The official site could not be reached or gave an unusable answer."""


class _Retryable(DrawSourceError):
    pass


class DrawSourceStop(DrawSourceError):
    """The site said to stop (HTTP 429): ask nothing more this run, not even the
    legacy endpoint."""


@dataclass(frozen=True)
class DrawSource:
    base_url: str
    legacy_base_url: str  # empty: no fallback
    timeout: float
    retries: int  # extra attempts after the first
    backoff: float  # seconds before the first retry; doubles each time

    @classmethod
    def from_settings(cls) -> "DrawSource":
        return cls(
            base_url=settings.DRAWS_SOURCE_BASE_URL.rstrip("/"),
            legacy_base_url=settings.DRAWS_LEGACY_BASE_URL.rstrip("/"),
            timeout=settings.DRAWS_SYNC_TIMEOUT_SECONDS,
            retries=max(0, settings.DRAWS_SYNC_RETRIES),
            backoff=settings.DRAWS_SYNC_BACKOFF_SECONDS,
        )

    def current_url(self, draw_no: int) -> str:
        query = urllib.parse.urlencode({"srchLtEpsd": draw_no})
        return f"{self.base_url}{CURRENT_PATH}?{query}"

    def legacy_url(self, draw_no: int) -> str:
        query = urllib.parse.urlencode({"method": "getLottoNumber", "drwNo": draw_no})
        return f"{self.legacy_base_url}{LEGACY_PATH}?{query}"


def fetch_draw(draw_no: int, *, source: DrawSource) -> dict | None:
    """Return the official raw fields of draw `draw_no`, or None if not drawn yet."""
    try:
        return _fetch_current(draw_no, source)
    except DrawSourceStop:
        raise
    except DrawSourceError as current_error:
        if not source.legacy_base_url:
            raise
        try:
            raw = _fetch_legacy(draw_no, source)
        except DrawSourceError as legacy_error:
            raise DrawSourceError(
                _("%(current)s; the legacy endpoint failed too: %(legacy)s")
                % {"current": current_error, "legacy": legacy_error}
            ) from legacy_error
        # The sync succeeded, but someone should know the main endpoint is broken.
        logger.warning("%s; the legacy endpoint answered instead", current_error)
        return raw


def _fetch_current(draw_no: int, source: DrawSource) -> dict | None:
    url = source.current_url(draw_no)
    payload = _get_json(url, draw_no=draw_no, source=source)
    data = payload.get("data") if isinstance(payload, dict) else None
    items = data.get("list") if isinstance(data, dict) else None
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise DrawSourceError(
            _(
                "The official site answered JSON without data.list for draw "
                "%(no)d at %(url)s (changed?)"
            )
            % {"no": draw_no, "url": url}
        )
    for item in items:
        if _as_int(item.get("ltEpsd")) == draw_no:
            return item
    if all(_as_int(item.get("ltEpsd")) == 0 for item in items):
        return None  # also an empty list: the draw has not taken place yet
    answered = ", ".join(str(item.get("ltEpsd")) for item in items)
    raise DrawSourceError(
        _(
            "The official site answered draw %(answered)s when asked for draw "
            "%(no)d at %(url)s (changed?)"
        )
        % {"answered": answered, "no": draw_no, "url": url}
    )


def _fetch_legacy(draw_no: int, source: DrawSource) -> dict | None:
    url = source.legacy_url(draw_no)
    payload = _get_json(url, draw_no=draw_no, source=source)
    if not isinstance(payload, dict) or "returnValue" not in payload:
        raise DrawSourceError(
            _(
                "The official site answered JSON without returnValue for draw "
                "%(no)d at %(url)s (changed?)"
            )
            % {"no": draw_no, "url": url}
        )
    if payload["returnValue"] == "fail":
        return None
    if _as_int(payload.get("drwNo")) != draw_no:
        raise DrawSourceError(
            _(
                "The official site answered draw %(answered)s when asked for draw "
                "%(no)d at %(url)s (changed?)"
            )
            % {"answered": payload.get("drwNo"), "no": draw_no, "url": url}
        )
    return payload


def _get_json(url: str, *, draw_no: int, source: DrawSource):
    """GET `url` once per attempt; retry only what may heal, backing off each time."""
    attempt = 1
    while True:
        try:
            return _get_json_once(url, draw_no=draw_no, timeout=source.timeout)
        except _Retryable as exc:
            if attempt > source.retries:
                suffix = (
                    _("; gave up after %d attempts") % attempt if attempt > 1 else ""
                )
                raise DrawSourceError(f"{exc}{suffix}") from exc
            delay = source.backoff * 2 ** (attempt - 1)
            # DEBUG: the final error carries the story; a command prints one line.
            logger.debug("%s; retrying in %.2fs", exc, delay)
            time.sleep(delay)
            attempt += 1


def _get_json_once(url: str, *, draw_no: int, timeout: float):
    try:
        request = _request(url)
    except ValueError as exc:  # e.g. no scheme: a typo in settings, not the network
        raise DrawSourceError(
            _(
                "Not a valid URL: %(url)s (%(error)s); check DRAWS_SOURCE_BASE_URL "
                "and DRAWS_LEGACY_BASE_URL"
            )
            % {"url": url, "error": exc}
        ) from exc
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            content_type = response.headers.get("Content-Type", "")
            body = response.read(MAX_RESPONSE_BYTES + 1)
    except urllib.error.HTTPError as exc:
        message = _(
            "The official site answered HTTP %(code)d %(reason)s for draw %(no)d "
            "at %(url)s%(hint)s"
        ) % {
            "code": exc.code,
            "reason": _one_line(exc.reason),
            "no": draw_no,
            "url": url,
            "hint": STATUS_HINTS.get(exc.code, ""),
        }
        exc.close()
        if exc.code in RETRY_STATUSES:
            raise _Retryable(message) from exc
        if exc.code == 429:
            raise DrawSourceStop(message) from exc
        raise DrawSourceError(message) from exc
    except urllib.error.URLError as exc:
        raise _Retryable(
            _("Cannot reach %(url)s: %(reason)s (offline?)")
            % {"url": url, "reason": _one_line(exc.reason)}
        ) from exc
    except (OSError, http.client.HTTPException) as exc:
        # Timeouts and resets while reading the body land here, not in URLError.
        reason = _one_line(exc) or type(exc).__name__
        raise _Retryable(
            _("Cannot reach %(url)s: %(reason)s (offline?)")
            % {"url": url, "reason": reason}
        ) from exc
    return _decode(body, content_type, url=url, draw_no=draw_no)


def _request(url: str) -> urllib.request.Request:
    return urllib.request.Request(
        url,
        headers={
            "User-Agent": USER_AGENT,
            "Accept": "application/json",
            # The site serves these endpoints to its own pages' XHR calls.
            "X-Requested-With": "XMLHttpRequest",
        },
    )


def _decode(body: bytes, content_type: str, *, url: str, draw_no: int):
    text = body.decode("utf-8", errors="replace")
    if "html" in content_type.lower() or text.lstrip().startswith("<"):
        raise DrawSourceError(
            _(
                "The official site answered HTML instead of JSON for draw %(no)d "
                "at %(url)s (blocked or changed)"
            )
            % {"no": draw_no, "url": url}
        )
    if len(body) > MAX_RESPONSE_BYTES:
        raise DrawSourceError(
            _(
                "The official site answered more than %(limit)d bytes for draw "
                "%(no)d at %(url)s (changed?)"
            )
            % {"limit": MAX_RESPONSE_BYTES, "no": draw_no, "url": url}
        )
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise DrawSourceError(
            _(
                "The official site answered malformed JSON for draw %(no)d at "
                "%(url)s: %(error)s at line %(line)d column %(column)d (changed?)"
            )
            % {
                "no": draw_no,
                "url": url,
                "error": exc.msg,
                "line": exc.lineno,
                "column": exc.colno,
            }
        ) from exc


def _as_int(value) -> int | None:
    try:
        return int(str(value).strip())
    except ValueError:
        return None


def _one_line(value) -> str:
    return " ".join(str(value).split())
