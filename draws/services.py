"""Write side of the draw history: imports (CSV, JSON) and the gap check."""

import csv
import io
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import (
    ALL_PRIZE_FIELDS,
    SOURCE_MAX_LENGTH,
    LottoDraw,
    expected_draw_date,
)
from .signals import draws_imported
from .validation import DrawRecord, RowError, parse_draw
from .versioning import draw_history_changed

# A refusal lists this many problems, then says how many more there are: a junk
# file must not print millions of lines.
MAX_LISTED_PROBLEMS = 20
READ_CHUNK_BYTES = 64 * 1024

logger = logging.getLogger(__name__)


class DrawImportError(Exception):
    """The input was refused as a whole; `errors` lists every bad row."""

    def __init__(
        self, errors: list[RowError], *, source: str = "", row_label: str = "row"
    ):
        self.errors = errors
        self.source = source
        self.row_label = row_label
        super().__init__(self.summary())

    def summary(self) -> str:
        head = _("Refused %(source)s: %(count)d problem(s), nothing was written.") % {
            "source": self.source or _("input"),
            "count": len(self.errors),
        }
        shown = self.errors[:MAX_LISTED_PROBLEMS]
        lines = [error.describe(self.row_label) for error in shown]
        if len(self.errors) > len(shown):
            more = len(self.errors) - len(shown)
            lines.append(_("and %d more problem(s)") % more)
        return head + "\n" + "\n".join(lines)


@dataclass
class ImportResult:
    created: list[int] = field(default_factory=list)
    unchanged: int = 0
    filled: list[int] = field(default_factory=list)  # stored draws given prizes

    def summary(self) -> str:
        filled = (
            " "
            + _(
                "Filled in missing prize figures of %(count)d stored draw(s) "
                "(%(span)s)."
            )
            % {"count": len(self.filled), "span": _span(self.filled)}
            if self.filled
            else ""
        )
        if not self.created and not self.unchanged:
            return _("Nothing to import: the input holds no draws.")
        if not self.created:
            return (
                _("Nothing to import: all %(count)d draw(s) already stored.")
                % {"count": self.unchanged}
                + filled
            )
        return (
            _(
                "Imported %(count)d new draw(s) (%(span)s); "
                "%(unchanged)d already stored and unchanged."
            )
            % {
                "count": len(self.created),
                "span": _span(self.created),
                "unchanged": self.unchanged,
            }
            + filled
        )


def _span(draw_nos: list[int]) -> str:
    first, last = min(draw_nos), max(draw_nos)
    return str(first) if first == last else f"{first}-{last}"


def read_draw_rows(path: Path) -> list[tuple[int | str, dict]]:
    """Read raw rows from a CSV or JSON file, each with its human row number."""
    source = str(path)
    text = _read_text(Path(path), source=source)
    if Path(path).suffix.lower() == ".json" or text.lstrip().startswith(("{", "[")):
        return _json_rows(text, source=source)
    # newline="": a quoted field may hold a line break; splitlines() would cut it.
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        fieldnames = reader.fieldnames
        if not fieldnames or "draw_no" not in fieldnames:
            raise DrawImportError(
                [
                    RowError(
                        1, "header", _("a CSV needs a header row with draw_no, ...")
                    )
                ],
                source=source,
            )
        # Row 1 is the header, so data rows start at 2: what a spreadsheet shows.
        return [(index, row) for index, row in enumerate(reader, start=2)]
    except csv.Error as exc:  # a NUL byte, a field over the csv module's limit
        raise DrawImportError(
            [RowError(reader.line_num, "csv", _("unreadable CSV: %s") % exc)],
            source=source,
        ) from exc


def _read_text(path: Path, *, source: str) -> str:
    """The file's text, read in chunks up to DRAWS_IMPORT_MAX_BYTES, never more."""
    limit = settings.DRAWS_IMPORT_MAX_BYTES
    chunks, size = [], 0
    try:
        with path.open("rb") as handle:
            while size <= limit:
                chunk = handle.read(min(READ_CHUNK_BYTES, limit + 1 - size))
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
    except FileNotFoundError as exc:
        raise DrawImportError(
            [RowError("-", "file", _("not found"))], source=source
        ) from exc
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise DrawImportError([RowError("-", "file", reason)], source=source) from exc
    if size > limit:
        raise DrawImportError(
            [
                RowError(
                    "-",
                    "file",
                    _(
                        "larger than %d bytes (DRAWS_IMPORT_MAX_BYTES); the whole "
                        "history is about 100 KB"
                    )
                    % limit,
                )
            ],
            source=source,
        )
    try:
        return b"".join(chunks).decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DrawImportError(
            [RowError("-", "file", _("not UTF-8 text (byte %d)") % exc.start)],
            source=source,
        ) from exc


