import json

from django.core.management.base import BaseCommand, CommandError

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
    nxt = status["next_retrain"]
    if nxt["scheduled"]:
        overdue = " (OVERDUE: is the cluster running?)" if nxt["overdue"] else ""
        lines = [f"Next retrain: {nxt['kst']} KST = {nxt['utc']} UTC{overdue}"]
    else:
        lines = [f"Next retrain: not scheduled ({nxt['hint']})"]
    for label, run in (
        ("Last run", status["last_run"]),
        ("Running", status["running"]),
    ):
        if run is None:
            lines.append(f"{label}: none")
        else:
            lines.append(
                f"{label}: #{run['id']} {run['status']} ({run['trigger']}), "
                f"finished {run['finished_at'] or '-'}, model {run['model_version'] or '-'}"
            )
    cluster = status["cluster"]
    alive = "alive" if cluster["alive"] else "NOT RUNNING (no heartbeat)"
    lines.append(f"Cluster: {alive} [{cluster['broker']}]")
    for item in cluster["clusters"]:
        lines.append(
            f"  {item['host']} pid {item['pid']}: {item['status']}, "
            f"{item['workers']} workers, last heartbeat {item['last_heartbeat']}"
        )
    lines.append("Schedules:")
    for schedule in status["schedules"]:
        when = schedule["next_run"]["kst"] if schedule["next_run"] else "-"
        lines.append(f"  {schedule['name']}: cron '{schedule['cron']}', next {when}")
    return lines
