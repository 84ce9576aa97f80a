from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from mlops.messages import message, render, verdict_fields
from mlops.models import RetrainRun
from mlops.services.registry.audit import Actor
from mlops.services.registry.registry import (
    ModelIntegrityError,
    model_version_active,
    model_version_read_verified,
)
from mlops.services.training.retrain_requests import (
    PARAM_RANGES,
    RetrainAlreadyRunning,
    retrain_run_now,
)

MAX_SEED = PARAM_RANGES["seed"][1]  # scikit-learn's random_state range

# (key in validation_metrics, label, format)
FIGURES = (
    ("mean_hits", gettext_lazy("mean hits of the top 6"), ".3f"),
    ("any_hit_rate", gettext_lazy("top 6 holds >= 1 winning number"), ".3f"),
    ("prize_rate", gettext_lazy("top 6 wins a prize (>= 3 hits)"), ".4f"),
    ("brier_score", gettext_lazy("Brier score (lower is better)"), ".5f"),
    ("brier_skill_score", gettext_lazy("Brier skill score"), "+.4f"),
)


class Command(BaseCommand):
    help = (
        "Train a model on all stored draws, register it and make it the active "
        "version, as a forced retrain run (recorded, single flight; the promotion "
        "gate's decision is recorded and printed); prints the version, file size, "
        "duration and validation figures next to their random baselines. --if-missing does nothing when an active "
        "version exists and its file matches its checksum. Needs ML_MIN_DRAWS draws."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-missing",
            action="store_true",
            help="Only train when no active model exists or its file fails its check.",
        )
        parser.add_argument("--n-estimators", type=int, help="Trees (settings).")
        parser.add_argument("--seed", type=int, help="Random seed (ML_SEED).")

    def handle(self, *args, if_missing, n_estimators, seed, **options):
        if if_missing and self._active_model_is_fine():
            return
        if n_estimators is not None and n_estimators < 1:
            raise CommandError(_("--n-estimators must be at least 1."))
        if seed is not None and not 0 <= seed <= MAX_SEED:
            raise CommandError(
                _("--seed must be between 0 and %(max)s, got %(seed)s.")
                % {"max": MAX_SEED, "seed": seed}
            )
        overrides = {"n_estimators": n_estimators, "seed": seed}
        try:
            run = retrain_run_now(
                trigger=RetrainRun.Trigger.CLI,
                actor=Actor.cli(),
                force=True,
                reason=message("activation.train_model_command"),
                params={k: v for k, v in overrides.items() if v is not None},
                activated_by="cli",
            )
        except RetrainAlreadyRunning as exc:
            raise CommandError(str(exc)) from exc
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        if run.status != RetrainRun.Status.SUCCESS or not run.promoted:
            raise CommandError(run.error_message_text or run.promotion_reason_text)
        self._report(run.model_version)
        self.stdout.write(
            _("Retrain run %(run)s (forced): %(decision)s")
            % {"run": run.pk, "decision": run.promotion_reason_text}
        )

    def _active_model_is_fine(self) -> bool:
        active = model_version_active()
        if active is None:
            self.stdout.write(_("No active model: training one."))
            return False
        try:
            model_version_read_verified(active)
        except ModelIntegrityError as exc:
            self.stdout.write(
                _(
                    "Active model %(version)s: %(problem)s (%(detail)s). Training a new model."
                )
                % {
                    "version": active.version,
                    "problem": exc.reason,
                    "detail": render(exc.detail_message, fallback=exc.detail),
                }
            )
            return False
        self.stdout.write(
            _(
                "Active model %(version)s is present and verified: nothing to do "
                "(--if-missing)."
            )
            % {"version": active.version}
        )
        return True

    def _report(self, version) -> None:
        self.stdout.write(
            _(
                "Trained and activated %(version)s: %(size).2f MB, draws "
                "%(first)s-%(last)s (%(count)s), %(seconds).2f s, %(trees)s trees, "
                "seed %(seed)s."
            )
            % {
                "version": version.version,
                "size": version.size_bytes / 1e6,
                "first": version.draw_from,
                "last": version.draw_to,
                "count": version.draw_count,
                "seconds": version.training_seconds,
                "trees": version.hyperparameters.get("n_estimators"),
                "seed": version.seed,
            }
        )
        metrics = version.validation_metrics or {}
        self.stdout.write(
            _(
                "Validation on the last %(count)s draws (time-ordered; value [95%% "
                "interval] vs random baseline):"
            )
            % {"count": metrics.get("sample_size")}
        )
        for key, label, fmt in FIGURES:
            figure = metrics.get(key)
            if not figure:
                continue
            low, high = (figure.get("interval") or [None, None])[:2]
            interval = (
                f"[{low:{fmt}}, {high:{fmt}}]"
                if low is not None and high is not None
                else _("[unbounded]")
            )
            self.stdout.write(
                f"  {label!s:<34} {figure['value']:{fmt}} {interval} "
                + _("vs")
                + f" {figure['baseline']:{fmt}}  {verdict_fields(figure)['verdict']}"
            )
        self.stdout.write(
            _(
                "Lottery draws are random: figures at the baseline are the expected "
                "result."
            )
        )
