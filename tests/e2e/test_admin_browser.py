"""In a real browser: a staff user restores a model from its backup in the admin.

Playwright drives Debian's Chromium (/usr/bin/chromium, installed by .ci/run)
against pytest-django's live server. Set E2E_SCREENSHOT_DIR to keep the
screenshots somewhere you can look at them; by default they go to tmp.
"""

import os
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import Permission
from django.db import connections
from playwright.sync_api import expect, sync_playwright

from draws.services import draw_import_file
from mlops.models import AuditEvent, ModelBackup
from mlops.services.registry.registry import model_version_active
from mlops.services.training.training import model_version_train

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 20_000


@pytest.fixture
def browser_page():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            timeout=60_000,
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(TIMEOUT_MS)
            page.set_default_navigation_timeout(TIMEOUT_MS)
            yield page
        finally:
            browser.close()
            # The test's queries while Playwright runs open a connection of
            # their own; left open, PostgreSQL refuses to drop the test database.
            connections.close_all()


@pytest.fixture
def e2e_settings(settings, monkeypatch):
    # Playwright's sync API runs an event loop in this thread; the ORM calls
    # the test makes around it are plain synchronous calls.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    # The live server speaks plain HTTP.
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    return settings


@pytest.mark.slow
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium")
@pytest.mark.django_db(transaction=True)
def test_a_staff_user_restores_a_model_from_its_backup_in_the_browser(
    live_server, model_root, e2e_settings, browser_page, django_user_model, tmp_path
):
    draw_import_file(django_settings.DRAWS_SHIPPED_CSV)
    # Each activation is backed up automatically (the transaction commits here).
    old = model_version_train(params={"seed": 1})
    new = model_version_train(params={"seed": 2})
    assert ModelBackup.objects.filter(model_version=old).exists()
    (model_root / old.file_path).unlink()  # the trained file is gone
    operator = django_user_model.objects.create_user(
        "operator", password="correct horse battery", is_staff=True
    )
    operator.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="mlops",
            codename__in=[
                "view_modelversion",
                "restore_modelversion",
                "view_auditevent",
            ],
        )
    )
    shots = Path(os.environ.get("E2E_SCREENSHOT_DIR") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    page = browser_page

    page.goto(f"{live_server.url}/admin/login/?next=/admin/mlops/modelversion/")
    page.fill("#id_username", "operator")
    page.fill("#id_password", "correct horse battery")
    page.click("input[type=submit]")
    expect(page.locator("#active-version")).to_have_text(new.version)

    page.check(f'input[name="_selected_action"][value="{old.pk}"]')
    page.select_option('select[name="action"]', "restore_selected")
    page.click('button[name="index"]')
    confirmation = page.locator("#restore-confirmation")
    expect(confirmation).to_contain_text("file missing: it will be replaced")
    expect(confirmation).to_contain_text(f"backups/{old.version}/")
    page.screenshot(path=str(shots / "restore_confirmation.png"), full_page=True)
    page.fill("#id_reason", "browser drill")
    page.click("#confirm-restore")

    expect(page.locator("ul.messagelist")).to_contain_text(
        f"Restored {old.version}; it is now the active model."
    )
    expect(page.locator("#active-version")).to_have_text(old.version)
    page.screenshot(path=str(shots / "changelist_after_restore.png"), full_page=True)

    page.goto(f"{live_server.url}/admin/mlops/auditevent/?action=restore")
    row = page.locator("#result_list tbody tr").first
    expect(row).to_contain_text("operator")
    expect(row).to_contain_text("browser drill")
    expect(row).to_contain_text(f"{old.version} (active)")
    page.screenshot(path=str(shots / "audit_after_restore.png"), full_page=True)

    assert model_version_active() == old
    assert (model_root / old.file_path).exists()
    event = AuditEvent.objects.get(action="restore")
    assert (event.actor, event.details["reason"]) == ("operator", "browser drill")
