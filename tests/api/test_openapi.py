"""The OpenAPI schema and /api/docs/: descriptions for consumers, every response
typed, one ErrorResponse on every error status, no CDN; and real answers have
the shape the schema declares."""

import pytest
from django.urls import get_resolver
from drf_spectacular.generators import SchemaGenerator
from rest_framework import serializers
from rest_framework.test import APIClient

from mlops.api import outputs
from mlops.services.training.training import model_version_train
from tests.mlops.test_predictions import record_scored

pytestmark = pytest.mark.django_db

HOW_TO_FIX = (
    "give the view's method @extend_schema(summary=_(...), description=_(...), "
    "responses=<a serializer>) (lotto_site/api/schema.py adds the error statuses)"
)


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def operations(schema):
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            yield f"{method.upper()} {path}", operation


def resolve(schema, node: dict) -> dict:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def test_every_operation_has_a_summary_and_a_consumer_description(schema):
    docstrings = {
        " ".join(callback.view_class.__doc__.split())
        for callback in iter_views(get_resolver())
        if getattr(callback, "view_class", None) and callback.view_class.__doc__
    }
    missing = [
        name
        for name, operation in operations(schema)
        if not operation.get("summary") or not operation.get("description")
    ]
    leaked = [
        name
        for name, operation in operations(schema)
        if " ".join(operation.get("description", "").split()) in docstrings
    ]

    assert not missing, f"no summary or description: {missing}; {HOW_TO_FIX}"
    assert not leaked, f"a view's docstring is published: {leaked}"


def iter_views(resolver):
    for pattern in resolver.url_patterns:
        if hasattr(pattern, "url_patterns"):
            yield from iter_views(pattern)
        else:
            yield pattern.callback


def test_every_response_is_typed(schema):
    bare = []
    for name, operation in operations(schema):
        for status, response in operation["responses"].items():
            if status == "204":
                continue
            contents = response.get("content", {})
            if not contents:
                bare.append(f"{name} {status} (no body)")
            for content in contents.values():
                body = resolve(schema, content["schema"])
                if body.get("type") == "array":
                    body = resolve(schema, body["items"])
                if body.get("type") == "object" and not body.get("properties"):
                    bare.append(f"{name} {status}")

    assert not bare, f"untyped responses: {bare}; {HOW_TO_FIX}"


def test_every_error_status_answers_the_one_error_response(schema):
    error = schema["components"]["schemas"]["ErrorResponse"]
    assert set(error["properties"]) == {"detail", "code", "errors"}
    assert set(error["required"]) == {"detail", "code"}
    for name, operation in operations(schema):
        statuses = operation["responses"]
        for status in ("401", "500", "503", "429"):
            assert status in statuses, f"{name} does not document {status}"
        for status, response in statuses.items():
            if int(status) < 400:
                continue
            body = resolve(schema, response["content"]["application/json"]["schema"])
            assert {"detail", "code"} <= set(body["properties"]), (name, status)
            if status != "409":  # the retrain conflict adds the run in the way
                ref = response["content"]["application/json"]["schema"]["$ref"]
                assert ref.endswith("/ErrorResponse"), (name, status)


def test_operations_document_the_statuses_they_can_answer(schema):
    paths = schema["paths"]

    assert {"400", "404"} <= set(paths["/api/draws/"]["get"]["responses"])
    assert "404" in paths["/api/draws/{draw_no}/"]["get"]["responses"]
    assert "403" not in paths["/api/draws/{draw_no}/"]["get"]["responses"]
    retrain = paths["/api/admin/manual-retrain"]["post"]["responses"]
    assert {"202", "400", "401", "403", "409", "415", "429"} <= set(retrain)
    # Even ping answers 400 to a NUL character in its query (the request guard).
    assert "400" in paths["/api/ping/"]["get"]["responses"]


def test_the_docs_page_loads_swagger_ui_from_this_server(client):
    page = client.get("/api/docs/").content.decode()

    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in page
    for cdn in ("cdn.jsdelivr.net", "unpkg.com", "cdnjs"):
        assert cdn not in page
    assert (
        client.get(
            "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js"
        ).status_code
        == 200
    )


# --- Real answers have the declared shape ------------------------------------------


def assert_shape(body, serializer: serializers.Serializer, where: str = "body"):
    """Every key declared, nothing undeclared, nested serializers likewise."""
    declared = serializer.fields
    required = {name for name, field in declared.items() if field.required}
    assert set(body) <= set(declared), (
        f"{where}: undeclared {set(body) - set(declared)}"
    )
    assert required <= set(body), f"{where}: missing {required - set(body)}"
    for name, value in body.items():
        field = declared[name]
        if isinstance(field, serializers.ListSerializer) and value:
            for item in value:
                assert_shape(item, field.child, f"{where}.{name}[]")
        elif isinstance(field, serializers.Serializer) and value is not None:
            assert_shape(value, field, f"{where}.{name}")


@pytest.fixture
def admin_api(admin_user):
    client = APIClient()
    client.force_authenticate(admin_user)
    return client


def test_the_staff_answers_have_their_declared_shapes(admin_api, trained):
    version = trained.version
    for draw_no in (1001, 1002):  # scored forecasts: the figures are computed
        record_scored(draw_no, trained, 2)
    model_version_train(params={"seed": 2})  # `trained` is now the one to restore
    cases = [
        ("get", "/api/admin/monitor-status", outputs.MonitorStatusOutputSerializer()),
        ("get", "/api/admin/accuracy-trend", outputs.AccuracyTrendOutputSerializer()),
        ("get", "/api/admin/replay", outputs.ReplayedStatusOutputSerializer()),
        (
            "get",
            "/api/admin/scheduler-status",
            outputs.SchedulerStatusOutputSerializer(),
        ),
        ("post", "/api/admin/models/verify", outputs.ModelVerifyOutputSerializer()),
        ("post", "/api/admin/models/cleanup", outputs.ModelCleanupOutputSerializer()),
        (
            "post",
            f"/api/admin/models/{version}/backup",
            outputs.ModelBackupOutputSerializer(),
        ),
        (
            "post",
            f"/api/admin/models/{version}/restore",
            outputs.ModelStateOutputSerializer(),
        ),
    ]
    for method, url, serializer in cases:
        response = getattr(admin_api, method)(url, {"dry_run": True}, format="json")
        assert response.status_code in {200, 201}, (url, response.content)
        assert_shape(response.json(), serializer, url)

    history = admin_api.get(f"/api/admin/models/{version}/activations").json()
    assert history
    for period in history:
        assert_shape(period, outputs.ActivationOutputSerializer(), "activations")
