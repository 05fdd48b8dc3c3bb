"""Factories of the tickets app. ``TicketFactory`` builds rows directly (for
volume tests); the ``walk_to`` helper takes a ticket through the real services."""

import datetime as dt

import factory
from django.utils import timezone

from grids.choices import UserRole
from tests.grids.factories import UserFactory
from tickets import services
from tickets.choices import DeadlineClass, Source, Stage, Verdict
from tickets.models import Category, Department, Ticket


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"部门{n}")


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category

    name = factory.Sequence(lambda n: f"类别{n}")
    parent = None
    deadline_class = DeadlineClass.GENERAL


class TicketFactory(factory.django.DjangoModelFactory):
    """A bare row (no event): for volume and selector tests only."""

    class Meta:
        model = Ticket

    number = factory.Sequence(lambda n: f"1999-{n:06d}")
    source = Source.PATROL
    description = factory.Sequence(lambda n: f"问题{n}")
    received_at = factory.LazyFunction(timezone.now)
    stage_entered_at = factory.LazyFunction(timezone.now)
    stage = Stage.RECEIVED


def handler_for(tree, grid_index=0):
    return UserFactory(role=UserRole.GRID_WORKER, region=tree["grids"][grid_index])


def new_ticket(actor, tree, **kwargs):
    data = {
        "source": Source.PATROL,
        "region": tree["grids"][0],
        "description": "小区门口占道经营",
        "reporter_name": "李四",
        "reporter_phone": "13800001111",
    }
    data.update(kwargs)
    return services.ticket_create(actor=actor, **data)


def walk_to(
    stage,
    *,
    tree,
    street_staff,
    community_staff,
    handler,
    category,
    leader=None,
    **kw,
):
    """Create a ticket and move it to ``stage`` through the services; 派单 is
    done by the responsible leader (``leader``, by default the street staff)."""
    leader = leader or street_staff
    ticket = new_ticket(street_staff, tree, **kw)
    if stage == Stage.RECEIVED:
        return ticket
    services.ticket_triage(
        actor=street_staff,
        ticket_id=ticket.pk,
        category=category,
        region=tree["grids"][0],
        responsible_leader=leader,
    )
    if stage == Stage.TRIAGED:
        return _fresh(ticket)
    services.ticket_dispatch(
        actor=leader,
        ticket_id=ticket.pk,
        handling_region=tree["communities"][0],
        instructions="请尽快处理",
    )
    if stage == Stage.DISPATCHED:
        return _fresh(ticket)
    services.ticket_accept(actor=community_staff, ticket_id=ticket.pk, handler=handler)
    if stage == Stage.ACCEPTED:
        return _fresh(ticket)
    services.ticket_handle(
        actor=handler,
        ticket_id=ticket.pk,
        result="已清理",
        cause="摊贩",
        measures="劝离",
    )
    if stage == Stage.HANDLED:
        return _fresh(ticket)
    services.ticket_record_phone_verdict(
        actor=community_staff,
        ticket_id=ticket.pk,
        verdict=Verdict.SATISFIED,
        call_note="11月22日回访本人",
    )
    if stage == Stage.EVALUATED:
        return _fresh(ticket)
    services.ticket_assess(
        actor=street_staff,
        ticket_id=ticket.pk,
        satisfaction_score=100,
        timeliness_score=100,
        effect_score=90,
    )
    return _fresh(ticket)


def _fresh(ticket):
    ticket.refresh_from_db()
    return ticket


def aware(*args):
    return timezone.make_aware(dt.datetime(*args))
