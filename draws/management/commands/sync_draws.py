from django.core.management.base import BaseCommand, CommandError

from draws.services import DrawImportError
from draws.sync import DrawSourceError
from draws.sync_service import DrawSyncError, draw_sync_latest


class Command(BaseCommand):
    help = (
        "Fetch the draws after the last stored one from the operator's public JSON "
        "endpoints (the current one first, the legacy one as a fallback), one request "
        "per draw, stopping at the first draw not drawn yet or at "
        "DRAWS_SYNC_MAX_DRAWS. Every fetched draw is validated like an import, plus "
        "the weekly date. All or nothing: the draws are stored in one transaction "
        "once every fetch and check has passed; if any fails (offline, HTTP error, "
        "HTML or malformed answer, a draw that fails validation) nothing is written "
        "and the command exits non-zero with one line saying why. Run it again "
        "later: it resumes after the last stored draw."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--max-draws",
            type=int,
            default=None,
            help="Fetch at most this many draws (default: DRAWS_SYNC_MAX_DRAWS).",
        )

    def handle(self, *args, max_draws: int | None, **options):
        try:
            result = draw_sync_latest(max_draws=max_draws)
        except (DrawSourceError, DrawSyncError) as exc:
            raise CommandError(str(exc)) from exc
        except DrawImportError as exc:
            raise CommandError(exc.summary()) from exc
        self.stdout.write(result.summary())
