"""The audit trail: every service that changes something records who did it."""

from dataclasses import dataclass

from django.db import models
from django.utils.translation import override

from mlops.models import AuditEvent


@dataclass(frozen=True)
class Actor:
    """Who asked: a user, or one of the system's own doors."""

    type: str  # "user", "system", "cli", "scheduler", "api"
    label: str
    user: object | None = None

    @classmethod
    def for_user(cls, user) -> "Actor":
        if user is None or not getattr(user, "is_authenticated", False):
            return cls.system()
        return cls("user", user.get_username(), user)

    @classmethod
    def system(cls) -> "Actor":
        return cls("system", "system")

    @classmethod
    def cli(cls) -> "Actor":
        return cls("cli", "cli")

    @classmethod
    def scheduler(cls) -> "Actor":
        return cls("scheduler", "scheduler")


SYSTEM = Actor.system()


def _english_label(obj: models.Model | None) -> str:
    if obj is None:
        return ""
    with override("en"):
        return str(obj)[:200]


def audit_record(
    *,
    actor: Actor,
    action: str,
    obj: models.Model | None = None,
    details: dict | None = None,
) -> AuditEvent:
    """Append one event to the audit trail."""
    return AuditEvent.objects.create(
        actor_type=actor.type,
        actor=actor.label[:150],
        user=actor.user if actor.type == "user" else None,
        action=action,
        object_type=obj._meta.label if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        # The label as the object reads in English: stored rows never depend on
        # the language of whoever caused them.
        object_repr=_english_label(obj),
        details=details or {},
    )
