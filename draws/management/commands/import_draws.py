from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from draws.services import DrawImportError, draw_import_file


class Command(BaseCommand):
    help = (
        "Import draws from a CSV or JSON file (official API field names accepted). "
        "All rows or none: any bad row refuses the whole file. Re-importing is a "
        "no-op. Without PATH, imports the shipped history."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", nargs="?", default=str(settings.DRAWS_SHIPPED_CSV))

    def handle(self, *args, path: str, **options):
        try:
            result = draw_import_file(path)
        except DrawImportError as exc:
            raise CommandError(exc.summary()) from exc
        self.stdout.write(result.summary())
