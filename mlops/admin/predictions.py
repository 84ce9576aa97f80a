"""The recorded forecasts, by target draw, with their scores once drawn."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from mlops.models import Prediction

from .base import MAX_INTEGER, ReadOnlyAdmin, whole_number


class ScoredFilter(admin.SimpleListFilter):
    title = _("scored")
    parameter_name = "scored"

    def lookups(self, request, model_admin):
        return (("yes", _("Scored")), ("no", _("Waiting for the draw")))

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(scored_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(scored_at__isnull=True)
        return queryset


class TargetDrawFilter(admin.SimpleListFilter):
    """The most recent target draws; older ones by searching the draw number."""

    title = _("target draw")
    parameter_name = "target_draw"
    RECENT = 15

    def lookups(self, request, model_admin):
        draws = (
            Prediction.objects.order_by("-target_draw_no")
            .values_list("target_draw_no", flat=True)
            .distinct()[: self.RECENT]
        )
        return [(str(d), str(d)) for d in draws]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        draw_no = whole_number(self.value())
        if draw_no is None or draw_no > MAX_INTEGER:
            return queryset.none()
        return queryset.filter(target_draw_no=draw_no)


@admin.register(Prediction)
class PredictionAdmin(ReadOnlyAdmin):
    list_display = (
        "target_draw_no",
        "target_draw_date",
        "forecaster",
        "mode",
        "top_numbers",
        "served_count",
        "scored_at",
        "hits",
        "brier_score",
    )
    list_filter = (ScoredFilter, TargetDrawFilter, "mode")
    list_select_related = ("model_version",)
    search_fields = ("target_draw_no", "forecaster")

    def get_search_results(self, request, queryset, search_term):
        draw_no = whole_number(search_term)
        if draw_no is not None:
            if draw_no > MAX_INTEGER:
                return queryset.none(), False
            return queryset.filter(target_draw_no=draw_no), False
        return super().get_search_results(request, queryset, search_term)
