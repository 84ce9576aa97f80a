import datetime as dt

from django.db import models
from django.db.models import CheckConstraint, F, Q
from django.utils.translation import gettext_lazy as _

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

    draw_no = models.PositiveIntegerField(_("draw number"), unique=True)
    draw_date = models.DateField(_("draw date"), db_index=True)
    n1 = models.PositiveSmallIntegerField(_("number 1"))
    n2 = models.PositiveSmallIntegerField(_("number 2"))
    n3 = models.PositiveSmallIntegerField(_("number 3"))
    n4 = models.PositiveSmallIntegerField(_("number 4"))
    n5 = models.PositiveSmallIntegerField(_("number 5"))
    n6 = models.PositiveSmallIntegerField(_("number 6"))
    bonus = models.PositiveSmallIntegerField(_("bonus number"))
    total_sales = models.BigIntegerField(_("total sales"), null=True, blank=True)
    first_prize_winners = models.PositiveIntegerField(
        _("1st prize: number of winning games"), null=True, blank=True
    )
    first_prize_amount = models.BigIntegerField(
        _("1st prize: prize per winning game"),
        null=True,
        blank=True,
        help_text=_("KRW per winning game"),
    )
    rank2_winners = models.PositiveIntegerField(
        _("2nd prize: number of winning games"), null=True, blank=True
    )
    rank2_prize_each = models.BigIntegerField(
        _("2nd prize: prize per winning game"),
        null=True,
        blank=True,
        help_text=_("KRW per winning game"),
    )
    rank3_winners = models.PositiveIntegerField(
        _("3rd prize: number of winning games"), null=True, blank=True
    )
    rank3_prize_each = models.BigIntegerField(
        _("3rd prize: prize per winning game"),
        null=True,
        blank=True,
        help_text=_("KRW per winning game"),
    )
    rank4_winners = models.PositiveIntegerField(
        _("4th prize: number of winning games"), null=True, blank=True
    )
    rank4_prize_each = models.BigIntegerField(
        _("4th prize: prize per winning game"),
        null=True,
        blank=True,
        help_text=_("KRW per winning game"),
    )
    rank5_winners = models.PositiveIntegerField(
        _("5th prize: number of winning games"), null=True, blank=True
    )
    rank5_prize_each = models.BigIntegerField(
        _("5th prize: prize per winning game"),
        null=True,
        blank=True,
        help_text=_("KRW per winning game"),
    )
    source = models.CharField(
        _("source"), max_length=SOURCE_MAX_LENGTH, default="import"
    )
    created_at = models.DateTimeField(_("stored at"), auto_now_add=True)
    # Set by the services when a draw is stored or given missing prize figures:
    # part of the HTTP ETag. Not auto_now and nullable on purpose: adding or
    # changing such a column rebuilds lotto_draws on SQLite, and the rebuild fails
    # on the mlops triggers that read the table.
    updated_at = models.DateTimeField(
        _("updated at"), null=True, blank=True, editable=False
    )

    class Meta:
        db_table = "lotto_draws"
        ordering = ["-draw_no"]
        verbose_name = _("draw")
        verbose_name_plural = _("draws")
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
        return _("Draw %(no)d (%(date)s): %(numbers)s + %(bonus)d") % {
            "no": self.draw_no,
            "date": self.draw_date,
            "numbers": self.numbers,
            "bonus": self.bonus,
        }

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
