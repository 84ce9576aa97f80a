from datetime import UTC

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError
from django.utils.dateformat import format as date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from draws.timefmt import format_kst
from mlops.services.training.scheduling import schedule_zone, schedules_setup

OUTCOMES = {
    "created": gettext_lazy("created"),
    "updated": gettext_lazy("updated"),
    "unchanged": gettext_lazy("unchanged"),
}


class Command(BaseCommand):
    help = (
        "Create or update the Django-Q2 schedules by name (safe on every deploy): the "
        "weekly retrain (RETRAIN_CRON, Tuesday 00:00 Asia/Seoul), the draw sync and "
        "accuracy check (DRAW_SYNC_CRON, Saturday 21:30) and its follow-up "
        "(DRAW_SYNC_FOLLOWUP_CRON, Sunday 09:00). A new or changed schedule's next "
        "run is set to the next cron time, never 'now'."
    )

    def handle(self, *args, **options):
        zone = schedule_zone()
        try:
            done = schedules_setup()
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from exc
        for schedule, what in done:
            # The schedule's name is its key in Django-Q2: shown as stored.
            self.stdout.write(
                _(
                    "%(name)s: %(what)s (cron '%(cron)s' in %(zone)s, next run "
                    "%(next)s = %(utc)s UTC)"
                )
                % {
                    "name": schedule.name,
                    "what": OUTCOMES.get(what, what),
                    "cron": schedule.cron,
                    "zone": zone.key,
                    # "Tue 2026-12-08 00:00 KST"; the weekday in the reader's words
                    "next": f"{date_format(schedule.next_run.astimezone(zone), 'D')} "
                    f"{format_kst(schedule.next_run)}",
                    "utc": f"{schedule.next_run.astimezone(UTC):%Y-%m-%d %H:%M}",
                }
            )
