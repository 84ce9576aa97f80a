"""Nothing a person reads in Korean is left in English: the OpenAPI schema, and the
staff pages, rendered for Accept-Language: ko, hold no sentence of the catalog in
its English form (a string that skipped gettext, or a template without {% translate %})."""

import gettext as gettext_module
import re
from html import unescape
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import translation
from drf_spectacular.generators import SchemaGenerator

ROOT = Path(__file__).resolve().parent.parent
HANGUL = re.compile("[\uac00-\ud7a3]")
# A description that lists machine values only (enum codes, `a | b`) stays as is.
MACHINE_VALUES = re.compile(r"^[\s*`\-_a-z0-9|]*$")
PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[-#0 +]*\d*(?:\.\d+)?[sdfgr%]")


def schema_texts(node, path=""):
    """(where, text) of every description, summary and title in the schema."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("description", "summary", "title") and isinstance(value, str):
                yield f"{path}/{key}", value
            else:
                yield from schema_texts(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from schema_texts(value, f"{path}[{index}]")


@pytest.mark.django_db
def test_the_openapi_schema_in_korean_has_no_english_description():
    with translation.override("ko"):
        schema = SchemaGenerator().get_schema(request=None, public=True)

    english = [
        (where, text)
        for where, text in schema_texts(schema)
        if not HANGUL.search(text)
        and not MACHINE_VALUES.match(text)
        and where != "/info/title"  # the product's name
    ]
    assert schema["info"]["description"].startswith("로또 6/45")
    assert not english, english[:10]


def english_sentences() -> list[str]:
    """The catalog's English sentences (their longest fixed part), translated ones."""
    mo = ROOT / "locale/ko/LC_MESSAGES/django.mo"
    with mo.open("rb") as handle:
        catalog = gettext_module.GNUTranslations(handle)._catalog
    sentences = set()
    for msgid, msgstr in catalog.items():
        if not isinstance(msgid, str) or not msgid or msgid == msgstr:
            continue
        longest = max(PLACEHOLDER.split(msgid.replace("\n", " ")), key=len).strip()
        # Whole words only: short labels ("Name", "ok") also occur inside codes.
        if len(longest) >= 24 and longest.count(" ") >= 3:
            sentences.add(longest)
    return sorted(sentences)


def visible_text(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


STAFF_PAGES = (
    "operations_dashboard",
    "admin:index",
    "admin:mlops_modelversion_changelist",
    "admin:mlops_retrainrun_changelist",
    "admin:mlops_retrainrun_retrain",
    "admin:mlops_auditevent_changelist",
    "admin:mlops_modelactivation_changelist",
    "admin:mlops_modelbackup_changelist",
    "admin:draws_lottodraw_changelist",
    "admin:mlops_prediction_changelist",
)


@pytest.mark.django_db
@pytest.mark.parametrize("name", STAFF_PAGES)
def test_a_staff_page_in_korean_shows_no_english_sentence(
    name, admin_client, model_root
):
    from tests.factories import store_draws, train

    store_draws(520)
    train(1, activate=True)
    sentences = english_sentences()

    response = admin_client.get(reverse(name), HTTP_ACCEPT_LANGUAGE="ko")
    text = visible_text(response.content.decode())

    assert response.status_code == 200
    assert HANGUL.search(text)
    left = [sentence for sentence in sentences if sentence in text]
    assert not left, left


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/api/"])
def test_the_landing_page_in_korean_shows_no_english_sentence(path, client):
    sentences = english_sentences()

    response = client.get(path, HTTP_ACCEPT_LANGUAGE="ko")
    text = visible_text(response.content.decode())

    assert response.status_code == 200
    assert HANGUL.search(text)
    assert not [sentence for sentence in sentences if sentence in text]


@pytest.mark.django_db
def test_the_catalog_scan_finds_the_english_sentences_of_an_english_page(
    admin_client, model_root
):
    sentences = english_sentences()
    page = "<p>운영</p><p>The credentials are valid but not allowed to do this.</p>"

    response = admin_client.get(
        reverse("operations_dashboard"), HTTP_ACCEPT_LANGUAGE="en"
    )
    english = [s for s in sentences if s in visible_text(response.content.decode())]

    assert "The credentials are valid but not allowed to do this." in sentences
    assert any(sentence in visible_text(page) for sentence in sentences)
    assert len(english) >= 3, english


COMMANDS = (
    ("verify_models",),
    ("cleanup_models", "--dry-run"),
    ("scheduler_status",),
    ("setup_schedules",),
    ("accuracy",),
    ("backtest", "--draws", "8", "--retrain-every", "8"),
    ("check_draws",),
    ("retrain",),
    ("verify_ledger",),
    ("backup_model",),
    ("check_worker",),
    ("issue_token", "app", "--create-user"),
    ("check_ticket", "--draw", "520", "--game", "1,2,3,4,5,6"),
    ("train_model",),
    ("train_model", "--if-missing"),
)


CHANGE_PAGES = (
    "mlops_modelversion",
    "mlops_retrainrun",
    "mlops_auditevent",
    "mlops_modelactivation",
    "mlops_modelbackup",
)


@pytest.mark.django_db
@pytest.mark.parametrize("model", CHANGE_PAGES)
def test_a_change_page_in_korean_shows_no_english_sentence(
    model, admin_client, model_root
):
    from django.apps import apps

    from mlops.services.operations.backups import model_version_backup
    from mlops.services.registry.audit import Actor
    from mlops.services.training.retrain_requests import retrain_run_now
    from tests.factories import store_draws

    store_draws(520)
    run = retrain_run_now(actor=Actor.cli())  # a version, its run, the trail
    model_version_backup(version=run.model_version, actor=Actor.cli())
    sentences = english_sentences()
    row = apps.get_model(*model.split("_", 1)).objects.order_by("pk").first()

    response = admin_client.get(
        reverse(f"admin:{model}_change", args=[row.pk]), HTTP_ACCEPT_LANGUAGE="ko"
    )
    text = visible_text(response.content.decode())

    assert response.status_code == 200
    left = [sentence for sentence in sentences if sentence in text]
    assert not left, left


@pytest.mark.django_db
@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c))
def test_a_command_in_korean_prints_no_english_sentence(command, settings, model_root):
    import io

    from django.core.management import CommandError, call_command

    from tests.factories import store_draws, train

    store_draws(520)
    train(1, activate=True)
    sentences = english_sentences()
    settings.LANGUAGE_CODE = "ko"
    translation.deactivate()  # a command speaks the configured language
    out, err = io.StringIO(), io.StringIO()

    try:
        call_command(*command, stdout=out, stderr=err)
    except CommandError as exc:  # a check that finds a problem: its words count too
        err.write(str(exc))
    text = " ".join((out.getvalue() + " " + err.getvalue()).split())

    assert HANGUL.search(text), text
    left = [sentence for sentence in sentences if sentence in text]
    assert not left, left


@pytest.mark.django_db
def test_a_view_only_list_is_titled_in_plain_korean(admin_client):
    # Django's own Korean for "Select %s to view" is "보기위한 1%s 를(을) 선택";
    # our catalog (lotto_site/admin_texts.py) supplies the right words.
    response = admin_client.get(
        reverse("admin:draws_lottodraw_changelist"), HTTP_ACCEPT_LANGUAGE="ko"
    )

    title = re.search(r"<title>(.*?)</title>", response.content.decode(), re.S)[1]
    assert response.status_code == 200
    assert title.startswith("조회할 ")
    assert "보기위한" not in title
    assert "를(을)" not in title
