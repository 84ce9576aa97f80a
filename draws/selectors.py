from django.db.models import QuerySet

from .models import LottoDraw


def draw_list() -> QuerySet[LottoDraw]:
    """All stored draws, oldest first (the order the models learn in)."""
    return LottoDraw.objects.order_by("draw_no")


def draw_latest() -> LottoDraw | None:
    """The newest stored draw, or None when the history is empty."""
    return LottoDraw.objects.order_by("-draw_no").first()


def draw_get(*, draw_no: int) -> LottoDraw | None:
    return LottoDraw.objects.filter(draw_no=draw_no).first()


def draw_count() -> int:
    return LottoDraw.objects.count()


def draw_numbers_matrix() -> list[tuple[int, ...]]:
    """The winning numbers of every stored draw in draw order, as plain tuples."""
    return list(draw_list().values_list("n1", "n2", "n3", "n4", "n5", "n6"))
