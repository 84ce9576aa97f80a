import datetime as dt

from django.db import models
from django.db.models import CheckConstraint, F, Q

FIRST_DRAW_DATE = dt.date(2002, 12, 7)
NUMBER_FIELDS = ("n1", "n2", "n3", "n4", "n5", "n6")
RANKS = (1, 2, 3, 4, 5)
# Prize figures per rank: (winning games, KRW per winning game). Rank 1 keeps the
# names it had before ranks 2-5 were stored.
PRIZE_FIELDS = {
    1: ("first_prize_winners", "first_prize_amount"),
    **{k: (f"rank{k}_winners", f"rank{k}_prize_each") for k in (2, 3, 4, 5)},
}
ALL_PRIZE_FIELDS = tuple(f for pair in PRIZE_FIELDS.values() for f in pair)
SOURCE_MAX_LENGTH = 40


def expected_draw_date(draw_no: int) -> dt.date:
    """The Saturday on which draw `draw_no` takes place: weekly since draw 1."""
    return FIRST_DRAW_DATE + dt.timedelta(weeks=draw_no - 1)


def _number_in_range(field: str) -> Q:
    return Q(**{f"{field}__gte": 1, f"{field}__lte": 45})


class LottoDraw(models.Model):
    """One official Lotto 6/45 draw; the numbers are stored in ascending order."""

    draw_no = models.PositiveIntegerField(unique=True)
    draw_date = models.DateField(db_index=True)
    n1 = models.PositiveSmallIntegerField()
    n2 = models.PositiveSmallIntegerField()
    n3 = models.PositiveSmallIntegerField()
    n4 = models.PositiveSmallIntegerField()
    n5 = models.PositiveSmallIntegerField()
    n6 = models.PositiveSmallIntegerField()
    bonus = models.PositiveSmallIntegerField()
    total_sales = models.BigIntegerField(null=True, blank=True)
    first_prize_winners = models.PositiveIntegerField(null=True, blank=True)
    first_prize_amount = models.BigIntegerField(
        null=True, blank=True, help_text="KRW per winning game"
    )
    rank2_winners = models.PositiveIntegerField(null=True, blank=True)
    rank2_prize_each = models.BigIntegerField(
        null=True, blank=True, help_text="KRW per winning game"
    )
    rank3_winners = models.PositiveIntegerField(null=True, blank=True)
    rank3_prize_each = models.BigIntegerField(
        null=True, blank=True, help_text="KRW per winning game"
    )
    rank4_winners = models.PositiveIntegerField(null=True, blank=True)
    rank4_prize_each = models.BigIntegerField(
        null=True, blank=True, help_text="KRW per winning game"
    )
    rank5_winners = models.PositiveIntegerField(null=True, blank=True)
    rank5_prize_each = models.BigIntegerField(
        null=True, blank=True, help_text="KRW per winning game"
    )
    source = models.CharField(max_length=SOURCE_MAX_LENGTH, default="import")
    created_at = models.DateTimeField(auto_now_add=True)
    # Moves when a sync fills in missing prize figures: part of the HTTP ETag.
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "lotto_draws"
        ordering = ["-draw_no"]
        constraints = [
            CheckConstraint(condition=Q(draw_no__gte=1), name="draw_no_positive"),
            *[
                CheckConstraint(condition=_number_in_range(f), name=f"{f}_in_1_45")
                for f in (*NUMBER_FIELDS, "bonus")
            ],
            # Strictly ascending implies six distinct numbers.
            CheckConstraint(
                condition=Q(n1__lt=F("n2"))
                & Q(n2__lt=F("n3"))
                & Q(n3__lt=F("n4"))
                & Q(n4__lt=F("n5"))
                & Q(n5__lt=F("n6")),
                name="numbers_ascending_distinct",
            ),
            CheckConstraint(
                condition=~Q(bonus=F("n1"))
                & ~Q(bonus=F("n2"))
                & ~Q(bonus=F("n3"))
                & ~Q(bonus=F("n4"))
                & ~Q(bonus=F("n5"))
                & ~Q(bonus=F("n6")),
                name="bonus_not_among_numbers",
            ),
        ]

    def __str__(self) -> str:
        return f"Draw {self.draw_no} ({self.draw_date}): {self.numbers} + {self.bonus}"

    @property
    def numbers(self) -> list[int]:
        return [getattr(self, f) for f in NUMBER_FIELDS]

    def prize(self, rank: int) -> tuple[int | None, int | None]:
        """(winning games, KRW per winning game) of `rank`; None where unknown."""
        winners, prize_each = PRIZE_FIELDS[rank]
        return getattr(self, winners), getattr(self, prize_each)

    @property
    def prizes(self) -> list[dict]:
        tiers = []
        for rank in RANKS:
            winners, prize_each = self.prize(rank)
            tiers.append({"rank": rank, "winners": winners, "prize_each": prize_each})
        return tiers

    @property
    def missing_prize_fields(self) -> list[str]:
        return [f for f in ALL_PRIZE_FIELDS if getattr(self, f) is None]
