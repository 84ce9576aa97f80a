from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from mlops.services.operations.backups import model_version_restore
from mlops.services.registry.audit import Actor


class Command(BaseCommand):
    help = (
        "Make VERSION the active model again. If its trained file is missing or "
        "corrupt, the newest backup that matches its checksum is copied back first. "
        "Web processes pick the change up without a restart."
    )

    def add_arguments(self, parser):
        parser.add_argument("version", help="version label or id")
        parser.add_argument("--reason", default="", help="why (kept in the history)")

    def handle(self, *args, version, reason, **options):
        try:
            restored = model_version_restore(
                version=version, actor=Actor.cli(), reason=reason
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stdout.write(
            _("Restored %s; it is now the active model.") % restored.version
        )
