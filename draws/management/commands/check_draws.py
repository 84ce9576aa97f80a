from django.core.management.base import BaseCommand, CommandError

from draws.services import draw_check_gaps


class Command(BaseCommand):
    help = (
        "Check the stored history: missing draw numbers and draws whose date is not "
        "the weekly Saturday of their number. Exits non-zero when anything is off."
    )

    def handle(self, *args, **options):
        report = draw_check_gaps()
        if report.count == 0:
            raise CommandError("No draws stored. Run: python manage.py import_draws")
        self.stdout.write(
            f"{report.count} draw(s) stored, {report.first}-{report.last}."
        )
        if report.missing:
            listed = ", ".join(map(str, report.missing[:50]))
            more = " ..." if len(report.missing) > 50 else ""
            self.stdout.write(f"Missing {len(report.missing)}: {listed}{more}")
        for draw_no, stored, expected in report.off_cadence:
            self.stdout.write(f"Draw {draw_no}: dated {stored}, expected {expected}")
        if not report.ok:
            raise CommandError("The draw history has gaps or off-cadence dates.")
        self.stdout.write("No gaps; every date is on the weekly cadence.")
