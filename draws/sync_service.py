"""Sync: fetch the draws after the last stored one and store them, all or none."""

import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import expected_draw_date
from .selectors import draw_latest, draws_missing_prizes
from .services import DrawImportError, draw_import_records, validate_draws
from .sync import DrawSource, DrawSourceError, fetch_draw

logger = logging.getLogger(__name__)


class DrawSyncError(Exception):
    """The sync cannot start; the message says what to do instead."""


@dataclass
class SyncResult:
    last_stored: int  # before the sync
    limit: int
    created: list[int] = field(default_factory=list)
    next_draw: int | None = None  # the first draw not fetched
    capped: bool = False  # stopped at DRAWS_SYNC_MAX_DRAWS, more may be out
    filled: list[int] = field(default_factory=list)  # stored draws given prizes
    refill_problem: str = ""  # why the refill of prize figures stopped, if it did

    def summary(self) -> str:
        tail = ""
        if self.filled:
            listed = ", ".join(map(str, self.filled))
            tail = f" Filled in missing prize figures of draw(s) {listed}."
        if self.refill_problem:
            tail += f"\n{self.refill_problem}"
        return self._head() + tail

    def _head(self) -> str:
        if self.created:
            first, last = self.created[0], self.created[-1]
            span = str(first) if first == last else f"{first}-{last}"
            head = _(
                "Stored %(count)d new draw(s) from the official site (%(span)s)."
            ) % {"count": len(self.created), "span": span}
        else:
            head = _("No new draws since draw %d.") % self.last_stored
        if self.capped:
            tail = _("Stopped at the limit of %d per run; run again.") % self.limit
        else:
            tail = _("Up to date: draw %d has not been drawn yet.") % self.next_draw
        return f"{head} {tail}"

    def as_dict(self) -> dict:
        return {
            "created": self.created,
            "last_stored": self.created[-1] if self.created else self.last_stored,
            "up_to_date": not self.capped,
            "filled": self.filled,
            "message": self.summary(),
        }


def draw_sync_latest(*, max_draws: int | None = None) -> SyncResult:
    """Fetch every draw after the last stored one; store them all, or none."""
    latest = draw_latest()
    if latest is None:
        # Fetching 1,200 draws one by one is what gets a client blocked; the
        # shipped history is one command away.
        raise DrawSyncError(
            _(
                "No draws stored yet: run `python manage.py import_draws` first; "
                "the sync only fetches the draws after the last stored one."
            )
        )
    limit = max_draws if max_draws is not None else settings.DRAWS_SYNC_MAX_DRAWS
    if limit < 1:
        raise DrawSyncError(
            _("The limit of draws per run must be 1 or more: %d.") % limit
        )
    result = SyncResult(last_stored=latest.draw_no, limit=limit)
    source = DrawSource.from_settings()
    rows, result.next_draw, result.capped = _fetch_after(
        latest.draw_no, limit=limit, source=source
    )
    # The very rules of an import, plus the weekly cadence: the site is trusted no
    # more than a file.
    records, errors = validate_draws(rows, require_cadence=True)
    if errors:
        raise DrawImportError(
            errors,
            source=_("the draws fetched from the official site"),
            row_label="draw",
        )
    if records:
        result.created = draw_import_records(records, source="sync").created
    if not result.capped:
        result.filled, result.refill_problem = _refill_prizes(
            source, skip=set(result.created)
        )
    return result


def _refill_prizes(source: DrawSource, *, skip: set[int]) -> tuple[list[int], str]:
    """Ask again for the newest stored draws lacking prize figures; fill them in.

    Secondary to storing new draws: a failure here stops the refill (no more
    requests this run), is reported in the summary and logged, and undoes nothing.
    A draw that comes back with other numbers than the stored ones is refused;
    the others are still filled in.
    The draws stored by this very run are not asked again (they were just asked).
    """
    rows = []
    wanted = draws_missing_prizes(limit=settings.DRAWS_SYNC_REFILL_MAX, exclude=skip)
    try:
        for draw_no in wanted:
            raw = fetch_draw(draw_no, source=source)
            if raw is not None:
                rows.append((draw_no, raw))
    except DrawSourceError as exc:
        problem = f"Could not fill in missing prize figures: {exc}"
        logger.warning("%s", problem)
        return [], problem
    # Each draw on its own: one that disagrees with the stored history is refused
    # (and said), the others are still filled in.
    records, errors = [], []
    for row in rows:
        row_records, row_errors = validate_draws([row], require_cadence=True)
        records += [] if row_errors else row_records
        errors += row_errors
    problem = ""
    if errors:
        refused = DrawImportError(
            errors, source="the stored draws asked for again", row_label="draw"
        )
        logger.warning("%s", refused.summary())
        problem = refused.summary()
    filled = draw_import_records(records, source="sync").filled if records else []
    return filled, problem


def _fetch_after(
    last: int, *, limit: int, source: DrawSource
) -> tuple[list[tuple[int, dict]], int, bool]:
    """Fetch draw after draw until one is not drawn yet; return rows, next, capped."""
    rows: list[tuple[int, dict]] = []
    draw_no = last + 1
    while len(rows) < limit:
        # A Saturday still to come needs no request: one fewer for the site.
        if expected_draw_date(draw_no) > timezone.localdate():
            return rows, draw_no, False
        raw = fetch_draw(draw_no, source=source)
        if raw is None:
            return rows, draw_no, False
        rows.append((draw_no, raw))
        draw_no += 1
    return rows, draw_no, True
