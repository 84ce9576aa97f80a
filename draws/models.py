import datetime as dt

from django.db import models
from django.db.models import CheckConstraint, F, Q
from django.utils.translation import gettext_lazy as _

FIRST_DRAW_DATE = dt.date(2002, 12, 7)
NUMBER_FIELDS = ("n1", "n2", "n3", "n4", "n5", "n6")


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
        _("1st prize winning games"), null=True, blank=True
    )
    first_prize_amount = models.BigIntegerField(
        _("1st prize per winning game"),
        null=True,
        blank=True,
        help_text=_("KRW per winning game"),
    )
    source = models.CharField(_("source"), max_length=40, default="import")
    created_at = models.DateTimeField(_("stored at"), auto_now_add=True)

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
