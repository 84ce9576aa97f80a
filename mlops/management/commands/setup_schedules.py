from datetime import UTC

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from mlops.services.training.scheduling import schedule_zone, schedules_setup


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
            next_run = schedule.next_run.astimezone(zone)
            self.stdout.write(
                f"{schedule.name}: {what} (cron '{schedule.cron}' in {zone.key}, "
                f"next run {next_run:%a %Y-%m-%d %H:%M %Z} = "
                f"{schedule.next_run.astimezone(UTC):%Y-%m-%d %H:%M} UTC)"
            )
