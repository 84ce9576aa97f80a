from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from draws.services import draw_check_gaps


class Command(BaseCommand):
    help = (
        "Check the stored history: missing draw numbers and draws whose date is not "
        "the weekly Saturday of their number. Exits non-zero when anything is off."
    )

    def handle(self, *args, **options):
        report = draw_check_gaps()
        if report.count == 0:
            raise CommandError(_("No draws stored. Run: python manage.py import_draws"))
        self.stdout.write(
            _("%(count)d draw(s) stored, %(first)d-%(last)d.")
            % {"count": report.count, "first": report.first, "last": report.last}
        )
        if report.missing:
            listed = ", ".join(map(str, report.missing[:50]))
            more = " ..." if len(report.missing) > 50 else ""
            self.stdout.write(
                _("Missing %(count)d: %(listed)s%(more)s")
                % {"count": len(report.missing), "listed": listed, "more": more}
            )
        for draw_no, stored, expected in report.off_cadence:
            self.stdout.write(
                _("Draw %(no)d: dated %(stored)s, expected %(expected)s")
                % {"no": draw_no, "stored": stored, "expected": expected}
            )
        if not report.ok:
            raise CommandError(_("The draw history has gaps or off-cadence dates."))
        self.stdout.write(_("No gaps; every date is on the weekly cadence."))
