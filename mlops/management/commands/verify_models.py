import json

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from mlops.services.operations.integrity import models_verify
from mlops.services.operations.self_heal import model_self_heal_active
from mlops.services.registry.audit import Actor


class Command(BaseCommand):
    help = (
        "Check every model, metadata and backup file against the registry's "
        "checksums and list orphan files. Exits non-zero if any file is missing or "
        "corrupt."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--json",
            action="store_true",
            dest="as_json",
            help="print the report as JSON",
        )
        parser.add_argument(
            "--heal",
            action="store_true",
            help=_(
                "first restore the active model from its newest good backup if its "
                "stored file is missing or corrupt (what a web host does when it "
                "notices), then check everything"
            ),
        )

    def handle(self, *args, as_json: bool = False, heal: bool = False, **options):
        if heal:
            outcome, version = model_self_heal_active()
            message = _("Self-heal of the active model: %(outcome)s (%(version)s).") % {
                "outcome": outcome,
                "version": version.version if version else "-",
            }
            (self.stderr if as_json else self.stdout).write(message)
        report = models_verify(actor=Actor.cli())
        if as_json:
            self.stdout.write(json.dumps(report.as_dict(), indent=2))
        else:
            for check in report.missing + report.corrupt:
                self.stdout.write(
                    _("%(status)s: %(path)s (%(kind)s of %(version)s)")
                    % {
                        "status": check.status,
                        "path": check.path,
                        "kind": check.kind,
                        "version": check.version,
                    }
                    + (f": {check.detail}" if check.detail else "")
                )
            for path in report.orphans:
                self.stdout.write(_("orphan: %s") % path)
            self.stdout.write(report.summary() + ".")
        if not report.ok:
            problems = len(report.missing) + len(report.corrupt)
            raise CommandError(_("%d model file(s) missing or corrupt.") % problems)
