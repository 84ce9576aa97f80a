from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from mlops.services.operations.backups import model_version_rollback
from mlops.services.registry.audit import Actor


class Command(BaseCommand):
    help = (
        "Activate the version that was active before the current one (from the "
        "activation history; a corrupt or deleted one is restored from its backup "
        "or passed over)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--reason", default="", help="why (kept in the history)")

    def handle(self, *args, reason, **options):
        try:
            version = model_version_rollback(actor=Actor.cli(), reason=reason)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stdout.write(
            _("Rolled back: %s is now the active model.") % version.version
        )
