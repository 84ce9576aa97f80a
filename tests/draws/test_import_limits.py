"""import_draws against hostile files: size, error flood, huge numbers, deep JSON,
long names; and the prize tiers read from every naming."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from draws.models import LottoDraw
from draws.services import MAX_LISTED_PROBLEMS, DrawImportError, draw_import_file
from draws.validation import RowError

pytestmark = pytest.mark.django_db

HEADER = "draw_no,draw_date,n1,n2,n3,n4,n5,n6,bonus"
GOOD_ROW = "3,2002-12-21,1,2,3,4,5,6,7"


def refused(path) -> DrawImportError:
    before = list(LottoDraw.objects.values_list("draw_no", "updated_at"))
    with pytest.raises(DrawImportError) as excinfo:
        draw_import_file(path)
    assert list(LottoDraw.objects.values_list("draw_no", "updated_at")) == before
    return excinfo.value


def test_a_file_over_the_size_limit_is_refused_without_reading_it_all(
    tmp_path, settings
):
    settings.DRAWS_IMPORT_MAX_BYTES = 1000
    path = tmp_path / "big.csv"
    path.write_text(HEADER + "\n" + (GOOD_ROW + "\n") * 100)

    error = refused(path)

    assert error.errors == [
        RowError(
            "-",
            "file",
            "larger than 1000 bytes (DRAWS_IMPORT_MAX_BYTES); the whole history is "
            "about 100 KB",
        )
    ]


def test_an_endless_device_is_refused_at_the_limit(settings):
    settings.DRAWS_IMPORT_MAX_BYTES = 100_000

    error = refused("/dev/zero")

    assert "larger than 100000 bytes" in error.errors[0].reason


def test_the_shipped_history_fits_the_default_limit(settings):
    assert settings.DRAWS_SHIPPED_CSV.stat().st_size < settings.DRAWS_IMPORT_MAX_BYTES


def test_a_flood_of_bad_rows_prints_a_bounded_list(tmp_path):
    path = tmp_path / "junk.csv"
    path.write_text(HEADER + "\n" + "x,y,z\n" * 500)

    with pytest.raises(CommandError) as excinfo:
        call_command("import_draws", str(path), stdout=io.StringIO())

    lines = str(excinfo.value).splitlines()
    total = 500 * 9  # every field of every row
    assert lines[0] == f"Refused {path}: {total} problem(s), nothing was written."
    assert len(lines) == 1 + MAX_LISTED_PROBLEMS + 1
    assert lines[-1] == f"and {total - MAX_LISTED_PROBLEMS} more problem(s)"


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("draw_no", "3000000000", "out of range 1-99999: 3000000000"),
        ("draw_no", "1.221e3", "not a whole number: '1.221e3'"),
        ("draw_no", "1221e0", "not a whole number: '1221e0'"),
        ("draw_no", "١٢٢١", "not a whole number: '١٢٢١'"),
        ("draw_no", "1_221", "not a whole number: '1_221'"),
        ("n1", "9" * 5000, "not a whole number: '" + "9" * 36 + "..."),
        ("total_sales", "100000000000000000000", "too large"),
        ("rank1_winners", "3000000000", "too large (at most 2147483647)"),
        ("rank3_prize_each", "1e20", "not a whole number: '1e20'"),
    ],
)
def test_an_out_of_range_or_odd_number_is_a_row_error(tmp_path, field, value, reason):
    header = HEADER + ",total_sales,rank1_winners,rank3_prize_each"
    row = dict(zip(header.split(","), (GOOD_ROW + ",1,1,1").split(","), strict=True))
    row[field] = f'"{value}"'
    path = tmp_path / "odd.csv"
    path.write_text(header + "\n" + ",".join(row.values()) + "\n")

    error = refused(path)

    assert len(error.errors) == 1
    named = {"rank1_winners": "first_prize_winners"}.get(field, field)
    assert (error.errors[0].row, error.errors[0].field) == (2, named)
    assert error.errors[0].reason.startswith(reason)


@pytest.mark.parametrize(
    ("literal", "reason"),
    [
        ("1.221e3", "not a whole number: '1.221e3'"),
        ("3000000000", "out of range 1-99999: 3000000000"),
        ("-1", "must be 1 or more, got -1"),
        ("true", "not a whole number: True"),
        ("[1]", "not a whole number: [1]"),
    ],
)
def test_json_numbers_are_held_to_the_same_rules(tmp_path, literal, reason):
    draw = '{"draw_no": %s, "draw_date": "2002-12-21", "n1": 1, "n2": 2, "n3": 3, '
    draw += '"n4": 4, "n5": 5, "n6": 6, "bonus": 7, "total_sales": 1e20}'
    path = tmp_path / "odd.json"
    path.write_text(draw % literal)

    error = refused(path)

    assert RowError(1, "draw_no", reason) in error.errors
    assert RowError(1, "total_sales", "not a whole number: '1e20'") in error.errors


def test_deeply_nested_json_is_one_clear_error(tmp_path):
    path = tmp_path / "deep.json"
    path.write_text("[" * 200_000 + "]" * 200_000)

    error = refused(path)

    assert error.errors == [
        RowError("-", "json", "nested too deeply to be a list of draws")
    ]


@pytest.mark.parametrize(
    ("content", "field"),
    [
        (b"\xff\xfe\x00b", "file"),
        (HEADER.encode() + b"\n" + b'"' + b"a" * 200_000 + b'"\n', "csv"),
    ],
)
def test_unreadable_bytes_are_one_clear_error(tmp_path, content, field):
    path = tmp_path / "odd.csv"
    path.write_bytes(content)

    error = refused(path)

    assert [e.field for e in error.errors] == [field]


def test_a_nul_byte_is_a_row_error_not_a_crash(tmp_path):
    path = tmp_path / "nul.csv"
    path.write_bytes(HEADER.encode() + b"\n3,2002-12-21,1,2,3,4,5,\x00,7\n")

    error = refused(path)

    assert error.errors == [RowError(2, "n6", "not a whole number: '\\x00'")]


def test_a_long_file_name_is_stored_cut_to_the_source_column(tmp_path):
    path = tmp_path / ("history-export-from-the-old-spreadsheet-" + "x" * 150 + ".csv")
    path.write_text(HEADER + "\n" + GOOD_ROW + "\n")

    draw_import_file(path)

    source = LottoDraw.objects.get(draw_no=3).source
    assert len(source) == LottoDraw._meta.get_field("source").max_length
    assert source.startswith("file:history-export-from-the-old")
    assert source.endswith("…")


# --- Prize tiers -----------------------------------------------------------------------

PRIZE_HEADER = (
    HEADER
    + ","
    + ",".join(
        f"rank{k}_{kind}" for k in range(1, 6) for kind in ("winners", "prize_each")
    )
)


def test_a_csv_gives_every_rank_its_winners_and_prize(tmp_path):
    path = tmp_path / "prizes.csv"
    figures = "1,10,2,20,3,30,4,40,5,50"
    path.write_text(f"{PRIZE_HEADER}\n{GOOD_ROW},{figures}\n")

    draw_import_file(path)

    draw = LottoDraw.objects.get(draw_no=3)
    assert draw.prizes == [
        {"rank": k, "winners": k, "prize_each": 10 * k} for k in range(1, 6)
    ]


def test_the_current_official_json_gives_every_rank(tmp_path, settings):
    body = json.loads(
        (settings.BASE_DIR / "tests/draws/recorded/current_1221.json").read_text()
    )
    path = tmp_path / "current.json"
    path.write_text(json.dumps(body))

    draw_import_file(path)

    draw = LottoDraw.objects.get(draw_no=1221)
    assert [(p["winners"], p["prize_each"]) for p in draw.prizes] == [
        (13, 2174130462),
        (81, 58155803),
        (3120, 1509786),
        (152977, 50000),
        (2577391, 5000),
    ]


def test_an_import_fills_in_the_missing_prizes_of_a_stored_draw_only(
    tmp_path, draw_factory
):
    draw_factory(
        draw_no=3,
        n1=1,
        n2=2,
        n3=3,
        n4=4,
        n5=5,
        n6=6,
        bonus=7,
        rank2_winners=None,
        rank2_prize_each=None,
        rank5_winners=999,
    )
    path = tmp_path / "prizes.csv"
    path.write_text(f"{PRIZE_HEADER}\n{GOOD_ROW},1,10,2,20,3,30,4,40,5,50\n")

    out = io.StringIO()
    call_command("import_draws", str(path), stdout=out)

    draw = LottoDraw.objects.get(draw_no=3)
    assert (draw.rank2_winners, draw.rank2_prize_each) == (2, 20)
    assert draw.rank5_winners == 999  # a known figure is never rewritten
    assert draw.first_prize_winners == 10  # the factory's, kept
    assert "Filled in missing prize figures of 1 stored draw(s) (3)." in out.getvalue()


def test_a_stored_draw_with_other_numbers_is_still_refused(tmp_path, draw_factory):
    draw_factory(draw_no=3, rank2_winners=None)
    path = tmp_path / "prizes.csv"
    path.write_text(f"{PRIZE_HEADER}\n{GOOD_ROW},1,10,2,20,3,30,4,40,5,50\n")

    error = refused(path)

    assert "already stored as" in error.errors[0].reason
    assert LottoDraw.objects.get(draw_no=3).rank2_winners is None
