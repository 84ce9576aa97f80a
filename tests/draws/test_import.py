"""import_draws: the shipped history, official JSON namings, and refusals as a whole."""

import datetime as dt
import io
import json
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from draws.models import LottoDraw
from draws.services import DrawImportError, draw_import_file, draw_import_records
from draws.validation import DrawRecord, RowError

pytestmark = pytest.mark.django_db

RECORDED = Path(__file__).parent / "recorded"
HEADER = "draw_no,draw_date,n1,n2,n3,n4,n5,n6,bonus"


def import_draws(*args) -> str:
    out = io.StringIO()
    call_command("import_draws", *args, stdout=out)
    return out.getvalue()


def write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def csv_file(tmp_path, *rows: str, header: str = HEADER):
    return write(tmp_path, "draws.csv", "\n".join([header, *rows]) + "\n")


@pytest.fixture
def stored(draw_factory):
    """Draws 1 and 2 already stored: 2..7 + 45 and 3..8 + 45."""
    return [draw_factory(draw_no=1), draw_factory(draw_no=2)]


def test_it_imports_the_shipped_history():
    out = import_draws()

    assert (
        out.strip()
        == "Imported 1220 new draw(s) (1-1220); 0 already stored and unchanged."
    )
    assert LottoDraw.objects.count() == 1220
    first = LottoDraw.objects.get(draw_no=1)
    assert (first.numbers, first.bonus) == ([10, 23, 29, 33, 37, 40], 16)
    assert first.draw_date == dt.date(2002, 12, 7)
    assert LottoDraw.objects.get(draw_no=1220).draw_date == dt.date(2026, 4, 18)
    assert first.source == "file:lotto645_draws.csv"


def test_importing_again_is_a_no_op_that_says_so(shipped_draws):
    stamps = dict(LottoDraw.objects.values_list("draw_no", "created_at"))

    out = import_draws(str(settings.DRAWS_SHIPPED_CSV))

    assert out.strip() == "Nothing to import: all 1220 draw(s) already stored."
    assert dict(LottoDraw.objects.values_list("draw_no", "created_at")) == stamps


def test_an_import_overlapping_the_history_adds_only_the_new_draws(tmp_path, stored):
    path = csv_file(
        tmp_path, "2,2002-12-14,3,4,5,6,7,8,45", "3,2002-12-21,1,2,3,4,5,6,7"
    )

    out = import_draws(str(path))

    assert "Imported 1 new draw(s) (3); 1 already stored and unchanged." in out
    assert LottoDraw.objects.count() == 3


def test_it_imports_json_in_the_current_official_naming(tmp_path):
    envelope = json.loads((RECORDED / "current_1221.json").read_text())
    second = json.loads((RECORDED / "current_1222.json").read_text())
    envelope["data"]["list"].append(second["data"]["list"][0])
    path = write(tmp_path, "current.json", json.dumps(envelope))

    out = import_draws(str(path))

    assert "Imported 2 new draw(s) (1221-1222)" in out
    draw = LottoDraw.objects.get(draw_no=1222)
    assert (draw.numbers, draw.bonus) == ([2, 9, 16, 23, 30, 37], 44)
    assert draw.draw_date == dt.date(2026, 5, 2)
    assert (draw.first_prize_winners, draw.first_prize_amount) == (8, 3512274000)


def test_it_imports_json_in_the_legacy_official_naming(tmp_path):
    legacy = json.loads((RECORDED / "legacy_1221.json").read_text())
    path = write(tmp_path, "legacy.json", json.dumps([legacy]))

    out = import_draws(str(path))

    assert "Imported 1 new draw(s) (1221);" in out
    draw = LottoDraw.objects.get(draw_no=1221)
    assert (draw.numbers, draw.bonus) == ([3, 11, 19, 27, 35, 43], 7)
    assert (draw.draw_date, draw.total_sales) == (dt.date(2026, 4, 25), 121034871000)
    assert (draw.first_prize_winners, draw.first_prize_amount) == (13, 2174130462)


def test_numbers_given_unsorted_are_stored_ascending(tmp_path):
    path = csv_file(tmp_path, "1,2002-12-07,40,10,33,23,37,29,16")

    import_draws(str(path))

    assert LottoDraw.objects.get(draw_no=1).numbers == [10, 23, 29, 33, 37, 40]


def test_an_empty_file_imports_nothing_and_says_so(tmp_path):
    path = write(tmp_path, "empty.json", "[]")

    assert (
        import_draws(str(path)).strip()
        == "Nothing to import: the input holds no draws."
    )


