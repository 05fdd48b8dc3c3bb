"""Every step of a wish against every state and every kind of actor: the legal
ones succeed and write one event, every other one is refused with the right
error and writes nothing. The rights are written out here, not read from the
code, so a change to ``WISH_ACTION_CHECKS`` shows up as a failing test."""

import pytest

from grids.choices import UserRole
from grids.errors import Conflict, NotAllowed, OutOfScope
from partyorg import forms, permissions, services
from partyorg.choices import (
    ALLOWED_WISH_TRANSITIONS,
    WISH_TRANSITIONS,
    WishAction,
    WishState,
)
from partyorg.models import Wish, WishEvent
from tests.grids.factories import UserFactory

from .factories import PartyMemberFactory, WishFactory, make_party_tree, png_upload

pytestmark = pytest.mark.django_db

STEPS = list(WISH_TRANSITIONS)
ACTORS = (
    "grid_worker",
    "community_staff",
    "street_staff",
    "supervisor",
    "own_account",
    "other_account",
)
WRITERS = {"grid_worker", "community_staff", "street_staff"}
STAFF = {"community_staff", "street_staff"}
# Who may take each step (社区派单 by staff and grid workers, 党员接单 by the
# member or for them, confirmation with the resident by community staff).
MAY = {
    WishAction.CLAIM: WRITERS | {"own_account", "other_account"},
    WishAction.RELEASE: WRITERS | {"own_account"},
    WishAction.FULFIL: WRITERS | {"own_account"},
    WishAction.CONFIRM: STAFF,
    WishAction.REJECT: STAFF,
    WishAction.WITHDRAW: WRITERS,
    WishAction.CANCEL: STAFF,
}
# An actor who may take the step, for the state tests.
LEGIT = {
    action: "community_staff" if "grid_worker" not in MAY[action] else "grid_worker"
    for action in STEPS
}


def _member_account(tree, member):
    account = UserFactory(role="", region=tree["communities"][0], is_staff=False)
    member.user = account
    member.save(update_fields=["user"])
    return account


@pytest.fixture
def ctx(tree, grid_worker, community_staff, street_staff, supervisor):
    party = make_party_tree(tree)
    member = PartyMemberFactory(name="李党员", organisation=party["branches"][0])
    other = PartyMemberFactory(name="王党员", organisation=party["branches"][0])
    return {
        "tree": tree,
        "member": member,
        "grid_worker": grid_worker,
        "community_staff": community_staff,
        "street_staff": street_staff,
        "supervisor": supervisor,
        "own_account": _member_account(tree, member),
        "other_account": _member_account(tree, other),
    }


def _wish_in(state, ctx):
    return WishFactory(
        region=ctx["tree"]["grids"][0],
        state=state,
        claimed_by=None if state == WishState.POSTED else ctx["member"],
    )


def _invoke(action, actor_name, wish, ctx):
    actor, pk = ctx[actor_name], wish.pk
    if action == WishAction.CLAIM:
        member = None if actor_name.endswith("_account") else ctx["member"]
        return services.wish_claim(actor=actor, wish_id=pk, member=member)
    if action == WishAction.RELEASE:
        return services.wish_release(actor=actor, wish_id=pk)
    if action == WishAction.FULFIL:
        return services.wish_fulfil(
            actor=actor, wish_id=pk, note="已送到", photo=png_upload()
        )
    if action == WishAction.CONFIRM:
        return services.wish_confirm(actor=actor, wish_id=pk)
    if action == WishAction.REJECT:
        return services.wish_reject(actor=actor, wish_id=pk, note="型号不对")
    if action == WishAction.WITHDRAW:
        return services.wish_withdraw(actor=actor, wish_id=pk)
    if action == WishAction.CANCEL:
        return services.wish_cancel(actor=actor, wish_id=pk, note="重复")
    raise AssertionError(action)


def _snapshot(wish):
    return (
        Wish.objects.filter(pk=wish.pk)
        .values_list("state", "claimed_by_id", "closed_at", "fulfilled_at")
        .get(),
        WishEvent.objects.filter(wish=wish).count(),
    )


