from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from mlops.services.operations.cleanup import models_cleanup
from mlops.services.registry.audit import Actor


class Command(BaseCommand):
    help = (
        "Remove trained model files, metadata and backups older than N days. Never "
        "removes the active model, the newest good backup of any version that was "
        "ever active, or files the registry doesn't know (those are listed)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than",
            type=int,
            default=settings.CLEANUP_OLDER_THAN_DAYS,
            metavar="DAYS",
            help="age in days (default: CLEANUP_OLDER_THAN_DAYS)",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="list what would go; remove nothing"
        )

    def handle(self, *args, older_than, dry_run, **options):
        try:
            report = models_cleanup(
                older_than_days=older_than, dry_run=dry_run, actor=Actor.cli()
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        removed = _("would remove: %(path)s (%(reason)s)")
        if not dry_run:
            removed = _("removed: %(path)s (%(reason)s)")
        for decision in report.removed:
            self.stdout.write(
                removed % {"path": decision.path, "reason": decision.reason}
            )
        for decision in report.kept:
            self.stdout.write(
                _("kept: %(path)s (%(reason)s)")
                % {"path": decision.path, "reason": decision.reason}
            )
        for path in report.orphans:
            self.stdout.write(_("orphan (left alone): %s") % path)
        self.stdout.write(report.summary() + ".")
