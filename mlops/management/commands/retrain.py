from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from mlops.messages import render
from mlops.services.registry.audit import Actor
from mlops.services.training.retrain_requests import (
    RetrainAlreadyRunning,
    retrain_run_now,
)


class Command(BaseCommand):
    help = (
        "Retrain the model now, in this process, and print the run's result. The "
        "new model becomes active only if its validation metrics are not worse than "
        "the active model's by more than RETRAIN_PROMOTION_TOLERANCE (--force "
        "overrides). Refused while another retrain is queued or running. Exit code "
        "0: the run succeeded (promoted or not); 1: it failed, was skipped, or was "
        "refused."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--emergency", action="store_true", help="Record the trigger as emergency."
        )
        parser.add_argument(
            "--tune",
            action="store_true",
            help="Grid-search the forest's parameters first (TimeSeriesSplit).",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Promote the new model even if the gate finds it worse.",
        )
        parser.add_argument(
            "--warm-start",
            action="store_true",
            help="Grow the active forest with trees for the new draws.",
        )
        parser.add_argument("--reason", default="", help="Why, for the record.")
        parser.add_argument("--seed", type=int, help="Random seed (ML_SEED).")
        parser.add_argument("--n-estimators", type=int, help="Trees (settings).")

    def handle(self, *args, emergency, tune, force, warm_start, reason, **options):
        params = {
            name: options[name]
            for name in ("seed", "n_estimators")
            if options.get(name) is not None
        }
        try:
            run = retrain_run_now(
                trigger="emergency" if emergency else "cli",
                actor=Actor.cli(),
                force=force,
                tune=tune,
                warm_start=warm_start,
                reason=reason,
                params=params,
            )
        except RetrainAlreadyRunning as exc:
            raise CommandError(_("%(error)s Not started.") % {"error": exc}) from exc
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stdout.write(describe_run(run))
        # Unchanged is a normal answer (nothing new to learn), not a failure.
        if run.status not in (run.Status.SUCCESS, run.Status.UNCHANGED):
            raise CommandError(
                _("Retrain run %(run)s %(status)s: %(error)s")
                % {"run": run.pk, "status": run.status, "error": run.error_message_text}
            )


def describe_run(run) -> str:
    lines = [
        _("Retrain run %(run)s (%(trigger)s): %(status)s")
        % {"run": run.pk, "trigger": run.trigger, "status": run.status}
    ]
    if run.model_version:
        if run.promoted:
            line = _("  model: %s, promoted (active)")
        else:
            line = _("  model: %s, kept archived")
        lines.append(line % run.model_version.version)
    if run.promotion_reason_text:
        lines.append(_("  gate: %s") % run.promotion_reason_text)
    if run.draw_count:
        lines.append(
            _("  draws: %(count)s (%(first)s-%(last)s)")
            % {"count": run.draw_count, "first": run.draw_from, "last": run.draw_to}
        )
    if run.duration_seconds is not None:
        memory = (
            f"{run.peak_memory_bytes / 2**20:.0f} MiB" if run.peak_memory_bytes else "?"
        )
        lines.append(
            _("  took %(seconds).1f s, peak memory %(memory)s")
            % {"seconds": run.duration_seconds, "memory": memory}
        )
    if run.tuning.get("best_params"):
        lines.append(
            _(
                "  tuning: best %(scoring)s %(score).4f with %(params)s (%(seconds).0f s)"
            )
            % {
                "scoring": run.tuning["scoring"],
                "score": run.tuning["best_score"],
                "params": run.tuning["best_params"],
                "seconds": run.tuning["seconds"],
            }
        )
    warm_start = run.tuning.get("warm_start") or {}
    if warm_start.get("used") is False:
        reason = render(warm_start.get("reason_message"), fallback=warm_start["reason"])
        lines.append(_("  full refit instead of warm start: %s") % reason)
    if run.error_message:
        lines.append(_("  error: %s") % run.error_message_text)
    return "\n".join(lines)
