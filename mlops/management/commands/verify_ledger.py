from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from mlops.selectors import ledger_head
from mlops.services.monitoring.ledger import GENESIS, ledger_verify


class Command(BaseCommand):
    help = _(
        "Recompute the forecast ledger's hash chain from the stored forecasts and "
        "name the first broken link (exit 1). --saved-head H also checks that the "
        "chain extends a head saved earlier."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--saved-head", help=_("A head saved earlier (64 hex digits).")
        )

    def handle(self, *args, saved_head, **options):
        problem = ledger_verify(saved_head=saved_head)
        if problem is not None:
            where = ""
            if problem.prediction_id is not None:
                where = _("link %(index)s, forecast %(id)s for draw %(draw)s: ") % {
                    "index": problem.index if problem.index is not None else "-",
                    "id": problem.prediction_id,
                    "draw": problem.target_draw_no,
                }
            raise CommandError(
                _("Ledger broken at %(where)s%(message)s")
                % {"where": where, "message": problem.message}
            )
        head = ledger_head()
        self.stdout.write(
            _("Ledger intact: %(length)s links, head %(head)s.")
            % {"length": head.length, "head": head.commitment or GENESIS}
        )
