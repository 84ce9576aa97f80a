"""POST /api/tickets/check/: which games of a ticket won (numbers or QR text).

The ticket is neither stored nor logged.
"""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail, ValidationError
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.views import APIView

from draws.schedule import KST
from draws.tickets import (
    MAX_GAMES,
    MODE_LABELS,
    QR_MAX_LENGTH,
    STATUS_LABELS,
    TicketCheck,
    TicketProblem,
    games_from_numbers,
    ticket_check,
    ticket_parse_qr,
)

from .serializers import PrizeTierOutputSerializer


class GamesField(serializers.ListField):
    """A list of games; more than five is refused before each game is read."""

    def to_internal_value(self, data):
        if isinstance(data, list) and len(data) > MAX_GAMES:
            raise ValidationError(
                _("A ticket has at most %(max)d games; got %(count)d.")
                % {"max": MAX_GAMES, "count": len(data)},
                code="too_many_games",
            )
        return super().to_internal_value(data)


class TicketCheckInputSerializer(serializers.Serializer):
    draw = serializers.IntegerField(
        required=False, help_text=_("The draw number printed on the ticket.")
    )
    games = GamesField(
        required=False,
        child=serializers.ListField(child=serializers.IntegerField()),
        help_text=_("One to five games of six numbers from 1 to 45."),
    )
    qr = serializers.CharField(
        required=False,
        max_length=QR_MAX_LENGTH,
        help_text=_("The text of the ticket's QR code (a dhlottery.co.kr address)."),
    )

    def validate(self, attrs):
        if "qr" in attrs and ("draw" in attrs or "games" in attrs):
            raise ValidationError(
                {
                    "qr": [
                        _problem("qr_or_games", _("Give either qr or draw and games."))
                    ]
                }
            )
        if "qr" not in attrs:
            for name in ("draw", "games"):
                if name not in attrs:
                    raise ValidationError(
                        {name: [_problem("required", _("This field is required."))]}
                    )
        return attrs


class TicketDrawOutputSerializer(serializers.Serializer):
    draw_no = serializers.IntegerField()
    draw_date = serializers.DateField()
    draws_at = serializers.DateTimeField(help_text=_("Broadcast time, +09:00."))
    numbers = serializers.ListField(child=serializers.IntegerField(), allow_null=True)
    bonus = serializers.IntegerField(allow_null=True)
    prizes = PrizeTierOutputSerializer(many=True, allow_null=True)


class TicketGameOutputSerializer(serializers.Serializer):
    slot = serializers.CharField(help_text=_("The game's line on the ticket, A-E."))
    numbers = serializers.ListField(child=serializers.IntegerField())
    mode = serializers.ChoiceField(
        choices=list(MODE_LABELS), allow_null=True, help_text=_("From a QR code.")
    )
    mode_label = serializers.CharField(allow_null=True)
    matched = serializers.ListField(child=serializers.IntegerField(), allow_null=True)
    bonus_matched = serializers.BooleanField(allow_null=True)
    rank = serializers.IntegerField(allow_null=True)
    prize_each = serializers.IntegerField(
        allow_null=True, help_text=_("KRW per winning game of that rank.")
    )


class TicketCheckOutputSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=list(STATUS_LABELS))
    status_label = serializers.CharField()
    draw = TicketDrawOutputSerializer()
    games = TicketGameOutputSerializer(many=True)


class TicketCheckApi(APIView):
    """Check a Lotto 6/45 ticket against its draw."""

    parser_classes = [JSONParser]  # a form body is a 415, not a guessed ticket

    @extend_schema(
        summary=_("Check a ticket"),
        description=_(
            "Give the draw number and up to five games, or the text of the QR code "
            "printed on the ticket. Answers each game's matched numbers and prize "
            "tier, or that the draw has not taken place yet."
        ),
        request=TicketCheckInputSerializer,
        responses={
            200: TicketCheckOutputSerializer,
            400: OpenApiResponse(
                description=_(
                    "Bad input: `errors` names the field (draw, games or qr) and a "
                    "code: invalid_host, malformed_qr, not_lotto645, no_games, "
                    "not_six_numbers, not_a_number, out_of_range, duplicate_number, "
                    "too_many_games, draw_not_yet_scheduled, qr_or_games, invalid, "
                    "required."
                )
            ),
        },
        examples=[
            OpenApiExample(
                "Numbers",
                summary=_("Numbers"),
                value={"draw": 1220, "games": [[2, 22, 25, 28, 34, 43]]},
                request_only=True,
            ),
            OpenApiExample(
                "QR code",
                summary=_("QR code"),
                value={"qr": "https://m.dhlottery.co.kr/?v=1220m022225283443"},
                request_only=True,
            ),
        ],
    )
    def post(self, request):
        data = read_ticket_request(request.data)
        try:
            if "qr" in data:
                draw_no, games = ticket_parse_qr(data["qr"])
                check = ticket_check(draw_no=draw_no, games=games, field="qr")
            else:
                games = games_from_numbers(data["games"])
                check = ticket_check(draw_no=data["draw"], games=games)
        except TicketProblem as problem:
            raise ValidationError(
                {problem.field: [_problem(problem.code, problem.message)]}
            ) from None
        return Response(ticket_check_as_dict(check))