def _start(action):
    return sorted(WISH_TRANSITIONS[action][0])[0]


def test_the_table_names_every_step_once():
    """Posting creates a wish; every other action is one step of the table, and
    the checks, the form's labels and its services cover exactly those steps."""
    assert set(WISH_TRANSITIONS) == set(WishAction) - {WishAction.POST}
    assert list(permissions.WISH_ACTION_CHECKS) == STEPS
    assert set(forms.WISH_ACTION_LABELS) == set(STEPS)
    assert set(forms.WISH_ACTION_SERVICES) == set(STEPS)


def test_state_graph_is_derived_from_the_table():
    moves = {(f, to) for froms, to in WISH_TRANSITIONS.values() for f in froms}
    graph = {(f, t) for f, tos in ALLOWED_WISH_TRANSITIONS.items() for t in tos}
    assert moves == graph
    for final in (WishState.CONFIRMED, WishState.WITHDRAWN, WishState.CANCELLED):
        assert ALLOWED_WISH_TRANSITIONS[final] == set()


@pytest.mark.parametrize(
    ("action", "state"), [(a, s) for a in STEPS for s in WishState]
)
def test_every_step_from_every_state(action, state, ctx):
    from_states, to_state = WISH_TRANSITIONS[action]
    wish = _wish_in(state, ctx)
    before = _snapshot(wish)
    if state not in from_states:
        with pytest.raises(Conflict) as exc:
            _invoke(action, LEGIT[action], wish, ctx)
        lost_race = action == WishAction.CLAIM and state == WishState.CLAIMED
        assert exc.value.code == (
            "already_claimed" if lost_race else "illegal_transition"
        )
        assert _snapshot(wish) == before
        return
    _invoke(action, LEGIT[action], wish, ctx)
    wish.refresh_from_db()
    assert wish.state == to_state
    event = wish.events.get()
    assert (event.action, event.from_state, event.to_state) == (
        action,
        state,
        to_state,
    )
    assert event.actor == ctx[LEGIT[action]]


@pytest.mark.parametrize(("action", "actor"), [(a, n) for a in STEPS for n in ACTORS])
def test_every_step_by_every_actor(action, actor, ctx):
    wish = _wish_in(_start(action), ctx)
    before = _snapshot(wish)
    if actor not in MAY[action]:
        with pytest.raises(NotAllowed):
            _invoke(action, actor, wish, ctx)
        assert _snapshot(wish) == before
        return
    _invoke(action, actor, wish, ctx)
    wish.refresh_from_db()
    assert wish.state == WISH_TRANSITIONS[action][1]
    assert wish.events.get().actor == ctx[actor]


@pytest.mark.parametrize("action", STEPS)
def test_a_role_that_may_never_take_a_step_is_refused_in_any_state(action, ctx):
    """The right is checked before the state: the answer does not depend on it."""
    outsider = next(n for n in ("supervisor", "grid_worker") if n not in MAY[action])
    for state in WishState:
        with pytest.raises(NotAllowed):
            _invoke(action, outsider, _wish_in(state, ctx), ctx)


@pytest.mark.parametrize("action", STEPS)
def test_every_step_outside_scope_is_refused(action, ctx):
    tree = ctx["tree"]
    ctx["elsewhere"] = UserFactory(
        role=UserRole.COMMUNITY_STAFF, region=tree["communities"][1]
    )
    wish = _wish_in(_start(action), ctx)
    before = _snapshot(wish)
    with pytest.raises(OutOfScope):
        _invoke(action, "elsewhere", wish, ctx)
    assert _snapshot(wish) == before


@pytest.mark.parametrize(
    ("state", "actor"), [(s, n) for s in WishState for n in ACTORS]
)
def test_offered_steps_are_the_ones_the_services_allow(state, actor, ctx):
    wish = _wish_in(state, ctx)
    expected = [a for a in STEPS if state in WISH_TRANSITIONS[a][0] and actor in MAY[a]]
    assert permissions.available_wish_actions(ctx[actor], wish) == expected
