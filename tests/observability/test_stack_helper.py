"""The process-test stack shares Redis: it deletes only the keys it created."""

import os

import psycopg2
import pytest
import redis

from tests.dependencies import missing_dependency
from tests.observability import stack as stack_module
from tests.observability.stack import Stack, redis_client

# The suite's own Redis database (CI: 15; a developer sets theirs).
REDIS_URL = os.environ.get("Q_REDIS_TEST_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def shared_redis(monkeypatch):
    monkeypatch.setattr(stack_module, "STACK_REDIS_URL", REDIS_URL)
    client = redis_client(REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError as exc:
        missing_dependency(f"needs Redis on 127.0.0.1: {exc}")
    return client


def test_a_stack_leaves_other_users_keys_alone(tmp_path, shared_redis):
    # Somebody else's queue and data in the same database, before and during.
    others = {
        "django_q:someone_else:q": b"task",
        "someone:else:data": b"keep me",
    }
    for key, value in others.items():
        shared_redis.set(key, value, ex=600)
    try:
        stack = Stack(tmp_path / "stack")
        stack.create()
    except psycopg2.OperationalError as exc:
        missing_dependency(f"needs PostgreSQL on 127.0.0.1: {exc}")
    try:
        assert stack.env["Q_REDIS_URL"] == REDIS_URL
        name = stack.env["Q_CLUSTER_NAME"]
        assert shared_redis.exists(stack_module.CLAIM_PREFIX + name)
        # What the stack's cluster writes: its queue and its stats.
        shared_redis.rpush(f"django_q:{name}:q", b"our task")
        shared_redis.set(f"django_q:{name}:cluster:abc", b"stat", ex=600)
        a_second = Stack(tmp_path / "second")
        assert a_second.env["Q_CLUSTER_NAME"] != name  # each its own namespace
        stack_module.release_redis_namespace(REDIS_URL, a_second.redis_namespace)
    finally:
        stack.destroy()
    try:
        for key, value in others.items():
            assert shared_redis.get(key) == value, key
        assert not list(shared_redis.scan_iter(match=f"django_q:{name}:*"))
        assert not shared_redis.exists(stack_module.CLAIM_PREFIX + name)
    finally:
        shared_redis.delete(*others)
