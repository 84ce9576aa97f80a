import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from mlops.models import ReplayRun
from mlops.services.monitoring.replay import (
    replay_ensure,
    replay_request,
    replayed_status,
)
from mlops.services.registry.audit import Actor


class Command(BaseCommand):
    help = (
        "Fill the monitor's replayed series: a walk-forward replay of the last "
        "MONITOR_REPLAY_DRAWS (52) stored draws, kept apart from live accuracy and "
        "never a retrain trigger. --if-missing does nothing when a replay exists "
        "(the deploy step); --background queues it on the Q2 cluster."
    )

    def add_arguments(self, parser):
        parser.add_argument("--draws", type=int, help="Draws to replay (default 52).")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument(
            "--if-missing",
            action="store_true",
            help="Only when no replay was ever made (and enough draws are stored).",
        )
        parser.add_argument(
            "--background", action="store_true", help="Queue it on the Q2 cluster."
        )
        parser.add_argument("--json", action="store_true", dest="as_json")

    def handle(self, *args, draws, seed, if_missing, background, as_json, **options):
        if not 0 <= seed <= 2**32 - 1:
            raise CommandError(_("--seed must be between 0 and 4294967295."))
        if if_missing:
            run = replay_ensure(actor=Actor.cli())
            if run is None:
                self.stdout.write(
                    _("Replay: nothing to do (one exists or too few draws).")
                )
                return
        else:
            try:
                run = replay_request(
                    trigger=ReplayRun.Trigger.MANUAL,
                    actor=Actor.cli(),
                    draws=draws,
                    seed=seed,
                    run_async=background,
                )
            except ValidationError as exc:
                raise CommandError(" ".join(exc.messages)) from exc
        if background or if_missing:
            self.stdout.write(
                _("Replay %(id)s queued (%(draws)s draws).")
                % {"id": run.pk, "draws": run.draws}
            )
            return
        status = replayed_status()
        if as_json:
            self.stdout.write(json.dumps(status, indent=2))
            return
        if run.status != ReplayRun.Status.SUCCESS:
            raise CommandError(
                _("Replay %(id)s failed: %(error)s")
                % {"id": run.pk, "error": run.error}
            )
        self.stdout.write(
            _(
                "Replay %(id)s: draws %(first)s-%(last)s (%(count)s forecasts, "
                "replayed, not live).\naccuracy %(accuracy).2f%% (chance "
                "%(baseline).2f%%, 95%% [%(low).2f%%, %(high).2f%%]): %(verdict)s "
                "[%(verdict_code)s]; status %(status)s.\nmean hits %(hits).3f "
                "(chance 0.8): %(hits_verdict)s."
            )
            % {
                "id": run.pk,
                "first": run.first_draw,
                "last": run.last_draw,
                "count": status["sample_size"],
                "accuracy": status["accuracy"],
                "baseline": status["baseline"],
                "low": status["interval"][0],
                "high": status["interval"][1],
                "verdict": status["verdict"],
                "verdict_code": status["verdict_code"],
                "status": status["status"],
                "hits": status["mean_hits"]["value"],
                "hits_verdict": status["mean_hits"]["verdict"],
            }
        )
