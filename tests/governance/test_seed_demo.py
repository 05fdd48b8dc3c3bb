"""seed_demo loads a realistic district once; a second run changes nothing; the
demo's history is one the rules allow: every ticket's and every wish's events,
walked in order, follow the transition tables step by step.

The demo (a year of history) is seeded once for the module, inside a
transaction rolled back at its end; each test runs in a savepoint inside it."""

import io

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from grids.choices import RegionLevel, UserRole
from grids.models import GridAssignment, Household, Region, Resident, User
from grids.selectors import subtree_worker_figures
from partyorg import choices as wish_choices
from partyorg.models import Wish
from tickets.choices import TRANSITIONS, Action, Stage
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def seeded_demo(django_db_setup, django_db_blocker):
    from tickets.services.catalogue import deadline_classes_ensure_standard

    with django_db_blocker.unblock(), transaction.atomic():
        deadline_classes_ensure_standard()
        call_command("seed_demo", stdout=io.StringIO())
        yield
        transaction.set_rollback(True)


def test_seed_demo_is_realistic_and_idempotent(seeded_demo):
    counts = {
        model: model.objects.count()
        for model in (Region, Household, Resident, GridAssignment, User)
    }
    assert Region.objects.filter(level=RegionLevel.STREET).count() == 2
    assert Region.objects.filter(level=RegionLevel.COMMUNITY).count() == 8
    assert Region.objects.filter(level=RegionLevel.GRID).count() == 60
    assert 270 * 60 <= counts[Household] <= 330 * 60
    grid = Region.objects.filter(level=RegionLevel.GRID).first()
    assert 280 <= grid.households_count <= 320
    assert 700 <= grid.population_count <= 1300
    district = Region.objects.get(level=RegionLevel.DISTRICT)
    figures = subtree_worker_figures(region=district)
    assert 0.7 <= figures["full_time_share"] <= 0.95
    assert 0.8 <= figures["party_head_share"] <= 0.98
    for username in ("admin", "street", "community", "grid", "supervisor"):
        assert User.objects.get(username=username).check_password("gridwork-demo")

    # Every current roster worker of the demo community has a phone account.
    community = User.objects.get(username="community").region
    stints = GridAssignment.objects.filter(
        grid__parent=community, ended_on__isnull=True
    ).select_related("worker__user", "grid")
    assert stints.exists()
    for stint in stints:
        account = stint.worker.user
        assert account is not None, stint.worker
        assert account.role == UserRole.GRID_WORKER
        assert not account.is_staff and not account.is_superuser
        assert account.region.parent_id == community.pk
    assert stints.first().worker.user.check_password("gridwork-demo")

    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    assert {model: model.objects.count() for model in counts} == counts


def wish_step_allowed(action: str, from_state: str, to_state: str) -> bool:
    """Is ``action`` from ``from_state`` to ``to_state`` in the wish table?

    Reads the action-keyed ``WISH_TRANSITIONS`` (action → (from states, to
    state)) when partyorg has it, else the older state-keyed
    ``ALLOWED_WISH_TRANSITIONS`` (state → states)."""
    table = getattr(wish_choices, "WISH_TRANSITIONS", None)
    if table is not None:
        if action not in table:
            return False
        entry = table[action]
        if isinstance(entry, tuple | list):
            from_states, target = entry[0], entry[1]
        else:  # a small record with named fields
            from_states, target = entry.from_states, entry.to_state
        return from_state in from_states and to_state == target
    return to_state in wish_choices.ALLOWED_WISH_TRANSITIONS[from_state]


