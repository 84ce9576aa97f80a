from rest_framework import serializers

from draws.models import LottoDraw


class DrawOutputSerializer(serializers.ModelSerializer):
    numbers = serializers.ListField(child=serializers.IntegerField(), read_only=True)

    class Meta:
        model = LottoDraw
        fields = (
            "draw_no",
            "draw_date",
            "numbers",
            "bonus",
            "total_sales",
            "first_prize_winners",
            "first_prize_amount",
        )
