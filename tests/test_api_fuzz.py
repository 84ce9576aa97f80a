"""Property-based fuzz of the whole HTTP API from its own OpenAPI schema.

A live gunicorn on the production settings (its own database, a trained model)
answers every operation /api/schema/ lists, with inputs schemathesis generates
from the schema (valid and invalid: each operation runs in both of schemathesis'
generation modes), three times each: anonymous, as a staff user
without any permission, and as a superuser. Every answer must be below 500 and
match what the schema documents for it (status code, content type, body).

Budget: FUZZ_MAX_EXAMPLES generated cases per operation (default 10; schemathesis
adds its deterministic coverage cases), under the Hypothesis profile of the run
(HYPOTHESIS_PROFILE=ci in CI: derandomized, no example database).
"""

import os

import pytest
import schemathesis
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.live_server import LiveServer
from tests.mlops.processes import FreshDatabase, manage, subprocess_env

pytestmark = pytest.mark.slow

FUZZ_MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "10"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# One process prepares the database (a Django start-up each would cost seconds):
# the real migrations, the shipped draws, a trained model, two users.
PREPARE = """
from django.core.management import call_command
call_command("migrate", "--noinput", verbosity=0)
call_command("import_draws")
call_command("train_model")
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
User = get_user_model()
admin = User.objects.create_superuser("fuzz-admin", password=None)
staff = User.objects.create_user("fuzz-staff", password=None, is_staff=True)
print(Token.objects.create(user=admin).key, Token.objects.create(user=staff).key)
"""


def schema_operations() -> list[tuple[str, str]]:
    """(path, METHOD) of every operation, from the schema generated in-process.

    The test itself fuzzes the live server's /api/schema/; this only names the
    cases at collection time, so that each operation passes or fails on its own.
    """
    document = SchemaGenerator().get_schema(request=None, public=True)
    return [
        (path, method.upper())
        for path, item in sorted(document["paths"].items())
        for method in item
        if method.upper() in HTTP_METHODS
    ]


HTTP_METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}
OPERATIONS = schema_operations()


class FuzzServer:
    """gunicorn with a fresh, migrated, seeded database, a model and two users."""

    def __init__(self, workdir):
        self.database = FreshDatabase(workdir, prefix="lotto_fuzz")
        env = subprocess_env(
            workdir,
            DEBUG="0",
            ALLOWED_HOSTS="127.0.0.1",
            LOG_LEVEL="WARNING",
            # The fuzz must reach the code, not the rate limit.
            API_THROTTLE_ANON="1000000/min",
            API_THROTTLE_USER="1000000/min",
            **({"DATABASE_URL": self.database.url} if self.database.url else {}),
        )
        for name in ("REDIS_URL", "PROMETHEUS_MULTIPROC_DIR"):
            env.pop(name, None)
        self.server = LiveServer(workdir, env)
        self.base_url = self.server.base_url
        self.credentials = {}

    def start(self) -> None:
        env = self.server.env
        output = manage(env, "shell", "-c", PREPARE)
        admin, staff = output.strip().splitlines()[-1].split()
        self.credentials = {
            "anonymous": {},
            "staff without permissions": {"Authorization": f"Token {staff}"},
            "superuser": {"Authorization": f"Token {admin}"},
        }
        self.server.start()

    def log(self) -> str:
        return self.server.log()

    def stop(self) -> None:
        try:
            self.server.stop()
        finally:
            self.database.drop()


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory):
    server = FuzzServer(tmp_path_factory.mktemp("fuzz"))
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def api_schema(fuzz_server):
    return schemathesis.openapi.from_url(
        f"{fuzz_server.base_url}/api/schema/?format=json", timeout=60
    )


@pytest.mark.parametrize(
    ("path", "method"), OPERATIONS, ids=[f"{m} {p}" for p, m in OPERATIONS]
)
@pytest.mark.parametrize("mode", list(GenerationMode), ids=str)
def test_no_input_makes_an_api_operation_fail_or_break_its_schema(
    api_schema, fuzz_server, path, method, mode
):
    operation = api_schema[path][method]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        parent=settings(),  # the run's profile (HYPOTHESIS_PROFILE)
        max_examples=FUZZ_MAX_EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    def every_identity_gets_a_documented_answer(case):
        for who, headers in fuzz_server.credentials.items():
            response = case.call(
                base_url=fuzz_server.base_url, headers=headers, timeout=60
            )
            try:
                case.validate_response(response, checks=CHECKS, headers=headers)
            except Exception as failure:
                failure.add_note(f"as {who}; server log:\n{fuzz_server.log()[-1500:]}")
                raise

    try:
        every_identity_gets_a_documented_answer()
    except Unsatisfiable:
        if mode is GenerationMode.POSITIVE:
            raise
        pytest.skip("no input of this operation can be made invalid")


def test_the_fuzz_credentials_are_what_they_claim(fuzz_server):
    """The three identities really differ: 401, 403 and 200 on a staff endpoint."""
    answers = {
        who: fuzz_server.server.get("/api/admin/retrain-runs/", headers=headers)[0]
        for who, headers in fuzz_server.credentials.items()
    }
    assert answers == {
        "anonymous": 401,
        "staff without permissions": 403,
        "superuser": 200,
    }
