from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework.generics import ListAPIView, RetrieveAPIView

from draws.models import LottoDraw
from draws.selectors import draw_latest

from .serializers import DrawOutputSerializer


class DrawListApi(ListAPIView):
    """Every stored draw, newest first, paginated."""

    queryset = LottoDraw.objects.order_by("-draw_no")
    serializer_class = DrawOutputSerializer


class DrawLatestApi(RetrieveAPIView):
    """The newest stored draw."""

    serializer_class = DrawOutputSerializer

    def get_object(self):
        draw = draw_latest()
        if draw is None:
            raise Http404(_("No draws are stored yet."))
        return draw


class DrawDetailApi(RetrieveAPIView):
    """One draw by its number."""

    queryset = LottoDraw.objects.all()
    serializer_class = DrawOutputSerializer
    lookup_field = "draw_no"
