from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from draws.models import RANKS, LottoDraw


class PrizeTierOutputSerializer(serializers.Serializer):
    rank = serializers.IntegerField(help_text=_("1 to 5 (1st prize to 5th prize)."))
    winners = serializers.IntegerField(
        allow_null=True, help_text=_("Number of winning games; null when unknown.")
    )
    prize_each = serializers.IntegerField(
        allow_null=True,
        help_text=_("Prize per winning game in KRW; null when unknown."),
    )


class DrawOutputSerializer(serializers.Serializer):
    draw_no = serializers.IntegerField()
    draw_date = serializers.DateField()
    numbers = serializers.ListField(child=serializers.IntegerField())
    bonus = serializers.IntegerField()
    total_sales = serializers.IntegerField(allow_null=True)
    first_prize_winners = serializers.IntegerField(allow_null=True)
    first_prize_amount = serializers.IntegerField(allow_null=True)
    prizes = PrizeTierOutputSerializer(many=True)

    def to_representation(self, instance: LottoDraw) -> dict:
        # By hand: a page of 100 draws through DRF's field machinery costs more
        # than the rest of the request together.
        return draw_as_dict(instance)


def draw_as_dict(draw: LottoDraw) -> dict:
    prizes = []
    for rank in RANKS:
        winners, prize_each = draw.prize(rank)
        prizes.append({"rank": rank, "winners": winners, "prize_each": prize_each})
    return {
        "draw_no": draw.draw_no,
        "draw_date": draw.draw_date.isoformat(),
        "numbers": draw.numbers,
        "bonus": draw.bonus,
        "total_sales": draw.total_sales,
        "first_prize_winners": draw.first_prize_winners,
        "first_prize_amount": draw.first_prize_amount,
        "prizes": prizes,
    }
