"""GET /api/recommendations/: parameters, the response, and the OpenAPI schema."""

import math

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from draws.models import expected_draw_date
from mlops.ml import metrics
from mlops.models import Prediction
from recommendations.api.serializers import RecommendationOutputSerializer
from recommendations.services.recommendation import DISCLAIMER
from tests.factories import store_draws

URL = "/api/recommendations/"
# `trained` (conftest): 520 synthetic draws and an active model trained on them.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_forecast_cache")]


@pytest.fixture
def client():
    return APIClient()


@pytest.fixture
def few_draws(model_root):
    """Too few draws for the model: statistical mode, still a full answer."""
    store_draws(60)


def test_it_recommends_five_games_from_the_active_model_by_default(client, trained):
    response = client.get(URL)

    assert response.status_code == 200
    body = response.json()
    assert len(body["games"]) == 5
    for game in body["games"]:
        assert game == sorted(set(game))
        assert len(game) == 6
        assert 1 <= game[0] <= game[-1] <= 45
    assert body["mode"] == "ml"
    assert body["model_version"] == trained.version
    assert body["feature_set_version"] == trained.feature_set_version
    assert body["fallback_reason"] is None
    assert body["target_draw"] == {
        "draw_no": 521,
        "date": expected_draw_date(521).isoformat(),
    }
    assert [p["number"] for p in body["probabilities"]] == list(range(1, 46))
    assert math.isclose(sum(p["probability"] for p in body["probabilities"]), 6)
    assert body["disclaimer"] == DISCLAIMER
    assert "no recommendation" in body["disclaimer"]
    # The body has exactly the shape the OpenAPI schema declares.
    declared = RecommendationOutputSerializer(data=body)
    assert declared.is_valid(), declared.errors
    assert set(declared.fields) == set(body)


def test_it_shows_the_validation_figures_next_to_their_random_baselines(
    client, trained
):
    body = client.get(URL).json()

    stored = trained.validation_metrics
    shown = {row["name"]: row for row in body["validation"]["metrics"]}
    assert body["validation"]["sample_size"] == stored["sample_size"]
    assert set(shown) == {
        "mean_hits",
        "any_hit_rate",
        "prize_rate",
        "brier_score",
        "brier_skill_score",
    }
    assert shown["mean_hits"]["value"] == stored["mean_hits"]["value"]
    assert shown["mean_hits"]["random_baseline"] == metrics.random_mean_hits()
    assert shown["brier_score"]["random_baseline"] == metrics.uniform_brier_score()
    assert shown["brier_score"]["higher_is_better"] is False
    assert shown["mean_hits"]["verdict"] == stored["mean_hits"]["verdict"]
    assert shown["mean_hits"]["interval"] == stored["mean_hits"]["interval"]


def test_statistical_mode_says_why_and_shows_no_model_figures(client, few_draws):
    body = client.get(URL).json()

    assert body["mode"] == "statistical"
    assert body["fallback_reason"] == "insufficient_draws"
    assert body["model_version"] is None
    assert body["validation"] is None
    assert body["target_draw"]["draw_no"] == 61
    assert body["disclaimer"] == DISCLAIMER


def test_the_same_seed_gives_the_same_games(client, few_draws):
    first = client.get(URL, {"seed": 42, "count": 10}).json()["games"]
    again = client.get(URL, {"seed": 42, "count": 10}).json()["games"]
    other = client.get(URL, {"seed": 43, "count": 10}).json()["games"]

    assert first == again
    assert first != other


def test_include_and_exclude_are_honoured(client, few_draws):
    response = client.get(
        URL, {"count": 10, "include": "3,7", "exclude": "1,2,4", "seed": 5}
    )

    assert response.status_code == 200
    games = response.json()["games"]
    assert len({tuple(g) for g in games}) == 10
    for game in games:
        assert {3, 7} <= set(game)
        assert not {1, 2, 4} & set(game)


