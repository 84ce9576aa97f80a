"""./run in a subprocess: the addresses it prints answer, and SIGTERM stops everything."""

import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.mlops.processes import ROOT, subprocess_env

STARTUP_SECONDS = 240


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def group_members(pgid: int) -> list[int]:
    """The live processes of process group `pgid` (zombies excluded)."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        # The fields after the command name, which may hold spaces: ") S ppid pgrp".
        fields = text.rsplit(")", 1)[1].split()
        if fields[0] != "Z" and int(fields[2]) == pgid:
            members.append(int(stat.parent.name))
    return members


def status_of(url: str) -> int:
    request = urllib.request.Request(url, headers={"Accept": "*/*"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def wait_for_addresses(process, log: Path) -> list[str]:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()[-3000:]
        urls = re.findall(r"^\s+(http://\S+)", log.read_text(), re.MULTILINE)
        ready = [u for u in urls if u.endswith("/readyz")]
        if ready:
            try:
                if status_of(ready[0]) == 200:
                    return urls
            except OSError:
                pass
        time.sleep(0.5)
    raise AssertionError(f"./run did not become ready:\n{log.read_text()[-3000:]}")


@pytest.mark.slow
def test_run_serves_the_addresses_it_prints_and_sigterm_stops_both_processes(
    tmp_path,
):
    port = free_port()
    env = subprocess_env(tmp_path, PORT=str(port), HOST="127.0.0.1")
    log = tmp_path / "run.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            ["bash", str(ROOT / "run")],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: we can count it
        )
    try:
        urls = wait_for_addresses(process, log)
        assert len(urls) >= 5
        for url in urls:
            assert url.startswith(f"http://127.0.0.1:{port}/")
            assert status_of(url) in (200, 302), url  # 302: the admin's login
        # ./run itself, runserver, qcluster and its workers.
        assert len(group_members(process.pid)) >= 3

        process.send_signal(signal.SIGTERM)  # the shell only, as `kill` does
        assert process.wait(timeout=60) == 143
        deadline = time.monotonic() + 30
        while group_members(process.pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert group_members(process.pid) == [], log.read_text()[-3000:]
    finally:
        if process.poll() is None or group_members(process.pid):
            try:
                process.send_signal(signal.SIGKILL)
                for pid in group_members(process.pid):
                    subprocess.run(["kill", "-9", str(pid)], check=False)
            except ProcessLookupError:
                pass
