"""check_worker: the worker container's health check (a running cluster is
checked in tests/scaleout/test_two_hosts.py, against a real qcluster)."""

import socket

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

pytestmark = pytest.mark.django_db


def test_check_worker_fails_without_a_cluster_heartbeat_on_this_host():
    with pytest.raises(CommandError, match=socket.gethostname()):
        call_command("check_worker")


def test_check_worker_fails_without_a_heartbeat_on_any_host():
    with pytest.raises(CommandError, match=socket.gethostname()):
        call_command("check_worker", "--any-host")
