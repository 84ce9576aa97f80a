"""In a real browser with the network cut off: /api/docs/ renders and works.

Swagger UI comes from drf-spectacular-sidecar's static files, served by the
project itself. Chromium resolves no host but 127.0.0.1, and every request to
another host is aborted and recorded: the page must neither need nor try one.
Playwright drives Debian's Chromium, as in test_admin_browser.py.
"""

import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.db import connections
from playwright.sync_api import expect, sync_playwright

from tests.e2e.test_admin_browser import CHROMIUM, CHROMIUM_ARGS, TIMEOUT_MS

OFFLINE_ARGS = [
    *CHROMIUM_ARGS,
    # No name resolves but the live server's: a CDN would not even be found.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost",
]


@pytest.fixture
def offline_page(monkeypatch):
    """A Chromium page that can reach 127.0.0.1 only; `.blocked` lists the rest."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=OFFLINE_ARGS, timeout=60_000
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(TIMEOUT_MS)
            page.blocked = []

            def only_local(route):
                if urlsplit(route.request.url).hostname in {"127.0.0.1", "localhost"}:
                    route.continue_()
                else:
                    page.blocked.append(route.request.url)
                    route.abort()

            page.route("**/*", only_local)
            yield page
        finally:
            browser.close()
            connections.close_all()


@pytest.mark.slow
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium")
@pytest.mark.django_db(transaction=True)
def test_the_api_docs_render_and_run_a_call_without_network(
    live_server, offline_page, tmp_path
):
    page = offline_page
    shots = Path(os.environ.get("E2E_SCREENSHOT_DIR") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)

    page.goto(f"{live_server.url}/api/docs/")

    expect(page.locator(".swagger-ui .info .title")).to_contain_text("lotto-mlops API")
    ping = page.locator("#operations-service-ping")
    expect(ping).to_be_visible()
    assert page.locator(".opblock").count() >= 10
    # Open the connectivity check and run it from the page.
    ping.locator(".opblock-summary").click()
    ping.get_by_role("button", name="Try it out").click()
    ping.get_by_role("button", name="Execute").click()
    expect(
        ping.locator(".live-responses-table tbody .response-col_status").first
    ).to_have_text("200")
    expect(ping.locator(".live-responses-table")).to_contain_text('"status": "ok"')
    # The one error shape is documented.
    expect(
        page.locator("#model-ErrorResponse, [id='model-ErrorResponse']")
    ).to_have_count(1)
    page.screenshot(path=str(shots / "api_docs_offline.png"), full_page=True)

    assert page.blocked == []
