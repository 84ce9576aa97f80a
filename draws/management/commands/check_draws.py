from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from draws.freshness import draw_freshness
from draws.schedule import scheduled_draw
from draws.services import draw_check_gaps
from draws.timefmt import format_kst


class Command(BaseCommand):
    help = (
        "Check the stored history: missing draw numbers and draws whose date is not "
        "the weekly Saturday of their number; and whether the newest stored draw is "
        "as new as the calendar (Saturday 20:35 KST, DRAWS_STALE_GRACE_HOURS) says. "
        "Exits non-zero when anything is off."
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
        self.check_freshness()

    def check_freshness(self):
        freshness = draw_freshness()
        if not freshness.stale:
            self.stdout.write(_("Up to date: the newest broadcast draw is stored."))
            return
        first_missing = freshness.latest_draw_no + 1
        values = {
            "first": first_missing,
            "last": freshness.last_scheduled.draw_no,
            "count": freshness.missing_draws,
            "when": format_kst(scheduled_draw(first_missing).draws_at),
            "latest": freshness.latest_draw_no,
            "date": freshness.latest_draw_date,
        }
        if freshness.missing_draws == 1:
            line = _(
                "Stale: draw %(first)d (broadcast %(when)s) is not stored; the newest "
                "stored draw is %(latest)d (%(date)s)."
            )
        else:
            line = _(
                "Stale: draws %(first)d-%(last)d (%(count)d draws, the first broadcast "
                "%(when)s) are not stored; the newest stored draw is %(latest)d "
                "(%(date)s)."
            )
        self.stdout.write(line % values)
        raise CommandError(
            _("The draw history is stale. Run: python manage.py sync_draws")
        )
