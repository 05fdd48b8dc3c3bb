"""Reads of the grid ratings, each starting from the reader's scope
(``grids.querysets.scope_q`` through the rated grid): outside the area a rating
does not exist."""

import datetime as dt

from django.db.models import (
    Case,
    F,
    FilteredRelation,
    IntegerField,
    Q,
    QuerySet,
    When,
)

from grids.permissions import require_in_scope
from grids.querysets import scope_q, subtree_q

from .indicators import previous_month
from .models import GridRating, RatingClass


def ratings_visible(
    *, actor, month: dt.date | None = None, region=None, months=None
) -> QuerySet:
    """The ratings of ``month`` (or of each of ``months``) of the grids in the
    actor's area (and under ``region`` when given, which must lie in it)."""
    if months is None:
        months = [month]
    ratings = GridRating.objects.filter(
        scope_q(actor, "grid"), month__in=[m.replace(day=1) for m in months]
    )
    if region is not None:
        require_in_scope(actor, region)
        ratings = ratings.filter(subtree_q(region, "grid"))
    return ratings.select_related("grid", "street")


def rating_movers(*, actor, month: dt.date, region=None) -> QuerySet:
    """动态调整: the grids whose class changed against the month before, each
    with ``previous_class`` and ``moved`` (+1 up, −1 down). One query: the
    month before joined on (grid, month) (``rating_once_per_grid_month``), so
    it is read once per grid of the subtree, after the subtree's filter."""
    previous = FilteredRelation(
        "grid__ratings", condition=Q(grid__ratings__month=previous_month(month))
    )
    return (
        ratings_visible(actor=actor, month=month, region=region)
        .exclude(rating_class="")
        .annotate(previous=previous, previous_class=F("previous__rating_class"))
        # Rated the month before (not NULL, not ""), in another class.
        .filter(previous_class__gt="")
        .filter(
            Q(previous_class__lt=F("rating_class"))
            | Q(previous_class__gt=F("rating_class"))
        )
        .annotate(
            moved=Case(
                When(
                    Q(rating_class=RatingClass.A)
                    | Q(rating_class=RatingClass.B, previous_class=RatingClass.C),
                    then=1,
                ),
                default=-1,
                output_field=IntegerField(),
            )
        )
        .order_by("-moved", "street_id", "rank_in_street", "grid_id")
    )


def best_and_worst(*, actor, region, month: dt.date, count: int = 10) -> dict:
    """十佳 / 十差 of a street or a district for ``month``, from the same scores:
    the ``count`` highest and lowest scores (ties broken by the grid's id, so
    the lists are stable). Two queries."""
    scored = ratings_visible(actor=actor, month=month, region=region).exclude(
        score__isnull=True
    )
    return {
        "best": list(scored.order_by("-score", "grid_id")[:count]),
        "worst": list(scored.order_by("score", "grid_id")[:count]),
    }
