"""Draw browsing: the list with filters, the latest draw, one draw by number."""

import datetime as dt

from django.core.paginator import Paginator
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.generics import ListAPIView, RetrieveAPIView
from rest_framework.pagination import PageNumberPagination

from draws.selectors import (
    draw_get_known,
    draw_latest,
    draw_numbers_known,
    draw_search,
    draws_by_numbers,
)

from .caching import HttpCachedMixin
from .serializers import DrawOutputSerializer


class DrawNumbersPaginator(Paginator):
    """Pages over the list of the matching draw numbers, then reads the page's rows.

    The list (`draw_numbers_known`) is remembered per filter set while the history
    holds, so a page of 20,000 draws costs one query by the unique draw_no index,
    deep or not: no COUNT(*), no OFFSET that reads every skipped row.
    """

    def _get_page(self, object_list, number, paginator):
        return super()._get_page(draws_by_numbers(object_list), number, paginator)


class DrawPagination(PageNumberPagination):
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100
    django_paginator_class = DrawNumbersPaginator


class DrawListApi(HttpCachedMixin, ListAPIView):
    """Stored draws, newest first unless asked otherwise, paginated and filtered."""

    class FilterSerializer(serializers.Serializer):
        date_from = serializers.DateField(
            required=False, help_text=_("Draws on or after this date (YYYY-MM-DD).")
        )
        date_to = serializers.DateField(
            required=False, help_text=_("Draws on or before this date (YYYY-MM-DD).")
        )
        draw_from = serializers.IntegerField(
            required=False, min_value=1, help_text=_("Draws from this number on.")
        )
        draw_to = serializers.IntegerField(
            required=False, min_value=1, help_text=_("Draws up to this number.")
        )
        ordering = serializers.ChoiceField(
            choices=["draw_no", "-draw_no"], default="-draw_no", required=False
        )
        page_size = serializers.IntegerField(
            required=False, min_value=1, max_value=100, help_text=_("1 to 100.")
        )
        page = serializers.IntegerField(required=False, min_value=1)

        def validate(self, attrs):
            for low, high in (("date_from", "date_to"), ("draw_from", "draw_to")):
                if low in attrs and high in attrs and attrs[low] > attrs[high]:
                    raise serializers.ValidationError(
                        {
                            high: serializers.ErrorDetail(
                                _("Must not be before %(field)s.") % {"field": low},
                                code="invalid_range",
                            )
                        }
                    )
            return attrs

    serializer_class = DrawOutputSerializer
    pagination_class = DrawPagination
    keep_rendered = True

    def get_queryset(self):
        return draw_search(**self.draw_filters())

    def draw_filters(self) -> dict:
        filters = read_draw_filters(self.request.query_params)
        filters.pop("page_size", None)
        filters.pop("page", None)
        return filters

    def list(self, request, *args, **kwargs):
        # Pages over the numbers of the draws get_queryset() would find (see
        # DrawNumbersPaginator); the queryset itself is never needed.
        page = self.paginate_queryset(draw_numbers_known(**self.draw_filters()))
        serializer = self.get_serializer(page, many=True)
        return self.get_paginated_response(serializer.data)

    @extend_schema(
        summary=_("Draws"),
        description=_(
            "Stored Lotto 6/45 draws, newest first (ordering=draw_no for oldest "
            "first), 20 to a page, narrowed by date or draw number. A bad filter "
            "answers 400 naming it; a page past the end, 404. "
            "Answers carry an ETag: send it back in If-None-Match and get 304 "
            "while nothing changed."
        ),
        parameters=[FilterSerializer],
        responses={
            200: DrawOutputSerializer(many=True),
            400: OpenApiResponse(description=_("A filter value is invalid.")),
            404: OpenApiResponse(description=_("No such page.")),
        },
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class DrawLatestApi(HttpCachedMixin, RetrieveAPIView):
    """The newest stored draw."""

    serializer_class = DrawOutputSerializer

    def get_object(self):
        draw = draw_latest()
        if draw is None:
            raise NotFound(_("No draws are stored yet."), code="no_draws")
        return draw

    @extend_schema(
        summary=_("The latest draw"),
        description=_(
            "The most recent stored draw: its six numbers, bonus number, date and "
            "prizes. 404 (`no_draws`) until a draw is stored."
        ),
        responses={
            200: DrawOutputSerializer,
            404: OpenApiResponse(description=_("No draw is stored yet.")),
        },
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class DrawDetailApi(HttpCachedMixin, RetrieveAPIView):
    """One draw by its number."""

    serializer_class = DrawOutputSerializer

    def get_object(self):
        draw = draw_get_known(draw_no=self.kwargs["draw_no"])
        if draw is None:
            raise NotFound(
                _("Draw %(draw_no)s is not stored.")
                % {"draw_no": self.kwargs["draw_no"]},
                code="draw_not_found",
            )
        return draw

    @extend_schema(
        summary=_("One draw"),
        description=_(
            "A draw by its number (draw 1 took place on 2002-12-07). 404 "
            "(`draw_not_found`) for a number that is not stored."
        ),
        responses={
            200: DrawOutputSerializer,
            404: OpenApiResponse(description=_("That draw is not stored.")),
        },
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


INTEGER_FILTERS = {"draw_from": (1, None), "draw_to": (1, None), "page": (1, None)}
INTEGER_FILTERS["page_size"] = (1, 100)


def read_draw_filters(query) -> dict:
    """The list's filters, checked as FilterSerializer describes them.

    By hand: a DRF serializer costs more than the rest of a cached request. A bad
    value is a 400 naming the field, never ignored.
    """
    filters = {}
    for name, (low, high) in INTEGER_FILTERS.items():
        if name in query:
            filters[name] = _bounded_int(query[name], name=name, low=low, high=high)
    for name in ("date_from", "date_to"):
        if name in query:
            filters[name] = _date(query[name], name=name)
    if "ordering" in query:
        if query["ordering"] not in ("draw_no", "-draw_no"):
            _refuse(
                "ordering",
                "invalid_choice",
                _("Use draw_no (oldest first) or -draw_no (newest first)."),
            )
        filters["ordering"] = query["ordering"]
    return DrawListApi.FilterSerializer().validate(filters)


def _refuse(name: str, code: str, message) -> None:
    raise serializers.ValidationError(
        {name: [serializers.ErrorDetail(str(message), code=code)]}
    )


def _bounded_int(text: str, *, name: str, low: int, high: int | None) -> int:
    text = text.strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 9):
        _refuse(name, "invalid", _("A valid integer is required."))
    value = int(text)
    if value < low or (high is not None and value > high):
        if high is None:
            message = _("Must be %(low)d or more.") % {"low": low}
        else:
            message = _("Must be from %(low)d to %(high)d.") % {
                "low": low,
                "high": high,
            }
        _refuse(name, "out_of_range", message)
    return value


def _date(text: str, *, name: str) -> dt.date:
    text = text.strip()
    try:
        if len(text) == 10 and text.isascii():  # fromisoformat takes 20021207 too
            return dt.date.fromisoformat(text)
    except ValueError:
        pass
    _refuse(name, "invalid", _("Use a date as YYYY-MM-DD."))
