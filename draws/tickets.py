"""Ticket check: which games of a Lotto 6/45 ticket won, from numbers or its QR code.

Read only. The ticket is never stored and never logged: a player's numbers are
their business. Every refusal is a `TicketProblem` naming the input field, a
machine code and a sentence for people.
"""

import datetime as dt
import re
import urllib.parse
from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import LottoDraw
from .schedule import next_scheduled_draw, scheduled_draw
from .selectors import draw_get_known

MAX_GAMES = 5
QR_HOSTS = ("qr.dhlottery.co.kr", "m.dhlottery.co.kr")
QR_MAX_LENGTH = 500
# 4-digit draw, then 1-5 slots (a marker and six two-digit numbers), then the
# ticket's serial, ignored.
QR_VALUE = re.compile(r"([0-9]{4})((?:[mqsn][0-9]{12}){1,5})([0-9]*)", re.ASCII)
QR_MODES = {"m": "manual", "q": "automatic", "s": "semi_automatic"}
SLOTS = "ABCDE"

STATUS_DRAWN = "drawn"
STATUS_AWAITING = "awaiting_result"
STATUS_PENDING = "pending"
STATUS_LABELS = {
    STATUS_DRAWN: _("Drawn"),
    STATUS_AWAITING: _("Counting the results"),
    STATUS_PENDING: _("Not drawn yet"),
}
MODE_LABELS = {
    "manual": _("Manual"),
    "automatic": _("Automatic"),
    "semi_automatic": _("Semi-automatic"),
}


class TicketProblem(Exception):
    """The ticket was refused: `field` ("draw", "games", "qr"), `code`, `message`."""

    def __init__(self, field: str, code: str, message):
        super().__init__(str(message))
        self.field, self.code, self.message = field, code, message


@dataclass(frozen=True)
class Game:
    numbers: tuple[int, ...]  # ascending
    mode: str | None = None  # from a QR code: manual / automatic / semi_automatic
    slot: str | None = None  # A-E, its line on the ticket


@dataclass(frozen=True)
class GameResult:
    game: Game
    matched: tuple[int, ...] | None  # None until the draw is stored
    bonus_matched: bool | None
    rank: int | None
    prize_each: int | None


@dataclass
class TicketCheck:
    draw_no: int
    draw_date: dt.date
    draws_at: dt.datetime
    status: str
    draw: LottoDraw | None
    results: list[GameResult] = field(default_factory=list)


def prize_rank(matched: int, bonus_matched: bool) -> int | None:
    """The rank of a game: 1st six, 2nd five and the bonus, 3rd five, 4th four,
    5th three; None below."""
    if matched == 6:
        return 1
    if matched == 5:
        return 2 if bonus_matched else 3
    return {4: 4, 3: 5}.get(matched)


def game_from_numbers(numbers, *, field: str, index: int, **extra) -> Game:
    """Check one game's six numbers; `index` (1-based) names it in the message."""
    if not isinstance(numbers, list | tuple) or len(numbers) != 6:
        count = len(numbers) if isinstance(numbers, list | tuple) else 0
        raise TicketProblem(
            field,
            "not_six_numbers",
            _("Game %(game)d has %(count)d numbers; a game has six.")
            % {"game": index, "count": count},
        )
    for number in numbers:
        if isinstance(number, bool) or not isinstance(number, int):
            raise TicketProblem(
                field,
                "not_a_number",
                _("Game %(game)d: every number must be a whole number.")
                % {"game": index},
            )
        if not 1 <= number <= 45:
            raise TicketProblem(
                field,
                "out_of_range",
                _("Game %(game)d: %(number)d is outside 1-45.")
                % {"game": index, "number": number},
            )
    repeated = sorted({n for n in numbers if numbers.count(n) > 1})
    if repeated:
        raise TicketProblem(
            field,
            "duplicate_number",
            _("Game %(game)d: %(number)d appears more than once.")
            % {"game": index, "number": repeated[0]},
        )
    return Game(numbers=tuple(sorted(numbers)), **extra)


