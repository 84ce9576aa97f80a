import re

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import ALL_PRIZE_FIELDS, NUMBER_FIELDS, LottoDraw

# The largest value a PostgreSQL integer column holds: a bigger number matches
# nothing, it must not reach the database (DataError, a 500).
MAX_INTEGER = 2**31 - 1


def whole_number(text: str | None) -> int | None:
    """`text` as a non-negative integer if it is ASCII digits, else None.

    str.isdigit() is no test: it accepts "²", which int() refuses.
    """
    text = (text or "").strip()
    return int(text) if re.fullmatch(r"[0-9]{1,20}", text) else None


class DrawYearFilter(admin.SimpleListFilter):
    title = _("year")
    parameter_name = "year"

    def lookups(self, request, model_admin):
        years = LottoDraw.objects.dates("draw_date", "year", order="DESC")
        return [(str(d.year), str(d.year)) for d in years]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        year = whole_number(self.value())
        if year is None or not 1 <= year <= 9999:  # dates end at year 9999
            return queryset.none()
        return queryset.filter(draw_date__year=year)


@admin.register(LottoDraw)
class LottoDrawAdmin(admin.ModelAdmin):
    list_display = (
        "draw_no",
        "draw_date",
        "numbers_display",
        "bonus",
        "total_sales",
        "first_prize_winners",
        "first_prize_amount",
        "prizes_known",
    )
    search_fields = ("draw_no",)
    list_filter = (DrawYearFilter,)
    date_hierarchy = "draw_date"
    ordering = ("-draw_no",)
    # The history is written by imports and syncs, which validate and score.
    readonly_fields = [f.name for f in LottoDraw._meta.fields]
    fieldsets = (
        (None, {"fields": ("draw_no", "draw_date", NUMBER_FIELDS, "bonus")}),
        (
            _("Prizes"),
            {
                "fields": (
                    "total_sales",
                    *[ALL_PRIZE_FIELDS[i : i + 2] for i in range(0, 10, 2)],
                )
            },
        ),
        (_("Record"), {"fields": ("source", "created_at", "updated_at")}),
    )

    @admin.display(description=_("prize figures"), boolean=True)
    def prizes_known(self, obj):
        """Every rank's winners and prize known (else a sync asks again)."""
        return not obj.missing_prize_fields

    @admin.display(description=_("winning numbers"))
    def numbers_display(self, obj):
        return " ".join(f"{n:02d}" for n in obj.numbers)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # view only: a Save button that saves nothing misleads

    def has_delete_permission(self, request, obj=None):
        return False

    def get_search_results(self, request, queryset, search_term):
        # search_fields on an integer does an exact match only for digits.
        number = whole_number(search_term)
        if number is not None:
            if number > MAX_INTEGER:
                return queryset.none(), False
            return queryset.filter(draw_no=number), False
        return super().get_search_results(request, queryset, search_term)