BAD_INPUTS = {
    "a number out of range": (
        "draws.csv",
        f"{HEADER}\n3,2002-12-21,1,2,3,4,5,6,7\n4,2002-12-28,1,2,3,4,5,46,7\n",
        ["row 3, field n6: out of range 1-45: 46"],
    ),
    "a duplicate number": (
        "draws.csv",
        f"{HEADER}\n3,2002-12-21,5,5,13,24,35,41,7\n",
        ["row 2, field numbers: duplicate number(s): 5"],
    ),
    "the bonus among the numbers": (
        "draws.csv",
        f"{HEADER}\n3,2002-12-21,5,6,13,24,35,41,13\n",
        ["row 2, field bonus: 13 is among the six numbers"],
    ),
    "an existing draw with different numbers": (
        "draws.csv",
        f"{HEADER}\n1,2002-12-07,10,23,29,33,37,40,16\n",
        [
            "row 2, field draw_no: draw 1 is already stored as [2, 3, 4, 5, 6, 7] + 45 "
            "on 2002-12-07; this row says [10, 23, 29, 33, 37, 40] + 16 on 2002-12-07"
        ],
    ),
    "an unparseable date": (
        "draws.csv",
        f"{HEADER}\n3,2002-21-12,1,2,3,4,5,6,7\n",
        ["row 2, field draw_date: unparseable date: '2002-21-12'"],
    ),
    "a missing column": (
        "draws.csv",
        "draw_no,draw_date,n1,n2,n3,n4,n5,n6\n3,2002-12-21,1,2,3,4,5,6\n"
        "4,2002-12-28,1,2,3,4,5,7\n",
        ["row 2, field bonus: missing", "row 3, field bonus: missing"],
    ),
    "malformed JSON": (
        "draws.json",
        '[{"draw_no": 3, "draw_date": "2002-12-21",\n "n1": 1,,}]',
        [
            "row 2, field json: malformed JSON: Expecting property name enclosed in "
            "double quotes"
        ],
    ),
    "a duplicate draw with different numbers": (
        "draws.csv",
        f"{HEADER}\n3,2002-12-21,1,2,3,4,5,6,7\n3,2002-12-21,1,2,3,4,5,8,7\n",
        [
            "row 3, field draw_no: draw 3 already appears in row 2 with different numbers"
        ],
    ),
}


@pytest.mark.parametrize("case", BAD_INPUTS, ids=list(BAD_INPUTS))
def test_bad_input_is_refused_as_a_whole_with_one_line_per_problem(
    tmp_path, stored, case
):
    name, text, expected = BAD_INPUTS[case]
    path = write(tmp_path, name, text)
    before = LottoDraw.objects.count()

    with pytest.raises(CommandError) as excinfo:
        import_draws(str(path))

    head, *lines = str(excinfo.value).splitlines()
    assert head == f"Refused {path}: {len(expected)} problem(s), nothing was written."
    assert lines == expected
    assert LottoDraw.objects.count() == before


def test_a_missing_file_is_refused_in_one_line(tmp_path, stored):
    path = tmp_path / "nowhere.csv"
    before = LottoDraw.objects.count()

    with pytest.raises(CommandError) as excinfo:
        import_draws(str(path))

    assert str(excinfo.value).splitlines() == [
        f"Refused {path}: 1 problem(s), nothing was written.",
        "row -, field file: not found",
    ]
    assert LottoDraw.objects.count() == before


def test_a_csv_without_a_header_is_refused(tmp_path, stored):
    path = write(tmp_path, "draws.csv", "3,2002-12-21,1,2,3,4,5,6,7\n")
    before = LottoDraw.objects.count()

    with pytest.raises(CommandError, match="a CSV needs a header row"):
        import_draws(str(path))

    assert LottoDraw.objects.count() == before


def test_every_bad_row_is_reported_and_the_good_rows_are_not_stored_either(
    tmp_path, stored
):
    path = csv_file(
        tmp_path,
        "3,2002-12-21,1,2,3,4,5,6,7",
        "4,2002-12-28,0,2,3,4,5,6,7",
        "5,2003-01-04,1,2,3,4,5,6,7",
        "6,someday,1,2,3,4,5,6,7",
    )
    before = LottoDraw.objects.count()

    with pytest.raises(DrawImportError) as excinfo:
        draw_import_file(path)

    assert excinfo.value.errors == [
        RowError(3, "n1", "out of range 1-45: 0"),
        RowError(5, "draw_date", "unparseable date: 'someday'"),
    ]
    assert LottoDraw.objects.count() == before


def test_the_database_refusing_a_store_is_reported_not_raised_raw(stored):
    # A record that skipped validation: the constraints still hold the line.
    bad = DrawRecord(3, dt.date(2002, 12, 21), (1, 2, 3, 4, 5, 50), 7)
    before = LottoDraw.objects.count()

    with pytest.raises(DrawImportError, match="field database: refused the rows"):
        draw_import_records([bad], source="test")

    assert LottoDraw.objects.count() == before