def _json_rows(text: str, *, source: str) -> list[tuple[int | str, dict]]:
    try:
        # Floats stay their literal text: "1.221e3" must not become draw 1221.
        payload = json.loads(text, parse_float=str)
    except json.JSONDecodeError as exc:
        raise DrawImportError(
            [RowError(exc.lineno, "json", _("malformed JSON: %s") % exc.msg)],
            source=source,
        ) from exc
    except RecursionError as exc:
        raise DrawImportError(
            [RowError("-", "json", _("nested too deeply to be a list of draws"))],
            source=source,
        ) from exc
    except ValueError as exc:  # e.g. an integer literal of more than 4,300 digits
        raise DrawImportError(
            [
                RowError(
                    "-", "json", _("unreadable JSON: %s") % " ".join(str(exc).split())
                )
            ],
            source=source,
        ) from exc
    # Accept a list of draws, one draw, or the official API's envelope.
    if isinstance(payload, dict) and isinstance(payload.get("data"), dict):
        payload = payload["data"].get("list", [])
    if isinstance(payload, dict):
        payload = [payload]
    if not isinstance(payload, list) or not all(isinstance(r, dict) for r in payload):
        raise DrawImportError(
            [RowError("-", "json", _("expected a draw object or a list of them"))],
            source=source,
        )
    return [(index, row) for index, row in enumerate(payload, start=1)]


def validate_draws(
    rows: Iterable[tuple[int | str, dict]], *, require_cadence: bool = False
) -> tuple[list[DrawRecord], list[RowError]]:
    """Parse every row and check them against each other and the stored history."""
    records: list[DrawRecord] = []
    errors: list[RowError] = []
    seen: dict[int, tuple[int | str, DrawRecord]] = {}
    for row_no, raw in rows:
        record, row_errors = parse_draw(
            raw, row=row_no, require_cadence=require_cadence
        )
        errors.extend(row_errors)
        if record is None:
            continue
        if record.draw_no in seen:
            first_row, first = seen[record.draw_no]
            if _same_result(first, record):
                continue  # an exact repeat changes nothing
            errors.append(
                RowError(
                    row_no,
                    "draw_no",
                    _(
                        "draw %(no)d already appears in row %(row)s "
                        "with different numbers"
                    )
                    % {"no": record.draw_no, "row": first_row},
                )
            )
            continue
        seen[record.draw_no] = (row_no, record)
        records.append(record)
    errors.extend(_conflicts_with_stored(seen))
    return records, errors


def _same_result(a: DrawRecord, b: DrawRecord) -> bool:
    return (a.numbers, a.bonus, a.draw_date) == (b.numbers, b.bonus, b.draw_date)


def _conflicts_with_stored(seen: dict[int, tuple]) -> list[RowError]:
    errors = []
    stored = LottoDraw.objects.filter(draw_no__in=list(seen)).order_by("draw_no")
    for draw in stored:
        row_no, record = seen[draw.draw_no]
        if (tuple(draw.numbers), draw.bonus, draw.draw_date) != (
            record.numbers,
            record.bonus,
            record.draw_date,
        ):
            errors.append(
                RowError(
                    row_no,
                    "draw_no",
                    _(
                        "draw %(no)d is already stored as %(stored)s + %(bonus)d "
                        "on %(date)s; this row says %(numbers)s + %(row_bonus)d "
                        "on %(row_date)s"
                    )
                    % {
                        "no": draw.draw_no,
                        "stored": draw.numbers,
                        "bonus": draw.bonus,
                        "date": draw.draw_date,
                        "numbers": list(record.numbers),
                        "row_bonus": record.bonus,
                        "row_date": record.draw_date,
                    },
                )
            )
    return errors


