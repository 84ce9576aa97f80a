"""Property tests of the import parser: any input ends as rows or row errors.

Whatever bytes a file holds, `draw_import_file` either imports or raises
`DrawImportError` listing the problems, never another exception, and a refusal
writes nothing. The number of examples comes from the Hypothesis profile
(tests/draws/conftest.py): bounded in CI, more with HYPOTHESIS_PROFILE=thorough.
"""

import json

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from draws.models import LottoDraw
from draws.services import DrawImportError, draw_import_file
from draws.validation import FIELD_ALIASES, parse_draw

pytestmark = pytest.mark.django_db

# Function-scoped fixtures (db, tmp_path) are shared by the examples on purpose:
# each example checks the stored rows before and after itself.
uses_fixtures = hypothesis_settings(
    suppress_health_check=[HealthCheck.function_scoped_fixture]
)

ALIASES = sorted({alias for names in FIELD_ALIASES.values() for alias in names})
HEADER = "draw_no,draw_date,n1,n2,n3,n4,n5,n6,bonus,total_sales,rank2_winners"

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["1.221e3", "1,234", "12.0", "٣", "20021207", "2002-12-07", ""]),
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)
draw_like = st.dictionaries(st.sampled_from(ALIASES), json_values, max_size=14)
numberish = st.one_of(
    st.integers(min_value=-5, max_value=50).map(str),
    st.sampled_from(["", "1e3", "3000000000", "1,000", "7.0", "x", "\x00", '"']),
)
csv_rows = st.lists(st.lists(numberish, min_size=0, max_size=12), max_size=8)


def stored():
    return list(LottoDraw.objects.order_by("draw_no").values())


def import_ends_cleanly(path) -> None:
    """Import `path`: it succeeds, or it is refused with row errors and no write."""
    before = stored()
    refusal = None
    try:
        draw_import_file(path)
    except DrawImportError as exc:
        refusal = exc
    if refusal is not None:
        assert refusal.errors
        assert refusal.summary().startswith("Refused ")
        assert stored() == before


@uses_fixtures
@given(content=st.binary(max_size=2048))
def test_any_bytes_as_csv_end_in_rows_or_row_errors(tmp_path, content):
    path = tmp_path / "any.csv"
    path.write_bytes(content)

    import_ends_cleanly(path)


@uses_fixtures
@given(content=st.binary(max_size=2048))
def test_any_bytes_as_json_end_in_rows_or_row_errors(tmp_path, content):
    path = tmp_path / "any.json"
    path.write_bytes(content)

    import_ends_cleanly(path)


@uses_fixtures
@given(rows=csv_rows)
def test_any_csv_cells_end_in_rows_or_row_errors(tmp_path, rows):
    path = tmp_path / "cells.csv"
    path.write_text(HEADER + "\n" + "\n".join(",".join(row) for row in rows) + "\n")

    import_ends_cleanly(path)


@uses_fixtures
@given(payload=st.one_of(draw_like, st.lists(draw_like, max_size=4), json_values))
def test_any_json_document_ends_in_rows_or_row_errors(tmp_path, payload):
    path = tmp_path / "doc.json"
    path.write_text(json.dumps(payload))

    import_ends_cleanly(path)


@given(raw=draw_like)
def test_parse_draw_gives_a_record_or_errors_never_both(raw):
    record, errors = parse_draw(raw, row=1, require_cadence=True)

    assert (record is None) == bool(errors)
    if record is not None:
        assert len(set(record.numbers)) == 6
        assert all(1 <= n <= 45 for n in (*record.numbers, record.bonus))
        assert record.bonus not in record.numbers
