"""Draw browsing: the list with filters, the latest draw, one draw by number."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.generics import ListAPIView, RetrieveAPIView
from rest_framework.pagination import PageNumberPagination

from draws.selectors import draw_get, draw_latest, draw_search

from .caching import HttpCachedMixin
from .serializers import DrawOutputSerializer


class DrawPagination(PageNumberPagination):
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100


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
        params = self.FilterSerializer(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        filters = dict(params.validated_data)
        filters.pop("page_size", None)
        filters.pop("page", None)
        return draw_search(**filters)

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
            400: OpenApiResponse(description="A filter value is invalid."),
            404: OpenApiResponse(description="No such page."),
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
        responses={200: DrawOutputSerializer, 404: OpenApiResponse(description="")},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class DrawDetailApi(HttpCachedMixin, RetrieveAPIView):
    """One draw by its number."""

    serializer_class = DrawOutputSerializer

    def get_object(self):
        draw = draw_get(draw_no=self.kwargs["draw_no"])
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
        responses={200: DrawOutputSerializer, 404: OpenApiResponse(description="")},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)
