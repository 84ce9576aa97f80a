"""The API's front door: the landing page and the connectivity check."""

from django.conf import settings
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.renderers import TemplateHTMLRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from recommendations.services.recommendation import DISCLAIMER

from .schema import error_responses


class PingOutputSerializer(serializers.Serializer):
    status = serializers.CharField(help_text=_('Always "ok".'))


class PingApi(APIView):
    """GET /api/ping/: the same authentication, throttling and renderers as every
    public endpoint, and nothing else (no database): the floor benchmarks compare
    the other endpoints against."""

    @extend_schema(
        operation_id="ping",
        summary=_("Connectivity check"),
        description=_(
            'Answers {"status": "ok"} without touching the database. Apps can '
            "call it to check that they reach the API and that their token and "
            "rate limit are fine; it counts against the rate limit like any call."
        ),
        responses={200: PingOutputSerializer, **error_responses(401, 429)},
        tags=["service"],
    )
    def get(self, request):
        return Response({"status": "ok"})


def landing_links(request) -> dict:
    """Where a newcomer goes next, as absolute URLs."""
    return {
        "docs": request.build_absolute_uri(reverse("docs")),
        "schema": request.build_absolute_uri(reverse("schema")),
        "health": request.build_absolute_uri(reverse("healthz")),
        "ping": request.build_absolute_uri(reverse("api-ping")),
        "disclaimer": request.build_absolute_uri(reverse("landing") + "#disclaimer"),
    }


class LinksSerializer(serializers.Serializer):
    docs = serializers.URLField(help_text=_("The interactive API documentation."))
    schema = serializers.URLField(help_text=_("The OpenAPI 3 schema (YAML)."))
    health = serializers.URLField(help_text=_("Is the service up?"))
    ping = serializers.URLField(help_text=_("The connectivity check."))
    disclaimer = serializers.URLField(help_text=_("What the numbers can't do."))


class ApiIndexOutputSerializer(serializers.Serializer):
    title = serializers.CharField()
    language = serializers.CharField(help_text=_("The language of this answer."))
    disclaimer = serializers.CharField()
    links = LinksSerializer()


def landing_context(request) -> dict:
    return {
        "title": settings.SPECTACULAR_SETTINGS["TITLE"],
        "language": get_language(),
        "disclaimer": str(DISCLAIMER),
        "links": landing_links(request),
    }


class ApiIndexApi(APIView):
    """GET /api/: the landing page for browsers, its links as JSON for programs."""

    renderer_classes = [
        *APIView.renderer_classes[:1],  # JSON first: curl and apps get JSON
        TemplateHTMLRenderer,
    ]
    template_name = "api/landing.html"

    @extend_schema(
        operation_id="api_index",
        summary=_("Where to start"),
        description=_(
            "Links to the documentation, the health check and the disclaimer, in "
            "the language the client asks for (Accept-Language)."
        ),
        responses={200: ApiIndexOutputSerializer, **error_responses(429)},
        tags=["service"],
    )
    def get(self, request):
        return Response(landing_context(request))


def landing(request):
    """GET /: the landing page for people."""
    return render(request, "api/landing.html", landing_context(request))
