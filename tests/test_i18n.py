"""Korean first: language negotiation, the catalog check and KST for people."""

import datetime as dt
import json
import os
import re
import runpy
import shutil
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from django.core.exceptions import ImproperlyConfigured
from django.template import Context, Template
from django.urls import reverse
from django.utils import translation

from draws.timefmt import format_kst, iso_kst
from tests.dependencies import missing_dependency

ROOT = Path(__file__).resolve().parent.parent
UTC = dt.UTC
MIDNIGHT_KST = dt.datetime(2026, 12, 7, 15, 0, tzinfo=UTC)  # 2026-12-08 00:00 KST


@pytest.fixture
def korean_default(settings):
    settings.LANGUAGE_CODE = "ko"
    translation.deactivate()


def test_a_request_without_accept_language_gets_korean(client, db, korean_default):
    response = client.get(reverse("draw-latest"))

    assert response.status_code == 404
    assert response.json()["detail"] == "아직 저장된 회차가 없습니다."
    assert response["Content-Language"] == "ko"


def test_accept_language_en_gets_english(client, db, korean_default):
    response = client.get(reverse("draw-latest"), HTTP_ACCEPT_LANGUAGE="en")

    assert response.json()["detail"] == "No draws are stored yet."
    assert response["Content-Language"] == "en"


