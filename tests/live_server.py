"""A gunicorn on 127.0.0.1 for tests that need a real server process.

Used by the API fuzz (tests/test_api_fuzz.py) and the database-down test. Every
wait is bounded; stop() ends only the process group started here.
"""

import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.mlops.processes import PYTHON, ROOT
from tests.observability.stack import free_port


def http(url: str, *, headers: dict | None = None, timeout: float = 30):
    """(status, headers, body bytes) of a GET; HTTP errors are answers too."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read()


class LiveServer:
    """`gunicorn lotto_site.wsgi` with `env`, logging to workdir/gunicorn.log."""

    def __init__(self, workdir: Path, env: dict, *, workers: int = 2):
        self.env = env
        self.workers = workers
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = Path(workdir) / f"gunicorn-{self.port}.log"
        self.process = None

    def start(self, *, ready_path: str = "/healthz", timeout: float = 120) -> None:
        log = open(self.log_path, "wb")  # the child keeps it open
        self.process = subprocess.Popen(
            [
                str(PYTHON),
                "-m",
                "gunicorn",
                "lotto_site.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(self.workers),
                "--timeout",
                "120",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stop() ends all of it
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{self.log()[-3000:]}")
            try:
                if http(self.base_url + ready_path, timeout=2)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        raise TimeoutError(f"gunicorn did not answer:\n{self.log()[-3000:]}")

    def get(self, path: str, **kwargs):
        return http(self.base_url + path, **kwargs)

    def log(self) -> str:
        return (
            self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        )

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
