"""The recorded forecasts, by target draw, with their scores once drawn."""

from django.contrib import admin
from django.utils.html import format_html
from django.utils.translation import gettext_lazy
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


MODE_WORDS = {
    Prediction.Mode.ML: gettext_lazy("the model"),
    Prediction.Mode.STATISTICAL: gettext_lazy("statistical mode"),
}


class ModeFilter(admin.SimpleListFilter):
    """By serving mode, named by its code (the choice label would read "Ml")."""

    title = gettext_lazy("mode")
    parameter_name = "mode"

    def lookups(self, request, model_admin):
        return [(code, f"{code} ({words})") for code, words in MODE_WORDS.items()]

    def queryset(self, request, queryset):
        if self.value() in MODE_WORDS:
            return queryset.filter(mode=self.value())
        return queryset


@admin.register(Prediction)
class PredictionAdmin(ReadOnlyAdmin):
    list_display = (
        "target_draw_no",
        "target_draw_date",
        "forecaster",
        "mode_code",
        "top_numbers",
        "served_count",
        "scored_at",
        "hits",
        "brier",
    )
    list_filter = (ScoredFilter, TargetDrawFilter, ModeFilter)
    list_select_related = ("model_version",)
    search_fields = ("target_draw_no", "forecaster")

    @admin.display(description=gettext_lazy("Mode"), ordering="mode")
    def mode_code(self, obj):
        return format_html("<code>{}</code> {}", obj.mode, MODE_WORDS.get(obj.mode, ""))

    @admin.display(description=gettext_lazy("Brier score"), ordering="brier_score")
    def brier(self, obj):
        return "—" if obj.brier_score is None else f"{obj.brier_score:.4f}"

    def get_search_results(self, request, queryset, search_term):
        draw_no = whole_number(search_term)
        if draw_no is not None:
            if draw_no > MAX_INTEGER:
                return queryset.none(), False
            return queryset.filter(target_draw_no=draw_no), False
        return super().get_search_results(request, queryset, search_term)
