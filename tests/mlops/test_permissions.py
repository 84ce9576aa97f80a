"""Only staff with the right permission can run an operation; everyone else is
refused (403 for staff, the login page for everyone else) and nothing changes."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from mlops.models import AuditEvent, ModelBackup, RetrainRun
from mlops.services.registry.registry import model_version_active
from tests.factories import backed_up_then_replaced

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:mlops_modelversion_changelist"
# Each door, the permission that opens it, and how to knock.
ACTIONS = {
    "activate_selected": "activate_modelversion",
    "backup_selected": "backup_modelversion",
    "restore_selected": "restore_modelversion",
    "verify_selected": "view_modelversion",
}


def user_with(django_user_model, username: str, *codenames, is_staff=True):
    user = django_user_model.objects.create_user(
        username, password="pw", is_staff=is_staff
    )
    user.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="mlops", codename__in=codenames
        )
    )
    return user


@pytest.fixture
def versions(model_root, shipped_draws):
    return backed_up_then_replaced()


def snapshot():
    return (
        model_version_active(),
        ModelBackup.objects.count(),
        AuditEvent.objects.count(),
        RetrainRun.objects.count(),
    )


def post_action(client, action, version, **extra):
    return client.post(
        reverse(CHANGELIST),
        {"action": action, "_selected_action": [version.pk], **extra},
    )


@pytest.mark.parametrize("action", [a for a in ACTIONS if a != "verify_selected"])
def test_a_staff_user_who_can_only_view_gets_403_for_each_changing_action(
    client, django_user_model, versions, action
):
    viewer = user_with(django_user_model, "viewer", "view_modelversion")
    client.force_login(viewer)
    before = snapshot()
    response = post_action(client, action, versions[0], post="yes")
    assert response.status_code == 403
    assert snapshot() == before


@pytest.mark.parametrize("action", list(ACTIONS))
def test_a_staff_user_without_any_mlops_permission_gets_403_for_each_action(
    client, django_user_model, versions, action
):
    client.force_login(user_with(django_user_model, "nobody"))
    before = snapshot()
    assert post_action(client, action, versions[0], post="yes").status_code == 403
    assert snapshot() == before


@pytest.mark.parametrize(("action", "codename"), list(ACTIONS.items()))
def test_the_matching_permission_is_enough_for_each_action(
    client, django_user_model, versions, action, codename
):
    user = user_with(django_user_model, "operator", "view_modelversion", codename)
    client.force_login(user)
    response = post_action(client, action, versions[0], post="yes")
    assert response.status_code == 302
    assert AuditEvent.objects.filter(actor="operator").exists()


def test_the_backup_permission_does_not_open_restore(
    client, django_user_model, versions
):
    user = user_with(
        django_user_model, "backup-only", "view_modelversion", "backup_modelversion"
    )
    client.force_login(user)
    assert post_action(client, "restore_selected", versions[0]).status_code == 403
    assert post_action(client, "backup_selected", versions[0]).status_code == 302


def test_roll_back_needs_the_activate_permission(client, django_user_model, versions):
    url = reverse("admin:mlops_modelversion_rollback")
    client.force_login(user_with(django_user_model, "viewer", "view_modelversion"))
    before = snapshot()
    assert client.get(url).status_code == 403
    assert client.post(url).status_code == 403
    assert snapshot() == before
    changelist = client.get(reverse(CHANGELIST)).content.decode()
    assert "Roll back to the previous version" not in changelist


def test_retrain_now_needs_the_retrain_permission(client, django_user_model, db):
    url = reverse("admin:mlops_retrainrun_retrain")
    client.force_login(user_with(django_user_model, "viewer", "view_retrainrun"))
    assert client.post(url).status_code == 403
    assert not RetrainRun.objects.exists()
    page = client.get(reverse("admin:mlops_retrainrun_changelist")).content.decode()
    assert "Retrain now" not in page


def test_retrain_now_works_with_the_retrain_permission(
    client, django_user_model, model_root, shipped_draws
):
    user = user_with(django_user_model, "trainer", "view_retrainrun", "retrain_model")
    client.force_login(user)
    response = client.post(reverse("admin:mlops_retrainrun_retrain"))
    assert response.status_code == 302
    assert RetrainRun.objects.get().requested_by == user


@pytest.mark.parametrize(
    ("method", "url_name", "data"),
    [
        ("post", CHANGELIST, "activate"),
        ("post", CHANGELIST, "restore"),
        ("get", "admin:mlops_modelversion_rollback", None),
        ("post", "admin:mlops_modelversion_rollback", None),
        ("post", "admin:mlops_retrainrun_retrain", None),
        ("get", "operations_dashboard", None),
        ("get", "admin:mlops_auditevent_changelist", None),
    ],
)
def test_a_non_staff_user_with_every_permission_is_sent_to_the_login_page(
    client, django_user_model, versions, method, url_name, data
):
    codenames = [*ACTIONS.values(), "retrain_model", "view_auditevent"]
    client.force_login(
        user_with(django_user_model, "outsider", *codenames, is_staff=False)
    )
    payload = {}
    if data == "activate":
        payload = {"action": "activate_selected", "_selected_action": [versions[0].pk]}
    elif data == "restore":
        payload = {
            "action": "restore_selected",
            "_selected_action": [versions[0].pk],
            "post": "yes",
        }
    before = snapshot()
    response = getattr(client, method)(reverse(url_name), payload)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
    assert snapshot() == before


def test_an_anonymous_visitor_is_sent_to_the_login_page(client, versions):
    before = snapshot()
    response = client.post(
        reverse(CHANGELIST),
        {"action": "backup_selected", "_selected_action": [versions[0].pk]},
    )
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
    assert snapshot() == before


# --- The staff API under /api/admin/models/ -----------------------------------------

API_CALLS = [
    ("post", "/api/admin/models/{v}/backup", "backup_modelversion"),
    ("post", "/api/admin/models/{v}/restore", "restore_modelversion"),
    ("post", "/api/admin/models/rollback", "activate_modelversion"),
    ("post", "/api/admin/models/cleanup", "delete_modelversion"),
    ("post", "/api/admin/models/verify", "view_modelversion"),
    ("get", "/api/admin/models/{v}/activations", "view_modelversion"),
]


def call_api_refused(client, method, url, versions, *, status: int):
    """Call the API; assert it answers `status` and changes nothing."""
    before = snapshot()
    response = getattr(client, method)(url.format(v=versions[0].version))
    assert response.status_code == status
    assert snapshot() == before
    return response


@pytest.mark.parametrize(("method", "url", "codename"), API_CALLS)
def test_the_api_answers_401_without_credentials(
    client, versions, method, url, codename
):
    call_api_refused(client, method, url, versions, status=401)


@pytest.mark.parametrize(("method", "url", "codename"), API_CALLS)
def test_the_api_refuses_non_staff_even_with_the_permission(
    client, django_user_model, versions, method, url, codename
):
    user = user_with(django_user_model, "outsider", codename, is_staff=False)
    client.force_login(user)
    call_api_refused(client, method, url, versions, status=403)


@pytest.mark.parametrize(("method", "url", "codename"), API_CALLS)
def test_the_api_refuses_staff_without_the_operations_permission(
    client, django_user_model, versions, method, url, codename
):
    client.force_login(user_with(django_user_model, "staff"))
    response = call_api_refused(client, method, url, versions, status=403)
    assert codename in response.json()["detail"]


# --- The operations page shows what the user's permissions show elsewhere -----------


def test_the_operations_page_hides_audit_details_from_staff_who_cannot_view_them(
    client, django_user_model, model_root
):
    AuditEvent.objects.create(
        actor_type="user",
        actor="ops-lead",
        action="backup",
        object_repr="v-secret",
        details={"summary": "copied to backups/v-secret/file-path-xyz.pkl"},
    )
    RetrainRun.objects.create(
        trigger="manual", status="failed", error_message="boom at /srv/secret-path"
    )
    client.force_login(user_with(django_user_model, "bare"))

    assert client.get(reverse("admin:mlops_auditevent_changelist")).status_code == 403
    page = client.get(reverse("operations_dashboard"))

    assert page.status_code == 200
    for secret in (b"ops-lead", b"file-path-xyz", b"v-secret", b"secret-path"):
        assert secret not in page.content
    assert b"needs the permission to view audit events" in page.content


def test_the_operations_page_shows_audit_details_to_those_who_may_view_them(
    client, django_user_model, model_root
):
    AuditEvent.objects.create(
        actor_type="user",
        actor="ops-lead",
        action="backup",
        object_repr="v-visible",
        details={"summary": "copied"},
    )
    client.force_login(
        user_with(django_user_model, "auditor", "view_auditevent", "view_retrainrun")
    )
    page = client.get(reverse("operations_dashboard"))
    assert b"ops-lead" in page.content
    assert b"v-visible" in page.content
