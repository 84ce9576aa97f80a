"""Parse and validate draw rows from any source (CSV, the official JSON APIs).

One function turns a raw mapping into a `DrawRecord` or a list of `RowError`s, so an
import, a sync and the admin all apply the very same rules.
"""

import datetime as dt
from dataclasses import dataclass

from django.utils.translation import gettext as _

from .models import expected_draw_date

# Field names per source: our CSV, the current official API, the legacy one.
FIELD_ALIASES = {
    "draw_no": ("draw_no", "ltEpsd", "drwNo"),
    "draw_date": ("draw_date", "ltRflYmd", "drwNoDate"),
    "n1": ("n1", "tm1WnNo", "drwtNo1"),
    "n2": ("n2", "tm2WnNo", "drwtNo2"),
    "n3": ("n3", "tm3WnNo", "drwtNo3"),
    "n4": ("n4", "tm4WnNo", "drwtNo4"),
    "n5": ("n5", "tm5WnNo", "drwtNo5"),
    "n6": ("n6", "tm6WnNo", "drwtNo6"),
    "bonus": ("bonus", "bnsWnNo", "bnusNo"),
    "total_sales": ("total_sales", "wholEpsdSumNtslAmt", "totSellamnt"),
    "first_prize_winners": ("rank1_winners", "rnk1WnNope", "firstPrzwnerCo"),
    "first_prize_amount": ("rank1_prize_each", "rnk1WnAmt", "firstWinamnt"),
}
NUMBER_KEYS = ("n1", "n2", "n3", "n4", "n5", "n6")
OPTIONAL_KEYS = ("total_sales", "first_prize_winners", "first_prize_amount")


@dataclass(frozen=True)
class DrawRecord:
    draw_no: int
    draw_date: dt.date
    numbers: tuple[int, ...]  # ascending
    bonus: int
    total_sales: int | None = None
    first_prize_winners: int | None = None
    first_prize_amount: int | None = None

    def as_model_fields(self) -> dict:
        fields = {f"n{i + 1}": n for i, n in enumerate(self.numbers)}
        return {
            "draw_no": self.draw_no,
            "draw_date": self.draw_date,
            "bonus": self.bonus,
            "total_sales": self.total_sales,
            "first_prize_winners": self.first_prize_winners,
            "first_prize_amount": self.first_prize_amount,
            **fields,
        }


@dataclass(frozen=True)
class RowError:
    row: int | str
    field: str
    reason: str

    def __str__(self) -> str:
        return self.describe()

    def describe(self, label: str = "row") -> str:
        """One line; `label` says what `row` counts: "row" of a file, "draw" fetched."""
        # The words are looked up when the line is written, in the reader's language.
        if label == "draw":
            text = _("draw %(row)s, field %(field)s: %(reason)s")
        else:
            text = _("row %(row)s, field %(field)s: %(reason)s")
        return text % {"row": self.row, "field": self.field, "reason": self.reason}


def _lookup(raw: dict, key: str):
    for alias in FIELD_ALIASES[key]:
        if alias in raw:
            return raw[alias]
    return None


def _parse_int(value) -> int:
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, int):
        return value
    text = str(value).strip().replace(",", "")
    if isinstance(value, float) or "." in text:
        number = float(text)
        if not number.is_integer():
            raise ValueError
        return int(number)
    return int(text)


def _parse_date(value) -> dt.date:
    text = str(value).strip()
    for fmt in ("%Y-%m-%d", "%Y%m%d", "%Y.%m.%d"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError


def parse_draw(
    raw: dict, *, row: int | str, require_cadence: bool = False
) -> tuple[DrawRecord | None, list[RowError]]:
    """Validate one raw draw; return the record, or None and every problem found."""
    errors: list[RowError] = []
    values: dict = {}
    for key in ("draw_no", *NUMBER_KEYS, "bonus"):
        value = _lookup(raw, key)
        if value is None or str(value).strip() == "":
            errors.append(RowError(row, key, _("missing")))
            continue
        try:
            values[key] = _parse_int(value)
        except (TypeError, ValueError):
            errors.append(RowError(row, key, _("not a whole number: %r") % (value,)))
            continue
        if key == "draw_no" and values[key] < 1:
            errors.append(
                RowError(row, key, _("must be 1 or more, got %d") % values[key])
            )
        elif key != "draw_no" and not 1 <= values[key] <= 45:
            errors.append(RowError(row, key, _("out of range 1-45: %d") % values[key]))

    raw_date = _lookup(raw, "draw_date")
    if raw_date is None or str(raw_date).strip() == "":
        errors.append(RowError(row, "draw_date", _("missing")))
    else:
        try:
            values["draw_date"] = _parse_date(raw_date)
        except (TypeError, ValueError):
            errors.append(
                RowError(row, "draw_date", _("unparseable date: %r") % (raw_date,))
            )

    for key in OPTIONAL_KEYS:
        value = _lookup(raw, key)
        if value is None or str(value).strip() == "":
            values[key] = None
            continue
        try:
            values[key] = _parse_int(value)
        except (TypeError, ValueError):
            errors.append(RowError(row, key, _("not a whole number: %r") % (value,)))
            continue
        if values[key] < 0:
            errors.append(
                RowError(row, key, _("must not be negative: %d") % values[key])
            )

    numbers = [values[k] for k in NUMBER_KEYS if k in values]
    if len(numbers) == 6:
        duplicates = sorted({n for n in numbers if numbers.count(n) > 1})
        if duplicates:
            listed = ", ".join(map(str, duplicates))
            errors.append(
                RowError(row, "numbers", _("duplicate number(s): %s") % listed)
            )
        if "bonus" in values and values["bonus"] in numbers:
            errors.append(
                RowError(
                    row,
                    "bonus",
                    _("%d is among the six numbers") % values["bonus"],
                )
            )
    if require_cadence and "draw_no" in values and "draw_date" in values:
        expected = expected_draw_date(values["draw_no"])
        if values["draw_date"] != expected:
            errors.append(
                RowError(
                    row,
                    "draw_date",
                    _("%(date)s is not the weekly date %(expected)s of draw %(no)d")
                    % {
                        "date": values["draw_date"],
                        "expected": expected,
                        "no": values["draw_no"],
                    },
                )
            )
    if errors:
        return None, errors
    record = DrawRecord(
        draw_no=values["draw_no"],
        draw_date=values["draw_date"],
        numbers=tuple(sorted(numbers)),
        bonus=values["bonus"],
        total_sales=values["total_sales"],
        first_prize_winners=values["first_prize_winners"],
        first_prize_amount=values["first_prize_amount"],
    )
    return record, []
