"""A household visit that raises an event in the same step (入户走访 → 制单).

The grids app records the visit and cannot know tickets; this use case, which
needs both, lives here: one transaction writes the visit (``patrol_record``)
and the ticket (``ticket_create``, source 网格巡查), so a refused ticket leaves
no visit behind and the worker's draft can be sent again.
"""

from django.db import transaction

from grids.choices import PatrolKind
from grids.models import Household, Patrol, Region
from grids.services import patrol_record

from ..choices import Source
from ..models import Category, Ticket
from .intake import ticket_create


def visit_record_with_ticket(
    *,
    actor,
    region: Region,
    notes: str,
    household: Household | None = None,
    kind: str = PatrolKind.VISIT,
    photo=None,
    event_description: str = "",
    event_category: Category | None = None,
) -> tuple[Patrol, Ticket | None]:
    """Record a patrol or visit and, when ``event_description`` is given, the
    event it found: a ticket at the household's place (else the patrol's), with
    the patrol's photo, whose CREATE event points back to the visit."""
    with transaction.atomic():
        patrol = patrol_record(
            actor=actor,
            region=region,
            kind=kind,
            notes=notes,
            household=household,
            photo=photo,
        )
        if not (event_description or "").strip():
            return patrol, None
        if photo is not None:
            photo.seek(0)
        ticket = ticket_create(
            actor=actor,
            source=Source.PATROL,
            region=household.region if household else region,
            description=event_description,
            category=event_category,
            address=household.address if household else "",
            photos=[photo] if photo is not None else (),
            event_data={"patrol": patrol.pk},
        )
        return patrol, ticket
