"""Every action against every stage, role and scope: the legal ones are walked in
test_services_lifecycle/evaluation; here every illegal one is refused with the
right error and writes nothing."""

import pytest

from grids.choices import UserRole
from grids.errors import Conflict, NotAllowed, OutOfScope
from tests.grids.factories import UserFactory
from tests.tickets.factories import walk_to
from tickets import actions, services
from tickets.choices import TRANSITIONS, Action, Stage
from tickets.models import Ticket, TicketEvent

pytestmark = pytest.mark.django_db

STAGE_ACTIONS = [a for a in TRANSITIONS if a != Action.UNEVALUATED]


def _invoke(action, actor, ticket, ctx):
    """Take ``action`` through the registry every front end uses."""
    tree = ctx["tree"]
    data = {
        Action.TRIAGE: {
            "category": ctx["category"],
            "region": tree["grids"][0],
            "responsible_leader": ctx["street_staff"],
        },
        Action.DISPATCH: {"handling_region": tree["communities"][0]},
        Action.ACCEPT: {"handler": ctx["handler"]},
        Action.RETURN: {"reason": "不归我们"},
        Action.HANDLE: {"result": "已处理"},
        Action.REPORT_UP: {"reason": "解决不了"},
        Action.EVALUATE: {"verdict": "satisfied", "call_note": "本人接听"},
        Action.ASSESS: {
            "satisfaction_score": 90,
            "timeliness_score": 90,
            "effect_score": 90,
        },
        Action.MERGE: {"into": ctx["survivor"].pk},
    }
    if action == Action.REWORK:  # 返工: the outcome of a 不满意 verdict
        return actions.run(
            Action.EVALUATE,
            actor=actor,
            ticket_id=ticket.pk,
            data={"verdict": "dissatisfied", "call_note": "本人接听"},
        )
    return actions.run(action, actor=actor, ticket_id=ticket.pk, data=data[action])


LIFECYCLE_KEYS = ("tree", "street_staff", "community_staff", "handler", "category")
LEGIT_ACTOR = {
    Action.TRIAGE: "street_staff",
    Action.DISPATCH: "street_staff",
    Action.ACCEPT: "community_staff",
    Action.RETURN: "community_staff",
    Action.HANDLE: "handler",
    Action.REPORT_UP: "handler",
    Action.EVALUATE: "community_staff",
    Action.REWORK: "community_staff",
    Action.ASSESS: "street_staff",
    Action.MERGE: "street_staff",
}


def _ticket_in(stage, ctx):
    lifecycle = {k: ctx[k] for k in LIFECYCLE_KEYS}
    if stage == Stage.MERGED:
        ticket = walk_to(Stage.RECEIVED, **lifecycle)
        into = walk_to(Stage.RECEIVED, **lifecycle)
        services.ticket_merge(
            actor=lifecycle["street_staff"], ticket_id=ticket.pk, into_id=into.pk
        )
        ticket.refresh_from_db()
        return ticket
    return walk_to(stage, **lifecycle)


def _snapshot(ticket):
    return (
        Ticket.objects.filter(pk=ticket.pk)
        .values_list("stage", "stage_deadline", "handler_id")
        .get(),
        TicketEvent.objects.filter(ticket=ticket).count(),
    )


@pytest.fixture
def ctx(lifecycle):
    return {**lifecycle, "survivor": walk_to(Stage.ACCEPTED, **lifecycle)}


@pytest.mark.parametrize("action", STAGE_ACTIONS)
def test_action_in_a_wrong_stage_is_refused(action, ctx):
    from_stages, _to = TRANSITIONS[action]
    actor = ctx[LEGIT_ACTOR[action]]
    for stage in Stage:
        if stage in from_stages:
            continue
        ticket = _ticket_in(stage, ctx)
        before = _snapshot(ticket)
        with pytest.raises(Conflict) as exc:
            _invoke(action, actor, ticket, ctx)
        assert exc.value.code == "wrong_stage", (action, stage)
        assert _snapshot(ticket) == before, (action, stage)


@pytest.mark.parametrize("action", STAGE_ACTIONS)
def test_action_by_a_wrong_role_is_refused(action, ctx, supervisor, grid_worker):
    from_stages, _to = TRANSITIONS[action]
    stage = sorted(from_stages)[0]
    ticket = _ticket_in(stage, ctx)
    # In scope but without the right: a read-only supervisor (who may only
    # assess), and for assessment a grid worker.
    actor = grid_worker if action == Action.ASSESS else supervisor
    before = _snapshot(ticket)
    with pytest.raises(NotAllowed):
        _invoke(action, actor, ticket, ctx)
    assert _snapshot(ticket) == before


@pytest.mark.parametrize("action", STAGE_ACTIONS)
def test_action_out_of_scope_is_refused(action, ctx, other_tree):
    from_stages, _to = TRANSITIONS[action]
    ticket = _ticket_in(sorted(from_stages)[0], ctx)
    role = {
        "street_staff": UserRole.STREET_STAFF,
        "community_staff": UserRole.COMMUNITY_STAFF,
        "handler": UserRole.GRID_WORKER,
    }[LEGIT_ACTOR[action]]
    outsider = UserFactory(role=role, region=other_tree["street"])
    before = _snapshot(ticket)
    with pytest.raises(OutOfScope):
        _invoke(action, outsider, ticket, ctx)
    assert _snapshot(ticket) == before


@pytest.mark.parametrize("action", STAGE_ACTIONS)
def test_action_in_its_stage_by_the_right_actor_is_allowed(action, ctx):
    from_stages, to_stage = TRANSITIONS[action]
    for stage in sorted(from_stages):
        ticket = _ticket_in(stage, ctx)
        _invoke(action, ctx[LEGIT_ACTOR[action]], ticket, ctx)
        ticket.refresh_from_db()
        assert ticket.stage == to_stage, (action, stage)
        event = ticket.events.order_by("pk").last()
        assert (event.from_stage, event.to_stage) == (stage, to_stage)
        assert event.action == action