def read_ticket_request(data) -> dict:
    """The body's fields with their JSON types checked, as the input serializer
    describes them. By hand: DRF's field machinery on 30 numbers costs more than
    the whole check. The numbers' ranges are the service's to judge."""
    if not isinstance(data, dict):
        raise ValidationError(
            {"non_field_errors": [_problem("invalid", _("Send a JSON object."))]}
        )
    fields = {}
    if "qr" in data:
        qr = data["qr"]
        if not isinstance(qr, str):
            raise ValidationError({"qr": [_problem("invalid", _("Not a string."))]})
        if len(qr) > QR_MAX_LENGTH:
            raise ValidationError(
                {"qr": [_problem("malformed_qr", _("This is not a lottery QR code."))]}
            )
        fields["qr"] = qr
    if "draw" in data:
        fields["draw"] = _whole_number(data["draw"], field="draw")
    if "games" in data:
        fields["games"] = _games(data["games"])
    return TicketCheckInputSerializer().validate(fields)


def _digits(text: str) -> bool:
    text = text.strip()
    return text.isascii() and text.isdigit() and len(text) <= 9


def _whole_number(value, *, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        value = None
    elif isinstance(value, str):
        value = int(value.strip()) if _digits(value) else None
    if value is None:
        raise ValidationError(
            {field: [_problem("invalid", _("A valid integer is required."))]}
        )
    return value


def _games(value) -> list:
    if not isinstance(value, list) or not all(isinstance(g, list) for g in value):
        raise ValidationError(
            {"games": [_problem("invalid", _("Give a list of games, each a list."))]}
        )
    if len(value) > MAX_GAMES:
        raise ValidationError(
            {
                "games": [
                    _problem(
                        "too_many_games",
                        _("A ticket has at most %(max)d games; got %(count)d.")
                        % {"max": MAX_GAMES, "count": len(value)},
                    )
                ]
            }
        )
    games = []
    for index, game in enumerate(value, start=1):
        numbers = []
        for number in game:
            if isinstance(number, bool) or not isinstance(number, int):
                raise ValidationError(
                    {
                        "games": [
                            _problem(
                                "not_a_number",
                                _("Game %(game)d: every number must be a whole number.")
                                % {"game": index},
                            )
                        ]
                    }
                )
            numbers.append(number)
        games.append(numbers)
    return games


def _problem(code: str, message) -> ErrorDetail:
    return ErrorDetail(str(message), code=code)


def ticket_check_as_dict(check: TicketCheck) -> dict:
    draw = check.draw
    return {
        "status": check.status,
        "status_label": str(STATUS_LABELS[check.status]),
        "draw": {
            "draw_no": check.draw_no,
            "draw_date": check.draw_date.isoformat(),
            "draws_at": check.draws_at.astimezone(KST).isoformat(),
            "numbers": draw.numbers if draw else None,
            "bonus": draw.bonus if draw else None,
            "prizes": draw.prizes if draw else None,
        },
        "games": [
            {
                "slot": result.game.slot,
                "numbers": list(result.game.numbers),
                "mode": result.game.mode,
                "mode_label": (
                    str(MODE_LABELS[result.game.mode]) if result.game.mode else None
                ),
                "matched": None if result.matched is None else list(result.matched),
                "bonus_matched": result.bonus_matched,
                "rank": result.rank,
                "prize_each": result.prize_each,
            }
            for result in check.results
        ],
    }