def test_numbers_can_be_repeated_parameters_or_comma_separated(client, few_draws):
    repeated = client.get(f"{URL}?include=3&include=7,9&exclude=1&seed=2").json()
    commas = client.get(f"{URL}?include=3,7,9&exclude=1&seed=2").json()

    assert repeated["games"] == commas["games"]
    for game in repeated["games"]:
        assert {3, 7, 9} <= set(game)


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"count": 0}, "count", "greater than or equal to 1"),
        ({"count": 11}, "count", "less than or equal to 10"),
        ({"count": "five"}, "count", "valid integer"),
        ({"include": "0"}, "include", "between 1 and 45"),
        ({"include": "46"}, "include", "between 1 and 45"),
        ({"exclude": "3,99"}, "exclude", "between 1 and 45"),
        ({"include": "3,x"}, "include", "'x' is not a whole number"),
        ({"include": "-3"}, "include", "'-3' is not a whole number"),
        ({"include": "2.5"}, "include", "'2.5' is not a whole number"),
        ({"include": "3,3"}, "include", "repeated: [3]"),
        ({"exclude": "8,8"}, "exclude", "repeated: [8]"),
        ({"include": "1,2,3,4,5,6"}, "include", "At most 5"),
        ({"include": "3,7", "exclude": "7,9"}, "exclude", "both included and excluded"),
        ({"exclude": ",".join(map(str, range(1, 41)))}, "exclude", "At most 39"),
        ({"seed": -1}, "seed", "greater than or equal to 0"),
        ({"seed": "abc"}, "seed", "valid integer"),
        ({"seed": 2**63}, "seed", "less than or equal to"),
        (
            {
                "count": 7,
                "include": "1,2,3,4,5",
                "exclude": ",".join(map(str, range(12, 46))),
            },
            "count",
            "Only 6 different game(s)",
        ),
    ],
)
def test_bad_parameters_get_a_400_naming_the_field(
    client, few_draws, params, field, message
):
    response = client.get(URL, params)

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert field in errors, errors
    texts = [error["message"] for error in errors[field]]
    assert any(message in text for text in texts), texts
    assert not Prediction.objects.exists()  # refused before anything was computed


def test_every_bad_field_is_reported_in_one_answer(client, few_draws):
    response = client.get(URL, {"count": 11, "include": "3,3", "exclude": "50"})

    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"count", "include", "exclude"}


def test_the_largest_valid_request_is_accepted(client, few_draws):
    exclude = ",".join(map(str, range(12, 46)))  # 39 excluded, 11 numbers left
    response = client.get(
        URL, {"count": 6, "include": "1,2,3,4,5", "exclude": exclude, "seed": 0}
    )

    assert response.status_code == 200
    assert sorted(response.json()["games"]) == [
        [1, 2, 3, 4, 5, n] for n in range(6, 12)
    ]


def test_an_empty_history_is_a_503_with_a_clear_message(client, model_root):
    response = client.get(URL)

    assert response.status_code == 503
    assert "No draws are stored" in response.json()["detail"]


def test_each_response_counts_as_a_serving_of_the_recorded_forecast(client, trained):
    for _ in range(3):
        assert client.get(URL).status_code == 200

    prediction = Prediction.objects.get(target_draw_no=521)
    assert prediction.forecaster == trained.version
    assert prediction.served_count == 3


def test_the_schema_lists_the_endpoint_and_its_parameters(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")

    assert response.status_code == 200
    schema = response.json()
    operation = schema["paths"]["/api/recommendations/"]["get"]
    names = {parameter["name"] for parameter in operation["parameters"]}
    assert {"count", "include", "exclude", "seed"} <= names
    assert {"200", "400", "503"} <= set(operation["responses"])
    output = schema["components"]["schemas"]["RecommendationOutput"]
    assert {"games", "mode", "disclaimer", "validation"} <= set(output["properties"])


def test_the_docs_page_renders(client):
    response = client.get("/api/docs/")

    assert response.status_code == 200
    assert b"swagger" in response.content.lower()


def test_a_warm_request_runs_no_database_query(client, trained, settings):
    # As deployed: the state is re-read every few seconds, servings are written
    # in batches; between those a request is answered from the process's cache.
    settings.ML_ACTIVE_CHECK_SECONDS = 3600
    settings.ML_SERVED_FLUSH_SECONDS = 3600
    assert client.get(URL).status_code == 200  # computes and records the forecast

    with CaptureQueriesContext(connection) as queries:
        response = client.get(URL, {"count": 5})

    assert response.status_code == 200
    assert [query["sql"] for query in queries] == []


def test_parameters_seen_before_are_validated_the_same_way(client, few_draws):
    params = {"count": 3, "include": "3", "exclude": "4,5", "seed": 11}
    first = client.get(URL, params)
    second = client.get(URL, params)  # the remembered validation

    assert first.status_code == second.status_code == 200
    assert first.content == second.content
    assert all(3 in game and not {4, 5} & set(game) for game in first.json()["games"])
    # A refused set is refused again, with its message in the reader's language.
    for language, message in (("en", "less than or equal to 10"), ("ko", "10보다")):
        refused = client.get(URL, {"count": 11}, HTTP_ACCEPT_LANGUAGE=language)
        assert refused.status_code == 400
        assert message in refused.json()["errors"]["count"][0]["message"]
