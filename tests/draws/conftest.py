"""Fixtures for the draws tests: a draw factory and a local replay of the official site."""

import os
import socket
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import factory
import hypothesis
import pytest
from django.utils import timezone

from draws.models import LottoDraw, expected_draw_date
from draws.sync import CURRENT_PATH, LEGACY_PATH

RECORDED = Path(__file__).parent / "recorded"

# Hypothesis: "ci" (the default) keeps the property tests within a few seconds;
# HYPOTHESIS_PROFILE=thorough explores much further when there is time.
hypothesis.settings.register_profile(
    "ci", max_examples=30, deadline=None, derandomize=True, print_blob=True
)
hypothesis.settings.register_profile("thorough", max_examples=2000, deadline=None)
hypothesis.settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


class DrawFactory(factory.django.DjangoModelFactory):
    """A valid draw on the weekly cadence; the numbers are synthetic, not real."""

    class Meta:
        model = LottoDraw

    draw_no = factory.Sequence(lambda n: n + 1)
    draw_date = factory.LazyAttribute(lambda d: expected_draw_date(d.draw_no))
    # n1 < ... < n6 <= 44 and bonus 45: always passes every check.
    n1 = factory.LazyAttribute(lambda d: d.draw_no % 39 + 1)
    n2 = factory.LazyAttribute(lambda d: d.draw_no % 39 + 2)
    n3 = factory.LazyAttribute(lambda d: d.draw_no % 39 + 3)
    n4 = factory.LazyAttribute(lambda d: d.draw_no % 39 + 4)
    n5 = factory.LazyAttribute(lambda d: d.draw_no % 39 + 5)
    n6 = factory.LazyAttribute(lambda d: d.draw_no % 39 + 6)
    bonus = 45
    source = "test"
    updated_at = factory.LazyFunction(timezone.now)
    # Made-up prize figures, all known: a sync has nothing to ask for again.
    total_sales = 100_000_000_000
    first_prize_winners = 10
    first_prize_amount = 2_000_000_000
    rank2_winners = 60
    rank2_prize_each = 55_000_000
    rank3_winners = 3_000
    rank3_prize_each = 1_500_000
    rank4_winners = 150_000
    rank4_prize_each = 50_000
    rank5_winners = 2_500_000
    rank5_prize_each = 5_000


@pytest.fixture
def draw_factory(db):
    return DrawFactory


@pytest.fixture
def history_to_1220(db):
    """A short stored history ending at draw 1220, the last draw shipped."""
    return [DrawFactory(draw_no=no) for no in (1218, 1219, 1220)]


@dataclass
class Answer:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json;charset=UTF-8"
    delay: float = 0.0  # seconds before answering: a slow or hung server

    @classmethod
    def recorded(cls, name: str) -> "Answer":
        kind = "text/html" if name.endswith(".html") else "application/json"
        body = (RECORDED / name).read_bytes()
        return cls(body=body, content_type=f"{kind};charset=UTF-8")


@dataclass
class RecordedSite:
    """Answers per (endpoint, draw): each request takes the next, the last repeats."""

    url: str = ""
    answers: dict = field(default_factory=dict)
    requests: list = field(default_factory=list)  # (endpoint, draw_no, headers)

    def current(self, draw_no: int, *answers: "str | int | Answer") -> None:
        self.answers[("current", draw_no)] = [_answer(a) for a in answers]

    def legacy(self, draw_no: int, *answers: "str | int | Answer") -> None:
        self.answers[("legacy", draw_no)] = [_answer(a) for a in answers]

    def seen(self, endpoint: str) -> list[int]:
        """The draw numbers asked of `endpoint`, in order, repeats included."""
        return [no for kind, no, _ in self.requests if kind == endpoint]

    def answer(self, endpoint: str, draw_no: int) -> Answer:
        queue = self.answers.get((endpoint, draw_no))
        if not queue:
            return Answer(404, b"<html>Not Found</html>", "text/html")
        return queue.pop(0) if len(queue) > 1 else queue[0]


def _answer(spec: "str | int | Answer") -> Answer:
    if isinstance(spec, Answer):
        return spec
    if isinstance(spec, int):  # an HTTP error, with the HTML page servers send
        return Answer(spec, b"<html><body>Error</body></html>", "text/html")
    return Answer.recorded(spec)


def _handler_for(site: RecordedSite):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            parsed = urllib.parse.urlsplit(self.path)
            query = dict(urllib.parse.parse_qsl(parsed.query))
            if parsed.path == CURRENT_PATH and "srchLtEpsd" in query:
                endpoint, draw_no = "current", int(query["srchLtEpsd"])
            elif parsed.path == LEGACY_PATH and query.get("method") == "getLottoNumber":
                endpoint, draw_no = "legacy", int(query["drwNo"])
            else:
                endpoint, draw_no = parsed.path, 0
            site.requests.append((endpoint, draw_no, dict(self.headers)))
            answer = site.answer(endpoint, draw_no)
            time.sleep(answer.delay)
            self.send_response(answer.status)
            self.send_header("Content-Type", answer.content_type)
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            self.wfile.write(answer.body)

        def log_message(self, format, *args):  # keep the test output clean
            pass

    return Handler


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # a client that timed out and hung up is what some tests want


@pytest.fixture
def official_site(settings):
    """A real HTTP server on 127.0.0.1 replaying recorded official responses."""
    site = RecordedSite()
    server = QuietServer(("127.0.0.1", 0), _handler_for(site))
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    site.url = f"http://127.0.0.1:{server.server_address[1]}"
    settings.DRAWS_SOURCE_BASE_URL = site.url
    settings.DRAWS_LEGACY_BASE_URL = site.url
    yield site
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def closed_port_url():
    """An address where nothing listens: connecting is refused, as when offline."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
