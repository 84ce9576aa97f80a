from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from mlops.services.operations.backups import model_version_backup
from mlops.services.registry.audit import Actor
from mlops.services.registry.registry import model_version_active, model_version_get


class Command(BaseCommand):
    help = (
        "Copy a model version's file and metadata into MODEL_ROOT/backups/ and verify "
        "the copy's sha256. VERSION defaults to the active version."
    )

    def add_arguments(self, parser):
        parser.add_argument("version", nargs="?", help="version label or id")

    def handle(self, *args, version=None, **options):
        try:
            target = model_version_get(version=version) if version else None
            target = target or model_version_active()
            if target is None:
                raise CommandError(
                    _("No model version is active; name one to back up.")
                )
            backup = model_version_backup(version=target, actor=Actor.cli())
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stdout.write(
            _("Backed up %(version)s to %(path)s (sha256 %(sha)s…, verified).")
            % {
                "version": target.version,
                "path": backup.file_path,
                "sha": backup.sha256[:12],
            }
        )
