from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from draws.tickets import (
    STATUS_LABELS,
    TicketProblem,
    games_from_numbers,
    ticket_check,
    ticket_parse_qr,
)


def _game(text: str) -> list[int]:
    try:
        return [int(part) for part in text.replace(",", " ").split()]
    except ValueError as exc:
        raise CommandError(
            _("games: not whole numbers: %(text)s") % {"text": repr(text)}
        ) from exc


class Command(BaseCommand):
    help = (
        "Check a Lotto 6/45 ticket: --draw N with one to five --game '1,2,3,4,5,6', "
        "or --qr with the text of the ticket's QR code. Prints the draw, its status "
        "(drawn, awaiting_result, pending) and each game's matches, rank and prize "
        "per winning game. The ticket is neither stored nor logged."
    )

    def add_arguments(self, parser):
        parser.add_argument("--draw", type=int, help="The draw number on the ticket.")
        parser.add_argument(
            "--game", action="append", default=[], help="Six numbers, e.g. 1,2,3,4,5,6"
        )
        parser.add_argument("--qr", help="The text of the ticket's QR code.")

    def handle(self, *args, draw, game, qr, **options):
        try:
            if qr:
                draw, games = ticket_parse_qr(qr)
                check = ticket_check(draw_no=draw, games=games, field="qr")
            elif draw is not None:
                games = games_from_numbers([_game(text) for text in game])
                check = ticket_check(draw_no=draw, games=games)
            else:
                raise CommandError(_("Give --qr, or --draw with one to five --game."))
        except TicketProblem as problem:
            raise CommandError(
                f"{problem.field}: {problem.message} ({problem.code})"
            ) from problem
        self.stdout.write(self._draw_line(check))
        for result in check.results:
            self.stdout.write(self._game_line(result))

    def _draw_line(self, check) -> str:
        head = f"Draw {check.draw_no} ({check.draw_date}): {check.status}"
        label = f" - {STATUS_LABELS[check.status]}"
        if check.draw is None:
            return f"{head}{label}; broadcast {check.draws_at:%Y-%m-%d %H:%M} KST"
        numbers = " ".join(f"{n:02d}" for n in check.draw.numbers)
        return f"{head}{label}; {numbers} + {check.draw.bonus:02d}"

    def _game_line(self, result) -> str:
        numbers = " ".join(f"{n:02d}" for n in result.game.numbers)
        line = f"{result.game.slot}: {numbers}"
        if result.matched is None:
            return f"{line}  (result not known yet)"
        rank = f"rank {result.rank}" if result.rank else "no prize"
        prize = f", {result.prize_each:,} KRW per game" if result.prize_each else ""
        bonus = " + bonus" if result.bonus_matched else ""
        return f"{line}  matched {len(result.matched)}{bonus}: {rank}{prize}"
