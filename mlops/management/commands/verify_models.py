import json

from django.core.management.base import BaseCommand, CommandError

from mlops.services.operations.integrity import models_verify
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

    def handle(self, *args, as_json: bool = False, **options):
        report = models_verify(actor=Actor.cli())
        if as_json:
            self.stdout.write(json.dumps(report.as_dict(), indent=2))
        else:
            for check in report.missing + report.corrupt:
                self.stdout.write(
                    f"{check.status}: {check.path} ({check.kind} of {check.version})"
                    + (f": {check.detail}" if check.detail else "")
                )
            for path in report.orphans:
                self.stdout.write(f"orphan: {path}")
            self.stdout.write(report.summary() + ".")
        if not report.ok:
            problems = len(report.missing) + len(report.corrupt)
            raise CommandError(f"{problems} model file(s) missing or corrupt.")
