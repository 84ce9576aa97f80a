"""The public forecast ledger: every recorded forecast, and the chain that seals them.

`GET /api/forecasts/` lists recorded forecasts (a forecast appears as soon as it
is recorded, before its draw); `GET /api/forecasts/ledger/` gives the head, its
length and how to verify, and with `?since=<head>` the links after a head a
verifier saved earlier. mlops records and links forecasts; serving owns the
public API and reads through mlops' selectors.
"""

import re

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail, NotFound, ValidationError
from rest_framework.generics import ListAPIView
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from mlops.selectors import forecast_list, ledger_head, ledger_index_of, ledger_links
from mlops.services.monitoring.ledger import ALGORITHM, GENESIS, ledger_canonical

HEX64 = re.compile(r"^[0-9a-f]{64}$")
DOCS = "docs/STATISTICS.md#ledger"


class ForecastPagination(PageNumberPagination):
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100


class LedgerLinkSerializer(serializers.Serializer):
    index = serializers.IntegerField(allow_null=True)
    commitment = serializers.CharField(allow_blank=True)
    previous = serializers.CharField(allow_blank=True)
    pre_ledger = serializers.BooleanField(
        help_text=_("Recorded before the ledger existed: not in the chain.")
    )


class ForecastOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    target_draw_no = serializers.IntegerField()
    target_draw_date = serializers.DateField()
    forecaster = serializers.CharField()
    mode = serializers.CharField()
    model_version = serializers.CharField(allow_null=True)
    model_sha256 = serializers.CharField(allow_null=True)
    top_numbers = serializers.ListField(child=serializers.IntegerField())
    games = serializers.ListField(
        child=serializers.ListField(child=serializers.IntegerField()),
        help_text=_("The official slip recorded with the forecast."),
    )
    probabilities = serializers.ListField(
        child=serializers.FloatField(),
        help_text=_("P(number k is drawn) for k = 1..45; they sum to 6."),
    )
    recorded_at = serializers.DateTimeField()
    ledger = LedgerLinkSerializer()


def forecast_output(prediction) -> dict:
    """One forecast in ForecastOutputSerializer's shape."""
    version = prediction.model_version if prediction.model_version_id else None
    return {
        "id": prediction.pk,
        "target_draw_no": prediction.target_draw_no,
        "target_draw_date": prediction.target_draw_date,
        "forecaster": prediction.forecaster,
        "mode": prediction.mode,
        "model_version": version.version if version else None,
        "model_sha256": version.sha256 if version else None,
        "top_numbers": prediction.top_numbers,
        "games": prediction.combinations,
        "probabilities": prediction.probabilities,
        "recorded_at": prediction.created_at,
        "ledger": {
            "index": prediction.ledger_index,
            "commitment": prediction.commitment,
            "previous": prediction.previous_commitment,
            "pre_ledger": prediction.pre_ledger,
        },
    }


class ForecastListApi(ListAPIView):
    """Recorded forecasts, newest target draw first; ?target_draw=N for one draw."""

    pagination_class = ForecastPagination

    class FilterSerializer(serializers.Serializer):
        target_draw = serializers.IntegerField(
            required=False,
            min_value=1,
            max_value=2**31 - 1,
            help_text=_("Only the forecasts for this draw number."),
        )

    @extend_schema(
        summary=_("Recorded forecasts"),
        description=_(
            "Every official forecast the service recorded, newest target draw first, "
            "each with its place in the forecast ledger (index, commitment, the "
            "commitment before it). A forecast appears as soon as it is recorded, "
            "before its draw. Filter with target_draw=N."
        ),
        parameters=[FilterSerializer],
        responses={200: ForecastOutputSerializer(many=True)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        filters = self.FilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return forecast_list(target_draw_no=filters.validated_data.get("target_draw"))

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response([forecast_output(p) for p in page])


class LedgerLinkOutputSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    commitment = serializers.CharField(
        help_text=_("sha256 of the canonical JSON of `canonical`.")
    )
    canonical = serializers.DictField(
        help_text=_(
            "The exact fields the commitment covers; `previous` is the commitment "
            "of the link before (64 zeros for the first)."
        )
    )


class LedgerOutputSerializer(serializers.Serializer):
    head = serializers.CharField(
        help_text=_("The newest link's commitment (64 zeros while the chain is empty).")
    )
    length = serializers.IntegerField()
    algorithm = serializers.CharField()
    genesis = serializers.CharField()
    canonical_form = serializers.CharField()
    how_to_verify = serializers.CharField()
    docs = serializers.CharField()
    since = serializers.CharField(allow_null=True)
    links = LedgerLinkOutputSerializer(many=True, allow_null=True)


CANONICAL_FORM = _(
    "JSON with sorted keys, no spaces, ASCII (Python: json.dumps(canonical, "
    "sort_keys=True, separators=(',', ':'))) of: target_draw_no, forecaster, "
    "model_version, model_sha256, top_numbers, games, probabilities (strings with "
    "six decimals), recorded_at (UTC, microseconds, Z), previous."
)
HOW_TO_VERIFY = _(
    "Save the head before each draw. Later, fetch ?since=<saved head>: the first "
    "link's previous must be your saved head, each link's previous the commitment "
    "before it, and sha256 of each canonical JSON its commitment; the last one is "
    "the head. ?since=<64 zeros> returns the whole chain. A head this server does "
    "not know means the chain was rewritten."
)


class LedgerApi(APIView):
    """The forecast ledger's head and, after a saved head, the links to check."""

    class InputSerializer(serializers.Serializer):
        since = serializers.CharField(
            required=False,
            help_text=_(
                "A head you saved earlier (64 hex digits); the links after it are "
                "returned. 64 zeros: the whole chain."
            ),
        )

    @extend_schema(
        summary=_("The forecast ledger"),
        description=_(
            "The head of the hash chain over every recorded forecast, its length, "
            "the canonical form and how to verify. Save the head before each draw; "
            "since=<saved head> returns the links after it (64 zeros: the whole "
            "chain). A head the chain does not hold is a 404 with the code "
            "unknown_head: the chain was rewritten, or the head is mistyped."
        ),
        parameters=[InputSerializer],
        responses={200: LedgerOutputSerializer},
    )
    def get(self, request):
        params = self.InputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        since = params.validated_data.get("since")
        head = ledger_head()
        body = {
            "head": head.commitment or GENESIS,
            "length": head.length,
            "algorithm": ALGORITHM,
            "genesis": GENESIS,
            "canonical_form": str(CANONICAL_FORM),
            "how_to_verify": str(HOW_TO_VERIFY),
            "docs": DOCS,
            "since": since,
            "links": None,
        }
        if since is not None:
            body["links"] = [
                {
                    "index": link.ledger_index,
                    "commitment": link.commitment,
                    "canonical": ledger_canonical(
                        link, previous=link.previous_commitment
                    ),
                }
                for link in ledger_links(after_index=self._index_after(since))
            ]
        return Response(body)

    @staticmethod
    def _index_after(since: str) -> int:
        if not HEX64.match(since):
            message = _("Give a head as 64 lowercase hex digits.")
            raise ValidationError({"since": [ErrorDetail(message, code="invalid")]})
        if since == GENESIS:
            return 0
        index = ledger_index_of(commitment=since)
        if index is None:
            raise NotFound(
                _(
                    "This head is not in the ledger: the chain was rewritten since "
                    "you saved it, or the head is mistyped."
                ),
                code="unknown_head",
            )
        return index
