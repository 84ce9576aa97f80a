import datetime as dt
import json

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from draws.timefmt import format_kst
from mlops.services.training.scheduling import BrokerUnavailable, scheduler_status


class Command(BaseCommand):
    help = (
        "Show the next scheduled retrain (KST and UTC), the last and the running "
        "retrain, whether a Q2 cluster is alive (its heartbeat) and every schedule: "
        "the same facts as GET /api/admin/scheduler-status."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help="Print JSON."
        )

    def handle(self, *args, as_json: bool = False, **options):
        try:
            status = scheduler_status()
        except BrokerUnavailable as exc:
            raise CommandError(str(exc)) from exc  # one line, exit status 1
        if as_json:
            self.stdout.write(json.dumps(status, indent=2))
            return
        self.stdout.write("\n".join(render(status)))


def render(status: dict) -> list[str]:
    """The status as people read it: KST, labelled (`2026-12-08 00:00 KST`)."""
    nxt = status["next_retrain"]
    if nxt["scheduled"]:
        line = _("Next retrain: %s") % when(nxt["kst"])
        if nxt["overdue"]:
            line += " " + _("(OVERDUE: is the cluster running?)")
        lines = [line]
    else:
        lines = [_("Next retrain: not scheduled (%s)") % nxt["hint"]]
    for label, run in (
        (_("Last run"), status["last_run"]),
        (_("Running"), status["running"]),
    ):
        if run is None:
            lines.append(_("%s: none") % label)
        else:
            lines.append(
                _(
                    "%(label)s: #%(id)s %(status)s (%(trigger)s), finished "
                    "%(finished)s, model %(model)s"
                )
                % {
                    "label": label,
                    "id": run["id"],
                    "status": run["status"],
                    "trigger": run["trigger"],
                    "finished": when(run["finished_at"]),
                    "model": run["model_version"] or "-",
                }
            )
    cluster = status["cluster"]
    if cluster["alive"]:
        alive = _("alive")
    else:
        alive = _("NOT RUNNING (no heartbeat)")
    lines.append(
        _("Cluster: %(alive)s [%(broker)s]")
        % {"alive": alive, "broker": cluster["broker"]}
    )
    for item in cluster["clusters"]:
        lines.append(
            _(
                "  %(host)s pid %(pid)s: %(status)s, %(workers)s workers, "
                "last heartbeat %(heartbeat)s"
            )
            % {**item, "heartbeat": when(item["last_heartbeat"])}
        )
    lines.append(_("Schedules:"))
    for schedule in status["schedules"]:
        lines.append(
            _("  %(name)s: cron '%(cron)s', next %(next)s")
            % {
                "name": schedule["name"],
                "cron": schedule["cron"],
                "next": when((schedule["next_run"] or {}).get("kst")),
            }
        )
    return lines


def when(value) -> str:
    """An ISO timestamp (or a datetime) from the service as `2026-12-08 00:00 KST`."""
    if not value:
        return "-"
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    return format_kst(value)