def _walk_ticket(ticket, events) -> list[str]:
    problems = []
    where = f"ticket #{ticket.pk}"
    if not events or events[0].action != Action.CREATE:
        return [f"{where}: the log does not start with its receipt"]
    if events[0].to_stage != Stage.RECEIVED:
        problems.append(f"{where}: received into {events[0].to_stage}")
    stage = Stage.RECEIVED
    previous_at = events[0].at
    for event in events[1:]:
        step = f"{where} {event.action} at {event.at:%Y-%m-%d %H:%M}"
        if event.at < previous_at:
            problems.append(f"{step}: earlier than the event before it")
        previous_at = event.at
        if event.from_stage != stage:
            problems.append(f"{step}: from {event.from_stage}, but it was {stage}")
        if event.action in TRANSITIONS:
            from_stages, to_stage = TRANSITIONS[event.action]
            if event.action == Action.MERGE and event.data.get("merged"):
                # The survivor's note of a duplicate merged into it: no move.
                if event.to_stage != stage:
                    problems.append(f"{step}: the survivor changed stage")
                if stage in (Stage.CLOSED, Stage.MERGED):
                    problems.append(f"{step}: merged into a closed ticket")
                continue
            if stage not in from_stages:
                problems.append(f"{step}: not allowed from {stage}")
            if event.to_stage != to_stage:
                problems.append(f"{step}: led to {event.to_stage}, not {to_stage}")
            stage = event.to_stage
        elif event.to_stage != stage:
            problems.append(f"{step}: changed the stage to {event.to_stage}")
    if stage != ticket.stage:
        problems.append(
            f"{where}: the log ends in {stage}, the ticket is {ticket.stage}"
        )
    if ticket.stage == Stage.MERGED:
        if ticket.merged_into_id is None:
            problems.append(f"{where}: merged without a target")
        if ticket.holder_region_id is None:
            problems.append(f"{where}: merged without a holder")
    return problems


def _walk_wish(wish, events) -> list[str]:
    where = f"wish #{wish.pk}"
    if not events or events[0].action != "post" or events[0].from_state:
        return [f"{where}: the log does not start with its posting"]
    problems = []
    state = events[0].to_state
    previous_at = events[0].created_at
    for event in events[1:]:
        step = f"{where} {event.action}"
        if event.created_at < previous_at:
            problems.append(f"{step}: earlier than the event before it")
        previous_at = event.created_at
        if event.from_state != state:
            problems.append(f"{step}: from {event.from_state}, but it was {state}")
        if not wish_step_allowed(event.action, event.from_state, event.to_state):
            problems.append(f"{step}: {event.from_state} → {event.to_state} refused")
        state = event.to_state
    if state != wish.state:
        problems.append(f"{where}: the log ends in {state}, the wish is {wish.state}")
    return problems


def test_every_demo_ticket_and_wish_has_a_history_the_rules_allow(seeded_demo):
    now = timezone.now()
    tickets = list(Ticket.objects.prefetch_related("events").order_by("pk"))
    wishes = list(Wish.objects.prefetch_related("events").order_by("pk"))
    assert tickets and wishes
    problems = []
    for ticket in tickets:
        events = sorted(ticket.events.all(), key=lambda e: e.pk)
        problems += _walk_ticket(ticket, events)
        problems += [
            f"ticket #{ticket.pk} {e.action}: in the future"
            for e in events
            if e.at > now
        ]
    for wish in wishes:
        events = sorted(wish.events.all(), key=lambda e: e.pk)
        problems += _walk_wish(wish, events)
    assert problems == [], "\n".join(problems[:40])
    _check_rating_history(now)


def _check_rating_history(now):
    """A year of ratings: every month before the running one published, the
    running one a draft, classes that move, appeals decided with their class
    changes, and patrols of the year, none in the future (governance/demo.py)."""
    from governance.models import GridRating, RatingClassChange, RatingState
    from grids.models import Patrol

    assert Patrol.objects.exists()
    assert not Patrol.objects.filter(occurred_at__gt=now).exists()
    assert Patrol.objects.dates("occurred_at", "month").count() >= 12
    states = dict(
        GridRating.objects.values_list("month", "state").order_by("month").distinct()
    )
    current = timezone.localdate(now).replace(day=1)
    assert states.pop(current) == RatingState.DRAFT
    assert len(states) == 12 and set(states.values()) == {RatingState.PUBLISHED}
    changes = RatingClassChange.objects.select_related("decision__appeal")
    assert changes.exists()
    assert all(c.decision.appeal.filed_at < c.at <= now for c in changes)
    classes = {}
    for grid_id, rating_class in GridRating.objects.values_list(
        "grid_id", "rating_class"
    ):
        classes.setdefault(grid_id, set()).add(rating_class)
    assert any(len(seen) > 1 for seen in classes.values())  # 动态调整
