import datetime as dt
import socket

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _
from django_q.conf import Conf

from mlops.services.training.scheduling import HEARTBEAT_FRESH_SECONDS, cluster_status

ALIVE = {str(Conf.IDLE), str(Conf.WORKING), str(Conf.STARTING)}


def fresh(cluster: dict) -> bool:
    beat = cluster["last_heartbeat"]
    if cluster["status"] not in ALIVE or not beat:
        return False
    age = timezone.now() - dt.datetime.fromisoformat(beat)
    return age.total_seconds() < HEARTBEAT_FRESH_SECONDS


class Command(BaseCommand):
    help = (
        "Exit 0 when a Q2 cluster on this host sends a fresh heartbeat, 1 otherwise: "
        "the worker container's health check (a dead worker shows at once, not "
        "when a weekly retrain is missed)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--any-host",
            action="store_true",
            help="accept a cluster on any host (a heartbeat anywhere)",
        )

    def handle(self, *args, any_host: bool = False, **options):
        status = cluster_status()
        host = socket.gethostname()
        ours = [
            cluster
            for cluster in status["clusters"]
            if (any_host or cluster["host"] == host) and fresh(cluster)
        ]
        if not ours:
            raise CommandError(
                _("No Q2 cluster with a fresh heartbeat on %(host)s.") % {"host": host}
            )
        self.stdout.write(
            _("Q2 cluster alive on %(host)s: %(count)d cluster(s).")
            % {"host": host, "count": len(ours)}
        )
