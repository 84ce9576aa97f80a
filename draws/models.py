import datetime as dt

from django.db import models
from django.db.models import CheckConstraint, F, Q

FIRST_DRAW_DATE = dt.date(2002, 12, 7)
NUMBER_FIELDS = ("n1", "n2", "n3", "n4", "n5", "n6")


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
    source = models.CharField(max_length=40, default="import")
    created_at = models.DateTimeField(auto_now_add=True)

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
