"""Parse and validate draw rows from any source (CSV, the official JSON APIs).

One function turns a raw mapping into a `DrawRecord` or a list of `RowError`s, so an
import, a sync and the admin all apply the very same rules.
"""

import datetime as dt
import re
from dataclasses import asdict, dataclass

from django.utils.translation import gettext as _

from .models import ALL_PRIZE_FIELDS, expected_draw_date

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
    # The legacy API has the first prize only: ranks 2-5 stay empty from it.
    **{
        f"rank{k}_{kind}": (f"rank{k}_{kind}", f"rnk{k}{official}")
        for k in (2, 3, 4, 5)
        for kind, official in (("winners", "WnNope"), ("prize_each", "WnAmt"))
    },
}
NUMBER_KEYS = ("n1", "n2", "n3", "n4", "n5", "n6")
OPTIONAL_KEYS = ("total_sales", *ALL_PRIZE_FIELDS)
# Upper bounds: what the columns hold (a larger value is a row error, not a
# database crash). Draw 99,999 is in the year 3919; a date past 9999 cannot exist.
MAX_DRAW_NO = 99_999
MAX_COUNT = 2_147_483_647  # winning games: a 32-bit column
MAX_AMOUNT = 9_223_372_036_854_775_807  # KRW: a 64-bit column
UPPER_BOUNDS = {
    "total_sales": MAX_AMOUNT,
    **{f: MAX_COUNT if "winners" in f else MAX_AMOUNT for f in ALL_PRIZE_FIELDS},
}
# ASCII digits only (int() would take "٣" and "1_000"), optional thousands
# commas, an optional ".0": never an exponent, so "1.221e3" is not draw 1221.
WHOLE_NUMBER = re.compile(
    r"-?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]{1,25})(?:\.0{1,10})?", re.ASCII
)


@dataclass(frozen=True)
class DrawRecord:
    draw_no: int
    draw_date: dt.date
    numbers: tuple[int, ...]  # ascending
    bonus: int
    total_sales: int | None = None
    first_prize_winners: int | None = None
    first_prize_amount: int | None = None
    rank2_winners: int | None = None
    rank2_prize_each: int | None = None
    rank3_winners: int | None = None
    rank3_prize_each: int | None = None
    rank4_winners: int | None = None
    rank4_prize_each: int | None = None
    rank5_winners: int | None = None
    rank5_prize_each: int | None = None

    def as_model_fields(self) -> dict:
        fields = asdict(self)
        numbers = fields.pop("numbers")
        return {**fields, **{f"n{i + 1}": n for i, n in enumerate(numbers)}}

    def prize_figures(self) -> dict:
        """The prize figures this record knows (None left out)."""
        values = {f: getattr(self, f) for f in ALL_PRIZE_FIELDS}
        return {f: v for f, v in values.items() if v is not None}


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
    if isinstance(value, float):
        text = repr(value)  # 1e+20 and nan have no plain spelling: refused
    elif isinstance(value, str):
        text = value.strip()
    else:
        raise ValueError  # a list, an object: not a number
    if not WHOLE_NUMBER.fullmatch(text):
        raise ValueError
    return int(text.split(".")[0].replace(",", ""))


def shown(value, limit: int = 40) -> str:
    """The value as a reason quotes it: its repr, cut to `limit` characters."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _parse_date(value) -> dt.date:
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise ValueError
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
            errors.append(
                RowError(row, key, _("not a whole number: %s") % shown(value))
            )
            continue
        if key == "draw_no" and values[key] < 1:
            errors.append(
                RowError(row, key, _("must be 1 or more, got %d") % values[key])
            )
        elif key == "draw_no" and values[key] > MAX_DRAW_NO:
            errors.append(
                RowError(
                    row,
                    key,
                    _("out of range 1-%(max)d: %(value)d")
                    % {"max": MAX_DRAW_NO, "value": values[key]},
                )
            )
            del values[key]
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
                RowError(row, "draw_date", _("unparseable date: %s") % shown(raw_date))
            )

    for key in OPTIONAL_KEYS:
        value = _lookup(raw, key)
        if value is None or str(value).strip() == "":
            values[key] = None
            continue
        try:
            values[key] = _parse_int(value)
        except (TypeError, ValueError):
            errors.append(
                RowError(row, key, _("not a whole number: %s") % shown(value))
            )
            continue
        if values[key] < 0:
            errors.append(
                RowError(row, key, _("must not be negative: %d") % values[key])
            )
        elif values[key] > UPPER_BOUNDS[key]:
            errors.append(
                RowError(
                    row,
                    key,
                    _("too large (at most %(max)d): %(value)s")
                    % {"max": UPPER_BOUNDS[key], "value": shown(values[key])},
                )
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
        **{key: values[key] for key in OPTIONAL_KEYS},
    )
    return record, []
