"""The orjson renderer answers what DRF's own JSON renderer answers."""

import datetime as dt
import json
from decimal import Decimal

import numpy as np
from django.utils.translation import gettext_lazy
from rest_framework.renderers import JSONRenderer

from lotto_site.renderers import FastJSONRenderer


def test_it_renders_the_same_json_as_drf_for_the_types_our_views_return():
    data = {
        "text": "로또 6/45",
        "lazy": gettext_lazy("Lottery draws are random."),
        "amount": Decimal("12.50"),
        "date": dt.date(2026, 4, 25),
        "numbers": [1, 2, 3],
        "probability": 0.1333,
        "nothing": None,
    }
    ours = json.loads(FastJSONRenderer().render(data))
    drf = json.loads(JSONRenderer().render(data))
    assert ours == drf


def test_it_renders_numpy_values_as_plain_numbers():
    rendered = json.loads(FastJSONRenderer().render({"p": np.float64(0.25)}))
    assert rendered == {"p": 0.25}


def test_an_indented_answer_asked_for_by_a_person_keeps_drfs_indentation():
    rendered = FastJSONRenderer().render({"a": 1}, "application/json; indent=2")
    assert rendered == b'{\n  "a": 1\n}'


def test_every_datetime_is_written_with_the_korean_offset():
    moment = dt.datetime(2026, 12, 7, 15, 0, tzinfo=dt.UTC)  # 00:00 KST next day
    data = {"at": moment, "nested": [{"at": moment}], "day": dt.date(2026, 12, 8)}

    fast = json.loads(FastJSONRenderer().render(data))
    people = json.loads(FastJSONRenderer().render(data, "application/json; indent=2"))

    expected = "2026-12-08T00:00:00+09:00"
    assert (
        fast
        == people
        == {"at": expected, "nested": [{"at": expected}], "day": "2026-12-08"}
    )