def test_a_regional_english_variant_gets_english(client, db, korean_default):
    response = client.get(reverse("draw-latest"), HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.8")

    assert response.json()["detail"] == "No draws are stored yet."


def test_an_unknown_accept_language_falls_back_to_the_default(
    client, db, korean_default
):
    for header in ("fr-FR,fr;q=0.9", "xx", "*", "!!garbage;;q=abc", "zh;q=0.1"):
        response = client.get(reverse("draw-latest"), HTTP_ACCEPT_LANGUAGE=header)

        assert response.status_code == 404, header
        assert response.json()["detail"] == "아직 저장된 회차가 없습니다.", header


def test_responses_vary_on_accept_language(client, db):
    response = client.get(reverse("draw-list"))

    assert "Accept-Language" in response["Vary"]


def test_language_code_comes_from_the_environment_and_an_unknown_one_stops_start_up():
    def settings_with(code: str) -> subprocess.CompletedProcess:
        env = {**os.environ, "LANGUAGE_CODE": code, "VAR_DIR": "/tmp/lotto-i18n-test"}
        env.pop("DJANGO_SETTINGS_MODULE", None)
        return subprocess.run(
            [
                sys.executable,
                "-c",
                "import lotto_site.settings as s; print(s.LANGUAGE_CODE)",
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
        )

    assert settings_with("en").stdout.strip() == "en"
    assert settings_with("").stdout.strip() == "ko"
    refused = settings_with("fr")
    assert refused.returncode != 0
    assert "LANGUAGE_CODE='fr' is not one of: ko, en" in refused.stderr
    assert ImproperlyConfigured.__name__ in refused.stderr


def test_people_read_kst_labelled_and_the_api_reads_plus_nine_hours():
    assert format_kst(MIDNIGHT_KST) == "2026-12-08 00:00 KST"
    assert format_kst(MIDNIGHT_KST, seconds=True) == "2026-12-08 00:00:00 KST"
    assert format_kst(None) == "—"
    assert format_kst(dt.date(2026, 12, 5)) == "2026-12-05"
    assert iso_kst(MIDNIGHT_KST) == "2026-12-08T00:00:00+09:00"
    assert iso_kst(MIDNIGHT_KST.astimezone(ZoneInfo("America/New_York"))) == (
        "2026-12-08T00:00:00+09:00"
    )
    assert iso_kst(None) is None


def test_the_kst_template_filter_labels_the_zone():
    template = Template(
        '{% load kst %}{{ when|kst }} / {{ when|kst:"seconds" }} / {{ none|kst }}'
        " / {{ iso|kst }}"
    )

    rendered = template.render(
        Context(
            {"when": MIDNIGHT_KST, "none": None, "iso": "2026-12-07T15:00:00+00:00"}
        )
    )

    assert rendered == (
        "2026-12-08 00:00 KST / 2026-12-08 00:00:00 KST / — / 2026-12-08 00:00 KST"
    )


@pytest.mark.parametrize("language", ["ko", "en"])
def test_django_shows_datetimes_as_kst_in_every_language(language):
    from django.utils.formats import localize
    from django.utils.timezone import template_localtime

    with translation.override(language):
        assert localize(template_localtime(MIDNIGHT_KST)) == "2026-12-08 00:00 KST"


def test_the_korean_catalog_is_complete_and_compiled():
    if not shutil.which("msgfmt"):
        missing_dependency("GNU gettext (msgfmt) is not installed")

    result = subprocess.run(
        [sys.executable, "scripts/check_translations"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "Korean catalog complete" in result.stdout


def test_the_catalog_check_flags_missing_empty_and_fuzzy_entries(tmp_path):
    check = runpy.run_path(str(ROOT / "scripts" / "check_translations"))
    po = tmp_path / "django.po"
    po.write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
        '#: a.py\nmsgid "Done"\nmsgstr "완료"\n\n'
        '#: b.py\nmsgid "New string"\nmsgstr ""\n\n'
        '#: c.py\n#, fuzzy\nmsgid "Changed string"\nmsgstr "옛 번역"\n\n'
        '#: d.py\nmsgid "%(n)s game"\nmsgid_plural "%(n)s games"\nmsgstr[0] ""\n',
        encoding="utf-8",
    )

    problems = check["problems_in"](po)

    assert problems == [
        "untranslated: 'New string' (b.py)",
        "fuzzy: 'Changed string' (c.py)",
        "untranslated: '%(n)s game' (d.py)",
    ]


HANGUL = re.compile("[\uac00-\ud7a3]")


def test_every_alert_has_korean_annotations_beside_the_english_ones():
    rules = yaml.safe_load((ROOT / "deploy/prometheus/alerts.yml").read_text())
    alerts = [rule for group in rules["groups"] for rule in group["rules"]]

    assert alerts
    for alert in alerts:
        notes = alert["annotations"]
        for key in ("summary", "description"):
            assert notes[key], alert["alert"]
            assert not HANGUL.search(notes[key]), alert["alert"]
            assert HANGUL.search(notes[f"{key}_ko"]), alert["alert"]
        # A label used in English is used in Korean too: the same facts in both.
        for key in ("summary", "description"):
            english = set(re.findall(r"\{\{.*?\}\}", notes[key]))
            korean = set(re.findall(r"\{\{.*?\}\}", notes[f"{key}_ko"]))
            assert english <= korean, (alert["alert"], key)


def test_every_grafana_panel_title_is_korean():
    dashboard = json.loads(
        (ROOT / "deploy/grafana/dashboards/lotto-mlops.json").read_text()
    )

    def panels(items):
        for panel in items:
            yield panel
            yield from panels(panel.get("panels", []))

    titles = [panel["title"] for panel in panels(dashboard["panels"])]
    assert titles
    untranslated = [t for t in titles if t != "HTTP" and not HANGUL.search(t)]
    assert not untranslated


def test_every_grafana_legend_and_value_text_is_korean():
    dashboard = json.loads(
        (ROOT / "deploy/grafana/dashboards/lotto-mlops.json").read_text()
    )

    def panels(items):
        for panel in items:
            yield panel
            yield from panels(panel.get("panels", []))

    def texts(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "text" and isinstance(value, str):
                    yield value
                else:
                    yield from texts(value)
        elif isinstance(node, list):
            for item in node:
                yield from texts(item)

    legends = [
        target.get("legendFormat", "")
        for panel in panels(dashboard["panels"])
        for target in panel.get("targets", [])
    ]
    words = [
        text
        for text in legends + list(texts(dashboard["panels"]))
        # a label's value ({{reason}}), a percentile (p95) or a level code reads as is
        if re.search(
            "[A-Za-z]",
            re.sub(r"\{\{.*?\}\}|\bp\d+\b|\b(good|warning|critical)\b", "", text),
        )
    ]
    assert words
    assert not [text for text in words if not HANGUL.search(text)]


def test_the_draws_etag_includes_the_language(client, db):
    korean = client.get(reverse("draw-list"), HTTP_ACCEPT_LANGUAGE="ko")
    korean_again = client.get(reverse("draw-list"), HTTP_ACCEPT_LANGUAGE="ko")
    english = client.get(reverse("draw-list"), HTTP_ACCEPT_LANGUAGE="en")

    assert korean["ETag"] == korean_again["ETag"]
    assert korean["ETag"] != english["ETag"]
    assert "Accept-Language" in english["Vary"]


ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(.*)$")


def timestamps_in(value) -> list[str]:
    """Every ISO 8601 datetime string anywhere in a JSON answer."""
    if isinstance(value, dict):
        # "utc" is the one field that is UTC by name (the scheduler shows both).
        return [
            t
            for key, item in value.items()
            if key != "utc"
            for t in timestamps_in(item)
        ]
    if isinstance(value, list):
        return [t for item in value for t in timestamps_in(item)]
    if isinstance(value, str) and ISO_DATETIME.match(value):
        return [value]
    return []


def test_every_api_timestamp_carries_the_korean_offset(admin_user, model_root):
    from rest_framework.test import APIClient

    from mlops.models import RetrainRun
    from tests.factories import store_draws, train

    store_draws(520)
    version = train(0, activate=True)
    RetrainRun.objects.create(trigger="manual", status="success", model_version=version)
    client = APIClient()
    client.force_authenticate(admin_user)
    found = []
    for url in (
        "/api/admin/scheduler-status",
        "/api/admin/retrain-runs/",
        "/api/admin/monitor-status",
        f"/api/admin/models/{version.version}/activations",
        "/api/recommendations/?count=1",
    ):
        response = client.get(url)
        assert response.status_code == 200, (url, response.content[:300])
        found += [(url, t) for t in timestamps_in(response.json())]

    assert found, "the answers hold no timestamp: the test proves nothing"
    assert {url for url, _t in found} >= {
        "/api/admin/scheduler-status",
        "/api/admin/retrain-runs/",
    }
    assert not [(url, t) for url, t in found if not t.endswith("+09:00")]
