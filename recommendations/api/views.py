from functools import lru_cache

from django.http import QueryDict
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import APIException
from rest_framework.response import Response
from rest_framework.views import APIView

from recommendations.services.inference import NoDrawsError
from recommendations.services.recommendation import (
    MAX_GAMES,
    MAX_INCLUDED,
    recommendation_generate,
    recommendation_params_errors,
)

from .serializers import (
    NumberListField,
    RecommendationOutputSerializer,
    recommendation_output,
)


class NoDrawsAvailable(APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = _("No draws are stored yet, so there is nothing to forecast from.")
    default_code = "no_draws"


class RecommendationListApi(APIView):
    """Games for the next draw, sampled from the forecast, with its provenance."""

    class InputSerializer(serializers.Serializer):
        count = serializers.IntegerField(
            min_value=1,
            max_value=MAX_GAMES,
            default=5,
            help_text=format_lazy(
                _("Games, 1-{max} (a Korean lotto slip holds 5)."), max=MAX_GAMES
            ),
        )
        include = NumberListField(
            required=False,
            default=list,
            help_text=format_lazy(
                _(
                    "Numbers every game must contain (at most {max}): "
                    "include=3,7 or include=3&include=7."
                ),
                max=MAX_INCLUDED,
            ),
        )
        exclude = NumberListField(
            required=False,
            default=list,
            help_text=_(
                "Numbers no game may contain (at least six must remain), "
                "comma-separated or repeated."
            ),
        )
        seed = serializers.IntegerField(
            required=False,
            allow_null=True,
            default=None,
            min_value=0,
            max_value=2**63 - 1,
            help_text=_(
                "Same seed, parameters and forecast give the same games; "
                "omit it for fresh random games."
            ),
        )

        def validate(self, attrs):
            errors = recommendation_params_errors(
                count=attrs["count"], include=attrs["include"], exclude=attrs["exclude"]
            )
            if errors:
                raise serializers.ValidationError(errors)
            return attrs

    @extend_schema(
        summary=_("Games for the next draw"),
        description=_(
            "Games sampled from the current forecast of the 45 numbers, with where "
            "the forecast came from (the model, or statistical mode and why), its "
            "validation figures next to what random picks score, and the "
            "disclaimer. No pick improves the odds: every combination of six "
            "numbers has the same 1 in 8,145,060 chance of the first prize."
        ),
        parameters=[InputSerializer],
        responses={
            200: RecommendationOutputSerializer,
            400: OpenApiResponse(description=_("A parameter is invalid (per field).")),
            503: OpenApiResponse(description=_("No draws are stored yet.")),
        },
    )
    def get(self, request):
        params = self.params(request)
        try:
            recommendation = recommendation_generate(**params)
        except NoDrawsError as exc:
            raise NoDrawsAvailable() from exc
        # The plain dict has RecommendationOutputSerializer's shape (the schema
        # and the tests hold them together); serialising 45 nested objects
        # through DRF fields would cost more than the whole recommendation.
        return Response(recommendation_output(recommendation))

    def params(self, request) -> dict:
        """The validated parameters; a ValidationError (400) when they are not."""
        query = request.query_params
        raw = tuple(
            (name, tuple(query.getlist(name))) for name in PARAM_NAMES if name in query
        )
        valid = _valid_params(self.InputSerializer, raw)
        if valid is None:  # say why, in the reader's language
            params = self.InputSerializer(data=query)
            params.is_valid(raise_exception=True)
            return params.validated_data  # not reached: invalid means raised
        return {name: list(v) if type(v) is tuple else v for name, v in valid}


PARAM_NAMES = tuple(RecommendationListApi.InputSerializer().fields)


# Validation is a pure function of the raw values, so valid ones are remembered
# (a bounded LRU per process): running DRF's fields, which it deep-copies for
# every serializer, cost ~80 us a request for the same `?count=5` every time.
@lru_cache(maxsize=256)
def _valid_params(serializer_class, raw: tuple) -> tuple | None:
    query = QueryDict(mutable=True)
    for name, values in raw:
        query.setlist(name, list(values))
    params = serializer_class(data=query)
    if not params.is_valid():
        return None
    return tuple(
        (name, tuple(value) if isinstance(value, list) else value)
        for name, value in params.validated_data.items()
    )