def games_from_numbers(games) -> list[Game]:
    """Check the games given as lists of numbers (one to five)."""
    if not isinstance(games, list | tuple) or not games:
        raise TicketProblem("games", "no_games", _("Give one to five games."))
    if len(games) > MAX_GAMES:
        raise TicketProblem(
            "games",
            "too_many_games",
            _("A ticket has at most %(max)d games; got %(count)d.")
            % {"max": MAX_GAMES, "count": len(games)},
        )
    return [
        game_from_numbers(numbers, field="games", index=i, slot=SLOTS[i - 1])
        for i, numbers in enumerate(games, start=1)
    ]


def ticket_parse_qr(text: str) -> tuple[int, list[Game]]:
    """The draw number and the games printed in a Lotto 6/45 ticket's QR code."""
    text = (text or "").strip()
    if len(text) > QR_MAX_LENGTH:
        raise TicketProblem("qr", "malformed_qr", _("This is not a lottery QR code."))
    parts = urllib.parse.urlsplit(text)
    host = (parts.hostname or "").lower() if parts.scheme else ""
    if parts.scheme.lower() not in ("http", "https") or not host:
        raise TicketProblem("qr", "malformed_qr", _("This is not a lottery QR code."))
    if host not in QR_HOSTS:
        raise TicketProblem(
            "qr",
            "invalid_host",
            _("This QR code is not from the lottery operator (동행복권)."),
        )
    query = urllib.parse.parse_qs(parts.query, keep_blank_values=True)
    value = (query.get("v") or [""])[0]
    if value[:2].lower() == "pd":
        raise TicketProblem(
            "qr",
            "not_lotto645",
            _("This is a Pension 720+ ticket; only Lotto 6/45 tickets can be checked."),
        )
    operator_page = parts.path == "/qr.do" and query.get("method") == ["winQr"]
    if parts.path not in ("", "/") and not operator_page:
        raise TicketProblem("qr", "malformed_qr", _("This is not a lottery QR code."))
    match = QR_VALUE.fullmatch(value)
    if match is None:
        raise TicketProblem(
            "qr", "malformed_qr", _("The QR code's ticket data is not readable.")
        )
    draw_no = int(match.group(1))
    games = []
    slots = re.findall(r"([mqsn])([0-9]{12})", match.group(2))
    for index, (marker, digits) in enumerate(slots, start=1):
        if marker == "n":
            continue  # a line not bought
        numbers = [int(digits[i : i + 2]) for i in range(0, 12, 2)]
        games.append(
            game_from_numbers(
                numbers,
                field="qr",
                index=index,
                mode=QR_MODES[marker],
                slot=SLOTS[index - 1],
            )
        )
    if not games:
        raise TicketProblem("qr", "no_games", _("The QR code holds no bought game."))
    return draw_no, games


def ticket_check(
    *, draw_no: int, games: list[Game], now: dt.datetime | None = None, field="draw"
) -> TicketCheck:
    """Compare `games` with draw `draw_no`: drawn, awaiting the result, or pending."""
    if isinstance(draw_no, bool) or not isinstance(draw_no, int) or draw_no < 1:
        raise TicketProblem(field, "out_of_range", _("Draw numbers start at 1."))
    upcoming = next_scheduled_draw(timezone.now() if now is None else now)
    if draw_no > upcoming.draw_no:
        raise TicketProblem(
            field,
            "draw_not_yet_scheduled",
            _("Draw %(draw_no)d is not on sale yet; the next draw is %(next)d.")
            % {"draw_no": draw_no, "next": upcoming.draw_no},
        )
    calendar = scheduled_draw(draw_no)
    draw = draw_get_known(draw_no=draw_no)
    if draw is not None:
        status = STATUS_DRAWN
    elif draw_no < upcoming.draw_no:
        status = STATUS_AWAITING  # drawn on the calendar, not stored yet
    else:
        status = STATUS_PENDING
    check = TicketCheck(
        draw_no=draw_no,
        draw_date=draw.draw_date if draw else calendar.draw_date,
        draws_at=calendar.draws_at,
        status=status,
        draw=draw,
    )
    check.results = [_result(game, draw) for game in games]
    return check


def _result(game: Game, draw: LottoDraw | None) -> GameResult:
    if draw is None:
        return GameResult(game, None, None, None, None)
    winning = set(draw.numbers)
    matched = tuple(n for n in game.numbers if n in winning)
    bonus_matched = draw.bonus in game.numbers
    rank = prize_rank(len(matched), bonus_matched)
    prize_each = draw.prize(rank)[1] if rank else None
    return GameResult(game, matched, bonus_matched, rank, prize_each)