def draw_import_records(
    records: list[DrawRecord], *, source: str = "import"
) -> ImportResult:
    """Store the new records and fill in missing prize figures, in one transaction."""
    source = fit_source(source)
    try:
        result = _store_new(records, source=source)
    except IntegrityError as exc:
        # Validation ran before, so this is a race: another import or sync stored
        # some of these draws meanwhile. Say so in a line instead of a traceback.
        reason = " ".join(str(exc).split())
        raise DrawImportError(
            [RowError("-", "database", _("refused the rows: %s") % reason)],
            source=_("%s (another import running at the same time? run again)")
            % source,
        ) from exc
    if result.created:
        logger.info("Stored %d new draw(s) from %s", len(result.created), source)
    return result


def fit_source(source: str) -> str:
    """`source` cut to its column (a long file name must not crash PostgreSQL)."""
    if len(source) <= SOURCE_MAX_LENGTH:
        return source
    return source[: SOURCE_MAX_LENGTH - 1] + "…"


def _store_new(records: list[DrawRecord], *, source: str) -> ImportResult:
    with transaction.atomic():
        existing = LottoDraw.objects.select_for_update().in_bulk(
            [r.draw_no for r in records], field_name="draw_no"
        )
        new = [r for r in records if r.draw_no not in existing]
        now = timezone.now()
        LottoDraw.objects.bulk_create(
            [
                LottoDraw(source=source, updated_at=now, **r.as_model_fields())
                for r in new
            ],
            batch_size=500,
        )
        filled = _fill_missing_prizes(
            [(existing[r.draw_no], r) for r in records if r.draw_no in existing]
        )
        created = sorted(r.draw_no for r in new)
        if created:
            transaction.on_commit(
                lambda: draws_imported.send(
                    sender=LottoDraw, draw_nos=created, source=source
                )
            )
        if created or filled:
            transaction.on_commit(draw_history_changed)
    return ImportResult(
        created=created, unchanged=len(records) - len(new), filled=filled
    )


def _fill_missing_prizes(pairs: list[tuple[LottoDraw, DrawRecord]]) -> list[int]:
    """Give stored draws the prize figures they lack; never change a known one.

    The numbers were checked against the stored ones before (validate_draws).
    """
    changed: list[LottoDraw] = []
    now = timezone.now()
    for draw, record in pairs:
        missing = {
            f: v for f, v in record.prize_figures().items() if getattr(draw, f) is None
        }
        if draw.total_sales is None and record.total_sales is not None:
            missing["total_sales"] = record.total_sales
        if not missing:
            continue
        for name, value in missing.items():
            setattr(draw, name, value)
        draw.updated_at = now
        changed.append(draw)
    fields = ["total_sales", *ALL_PRIZE_FIELDS, "updated_at"]
    LottoDraw.objects.bulk_update(changed, fields, batch_size=500)
    return sorted(d.draw_no for d in changed)


def draw_import_file(path: Path | str) -> ImportResult:
    """Import a CSV or JSON file of draws: all rows or, on any bad row, none."""
    path = Path(path)
    records, errors = validate_draws(read_draw_rows(path))
    if errors:
        raise DrawImportError(errors, source=str(path))
    return draw_import_records(records, source=f"file:{path.name}")


@dataclass
class GapReport:
    count: int
    first: int | None
    last: int | None
    missing: list[int]
    off_cadence: list[tuple[int, str, str]]  # (draw_no, stored date, expected date)

    @property
    def ok(self) -> bool:
        return not self.missing and not self.off_cadence


def draw_check_gaps() -> GapReport:
    """Report missing draw numbers and dates off the weekly Saturday cadence."""
    rows = list(
        LottoDraw.objects.order_by("draw_no").values_list("draw_no", "draw_date")
    )
    if not rows:
        return GapReport(0, None, None, [], [])
    stored = {no for no, _ in rows}
    first, last = rows[0][0], rows[-1][0]
    missing = [no for no in range(1, last + 1) if no not in stored]
    off = [
        (no, str(date), str(expected_draw_date(no)))
        for no, date in rows
        if date != expected_draw_date(no)
    ]
    return GapReport(len(rows), first, last, missing, off)
