"""Write side of the draw history: imports (CSV, JSON) and the gap check."""

import csv
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from .models import LottoDraw, expected_draw_date
from .signals import draws_imported
from .validation import DrawRecord, RowError, parse_draw

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
        lines = [error.describe(self.row_label) for error in self.errors]
        return head + "\n" + "\n".join(lines)


@dataclass
class ImportResult:
    created: list[int] = field(default_factory=list)
    unchanged: int = 0

    def summary(self) -> str:
        if not self.created and not self.unchanged:
            return _("Nothing to import: the input holds no draws.")
        if not self.created:
            return _("Nothing to import: all %(count)d draw(s) already stored.") % {
                "count": self.unchanged
            }
        first, last = min(self.created), max(self.created)
        span = str(first) if first == last else f"{first}-{last}"
        return _(
            "Imported %(count)d new draw(s) (%(span)s); "
            "%(unchanged)d already stored and unchanged."
        ) % {"count": len(self.created), "span": span, "unchanged": self.unchanged}


def read_draw_rows(path: Path) -> list[tuple[int | str, dict]]:
    """Read raw rows from a CSV or JSON file, each with its human row number."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise DrawImportError(
            [RowError("-", "file", _("not found"))], source=str(path)
        ) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise DrawImportError(
            [RowError("-", "file", str(exc))], source=str(path)
        ) from exc
    if Path(path).suffix.lower() == ".json" or text.lstrip().startswith(("{", "[")):
        return _json_rows(text, source=str(path))
    reader = csv.DictReader(text.splitlines())
    if not reader.fieldnames or "draw_no" not in reader.fieldnames:
        raise DrawImportError(
            [RowError(1, "header", _("a CSV needs a header row with draw_no, ..."))],
            source=str(path),
        )
    # Row 1 is the header, so data rows start at 2: the number a spreadsheet shows.
    return [(index, row) for index, row in enumerate(reader, start=2)]


def _json_rows(text: str, *, source: str) -> list[tuple[int | str, dict]]:
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DrawImportError(
            [RowError(exc.lineno, "json", _("malformed JSON: %s") % exc.msg)],
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
    """Store the records not yet stored, in one transaction; announce them on commit."""
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


def _store_new(records: list[DrawRecord], *, source: str) -> ImportResult:
    with transaction.atomic():
        existing = set(
            LottoDraw.objects.filter(
                draw_no__in=[r.draw_no for r in records]
            ).values_list("draw_no", flat=True)
        )
        new = [r for r in records if r.draw_no not in existing]
        LottoDraw.objects.bulk_create(
            [LottoDraw(source=source, **r.as_model_fields()) for r in new],
            batch_size=500,
        )
        created = sorted(r.draw_no for r in new)
        if created:
            transaction.on_commit(
                lambda: draws_imported.send(
                    sender=LottoDraw, draw_nos=created, source=source
                )
            )
    return ImportResult(created=created, unchanged=len(records) - len(new))


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
