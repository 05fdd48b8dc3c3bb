"""The indicators on hand-built data with known answers (governance.indicators)."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from governance.indicators import children_indicators, indicators_for_nodes
from grids.choices import PatrolKind, RegionLevel, UserRole, WorkerRole
from grids.errors import OutOfScope
from grids.models import GridAssignment, GridWorker, Household, Patrol
from tests.grids.factories import RegionFactory, UserFactory, make_tree
from tests.tickets.factories import (
    CategoryFactory,
    TicketFactory,
    aware,
    handler_for,
    walk_to,
)
from tickets import services
from tickets.choices import ClosingLevel, Stage, Verdict

NOV = dt.date(2026, 11, 1)


@pytest.fixture
def lifecycle(tree, street_staff, community_staff):
    """Keyword arguments for ``walk_to`` (as in tests/tickets/conftest.py)."""
    return {
        "tree": tree,
        "street_staff": street_staff,
        "community_staff": community_staff,
        "handler": handler_for(tree, 0),
        "category": CategoryFactory(name="占道经营"),
    }


def _one(node, month=NOV, **kw):
    [row] = indicators_for_nodes(node_ids=[node.pk], month=month, **kw)
    return row


def _ticket(grid, **kw):
    return TicketFactory(region=grid, **kw)


def test_an_empty_month_has_zero_counts_and_no_rates(tree):
    row = _one(tree["grids"][0])
    assert row["dispatched"] == row["closed"] == row["patrol_days"] == 0
    assert row["response_rate"] is None
    assert row["satisfaction_rate"] is None
    assert row["on_time_rate"] is None
    assert row["grids"] == 1
    assert row["service_hours"] is None  # a grid has no 双报到 of its own


def test_ticket_rates_known_answers(tree):
    grid = tree["grids"][0]
    in_nov = aware(2026, 11, 10, 9, 0)
    # 4 dispatched in November, 3 accepted in time → 75 %.
    for on_time in (True, True, True, False):
        _ticket(grid, dispatched_at=in_nov, accepted_on_time=on_time)
    # Dispatched on 30 November 23:30 Beijing time: November, not December.
    _ticket(grid, dispatched_at=aware(2026, 11, 30, 23, 30), accepted_on_time=True)
    # Dispatched in October: not counted.
    _ticket(grid, dispatched_at=aware(2026, 10, 31, 9, 0), accepted_on_time=False)
    row = _one(grid)
    assert (row["dispatched"], row["accepted_in_time"]) == (5, 4)
    assert row["response_rate"] == Decimal("0.8")


def test_resolution_and_on_time_known_answers(tree):
    grid = tree["grids"][0]
    received = aware(2026, 11, 3, 9, 0)
    _ticket(grid, received_at=received, handled_at=aware(2026, 11, 20, 9, 0))
    _ticket(grid, received_at=received, handled_at=aware(2026, 12, 2, 9, 0))
    _ticket(grid, received_at=received)
    _ticket(grid, received_at=received, stage=Stage.MERGED)
    due = aware(2026, 11, 15, 17, 30)
    _ticket(grid, handling_due_at=due, handled_at=aware(2026, 11, 14, 9, 0))
    _ticket(grid, handling_due_at=due, handled_at=due)
    _ticket(grid, handling_due_at=due, handled_at=aware(2026, 11, 16, 9, 0))
    _ticket(grid, handling_due_at=due)
    row = _one(grid)
    # received: 3 (the merged duplicate left out); handled before December: 1.
    assert (row["received"], row["resolved"]) == (3, 1)
    assert row["resolution_rate"] == Decimal(1) / Decimal(3)
    assert (row["due"], row["on_time"], row["extensions"]) == (4, 2, 0)
    assert row["on_time_rate"] == Decimal("0.5")


def test_satisfaction_weights_fair_and_keeps_unevaluated_apart(tree):
    grid = tree["grids"][0]
    closed = aware(2026, 11, 20, 9, 0)
    verdicts = [Verdict.SATISFIED] * 2 + [Verdict.ORDINARY, Verdict.DISSATISFIED]
    for verdict in [*verdicts, Verdict.UNEVALUATED]:
        _ticket(
            grid,
            stage=Stage.CLOSED,
            closed_at=closed,
            verdict=verdict,
            closing_level=ClosingLevel.GRID,
        )
    row = _one(grid)
    assert (row["verdicts"], row["unevaluated"], row["closed"]) == (4, 1, 5)
    assert row["satisfaction_rate"] == Decimal("2.8") / 4
    assert _one(grid, ordinary_weight=Decimal("0.5"))["satisfaction_rate"] == (
        Decimal("2.5") / 4
    )


def test_outcome_rates_and_closure_levels(tree):
    grid = tree["grids"][0]
    closed = {"stage": Stage.CLOSED, "closed_at": aware(2026, 11, 20, 9, 0)}
    _ticket(grid, closing_level=ClosingLevel.GRID, **closed)
    _ticket(grid, closing_level=ClosingLevel.GRID, rework_count=1, **closed)
    _ticket(grid, closing_level=ClosingLevel.COMMUNITY, escalation_level=2, **closed)
    _ticket(grid, closing_level=ClosingLevel.STREET, report_up_count=1, **closed)
    row = _one(grid)
    assert row["closed"] == 4
    assert row["rework_rate"] == row["escalation_rate"] == Decimal("0.25")
    assert row["report_up_rate"] == Decimal("0.25")
    assert row["grid_closure_share"] == Decimal("0.5")
    assert row["community_closure_share"] == Decimal("0.75")
    assert (row["closed_street"], row["closed_above"]) == (1, 0)


def test_a_month_with_a_holiday_counts_acceptance_after_it_in_time(
    lifecycle, community_staff
):
    # Dispatched on 30 September; 国庆 runs 1–7 October: the 1-working-day
    # limit ends on 8 October, so accepting on the 8th is in time.
    with time_machine.travel(aware(2026, 9, 30, 10, 0), tick=False):
        ticket = walk_to(Stage.DISPATCHED, **lifecycle)
    with time_machine.travel(aware(2026, 10, 8, 9, 0), tick=False):
        services.ticket_accept(
            actor=community_staff, ticket_id=ticket.pk, handler=lifecycle["handler"]
        )
    grid = lifecycle["tree"]["grids"][0]
    september = _one(grid, month=dt.date(2026, 9, 1))
    assert (september["dispatched"], september["accepted_in_time"]) == (1, 1)
    assert _one(grid, month=dt.date(2026, 10, 1))["dispatched"] == 0


def test_patrol_days_and_visit_coverage(tree, grid_worker):
    grid = tree["grids"][0]
    building = RegionFactory(level=RegionLevel.BUILDING, parent=grid, name="1栋")
    homes = [
        Household.objects.create(region=building, address=f"1栋{n}室") for n in range(4)
    ]
    for day, home in ((2, homes[0]), (2, homes[1]), (9, homes[0]), (30, None)):
        Patrol.objects.create(
            worker=grid_worker,
            region=building if home else grid,
            kind=PatrolKind.VISIT if home else PatrolKind.PATROL,
            household=home,
            occurred_at=aware(2026, 11, day, 23, 0),
            notes="走访",
        )
    row = _one(grid)
    assert (row["patrol_days"], row["days"]) == (3, 30)
    assert row["patrol_day_rate"] == Decimal(3) / Decimal(30)
    assert (row["households_visited"], row["households"]) == (2, 4)
    assert row["visit_coverage"] == Decimal("0.5")


def test_grid_norms_workers_and_party_heads(tree):
    on_norm, off_norm, unknown = tree["grids"][:3]
    on_norm.households_count, on_norm.population_count = 310, 950
    off_norm.households_count, off_norm.population_count = 700, 2100
    for grid in (on_norm, off_norm):
        grid.save()
    member = GridWorker.objects.create(name="张三", phone="13800001234")
    member.is_party_member = True
    member.save()
    GridAssignment.objects.create(
        worker=member, grid=on_norm, role=WorkerRole.HEAD, started_on=NOV
    )
    GridAssignment.objects.create(
        worker=member,
        grid=on_norm,
        role=WorkerRole.FULL_TIME,
        started_on=dt.date(2026, 1, 1),
        ended_on=dt.date(2026, 11, 3),
    )
    GridAssignment.objects.create(
        worker=member,
        grid=off_norm,
        role=WorkerRole.FULL_TIME,
        started_on=dt.date(2026, 1, 1),
        ended_on=dt.date(2026, 10, 31),
    )
    street = _one(tree["street"], level=RegionLevel.STREET)
    assert street["grids"] == 4
    assert (street["grids_off_norm"], street["grids_norm_unknown"]) == (1, 2)
    assert street["grids_with_full_time"] == 1
    assert street["grids_with_party_head"] == 1
    assert street["households_recorded"] == 1010
    assert _one(unknown)["grids_with_full_time"] == 0


def test_children_roll_up_their_subtrees(tree, street_staff):
    closed = {"stage": Stage.CLOSED, "closed_at": aware(2026, 11, 20, 9, 0)}
    grids = tree["grids"]
    _ticket(grids[0], verdict=Verdict.SATISFIED, **closed)
    _ticket(grids[1], verdict=Verdict.DISSATISFIED, **closed)
    _ticket(grids[2], verdict=Verdict.SATISFIED, **closed)
    rows = children_indicators(actor=street_staff, region=tree["street"], month=NOV)
    assert [row["node_id"] for row in rows] == [c.pk for c in tree["communities"]]
    assert [row["closed"] for row in rows] == [2, 1]
    assert [row["satisfaction_rate"] for row in rows] == [Decimal("0.5"), 1]
    assert [row["grids"] for row in rows] == [2, 2]
    # Through the MPTT ranges (no level given) the same counts.
    again = indicators_for_nodes(
        node_ids=[c.pk for c in tree["communities"]], month=NOV
    )
    assert [row["closed"] for row in again] == [2, 1]


def test_children_indicators_refuse_outside_scope(tree):
    staff = UserFactory(role=UserRole.COMMUNITY_STAFF, region=tree["communities"][0])
    with pytest.raises(OutOfScope):
        children_indicators(actor=staff, region=tree["communities"][1], month=NOV)
    with pytest.raises(OutOfScope):
        children_indicators(actor=staff, region=tree["street"], month=NOV)
    rows = children_indicators(actor=staff, region=tree["communities"][0], month=NOV)
    assert len(rows) == 2


@pytest.mark.parametrize("grids_per_community", [5, 50])
def test_children_indicators_query_count_is_fixed(
    db, django_assert_max_num_queries, grids_per_community
):
    tree = make_tree(communities=1, grids_per_community=grids_per_community)
    for grid in tree["grids"]:
        _ticket(
            grid,
            stage=Stage.CLOSED,
            closed_at=aware(2026, 11, 20, 9, 0),
            verdict=Verdict.SATISFIED,
        )
    staff = UserFactory(role=UserRole.STREET_STAFF, region=tree["street"])
    community = tree["communities"][0]
    with django_assert_max_num_queries(3):
        rows = children_indicators(actor=staff, region=community, month=NOV)
    assert len(rows) == grids_per_community
    assert all(row["closed"] == 1 for row in rows)


def test_many_nodes_join_the_tickets_with_the_same_counts(tree, monkeypatch):
    """Above ``MANY_NODES`` the tickets are joined to the nodes (the rating of a
    province) instead of looked up per node: the same counts either way."""
    from governance import indicators

    grids = tree["grids"]
    closed = {"stage": Stage.CLOSED, "closed_at": aware(2026, 11, 20, 9, 0)}
    _ticket(grids[0], verdict=Verdict.SATISFIED, **closed)
    _ticket(grids[0], verdict=Verdict.ORDINARY, **closed)
    _ticket(grids[1], verdict=Verdict.DISSATISFIED, **closed)
    _ticket(grids[2], received_at=aware(2026, 11, 3, 9, 0))
    ids = [g.pk for g in grids]
    looked_up = indicators_for_nodes(node_ids=ids, month=NOV, level=RegionLevel.GRID)
    monkeypatch.setattr(indicators, "MANY_NODES", 1)
    sql, _params = indicators.indicator_query(
        node_ids=ids, month=NOV, level=RegionLevel.GRID
    )
    assert "JOIN nodes tn" in sql
    joined = indicators_for_nodes(node_ids=ids, month=NOV, level=RegionLevel.GRID)
    assert joined == looked_up
    assert [r["closed"] for r in joined] == [2, 1, 0, 0]
    assert joined[2]["received"] == 1


def test_patrol_days_are_local_days_across_midnight(tree, grid_worker):
    """A patrol day is a day in Asia/Shanghai, not in UTC: 00:30 on the 1st is
    the month's (16:30 UTC the day before), 23:30 on the 31st of the month
    before is not, and 07:30 / 08:30 on the 5th (either side of midnight UTC)
    are one day. The same answer on PostgreSQL and SQLite."""
    grid = tree["grids"][0]
    for moment in (
        aware(2026, 10, 31, 23, 30),
        aware(2026, 11, 1, 0, 30),
        aware(2026, 11, 5, 7, 30),
        aware(2026, 11, 5, 8, 30),
    ):
        Patrol.objects.create(
            worker=grid_worker,
            region=grid,
            kind=PatrolKind.PATROL,
            occurred_at=moment,
            notes="巡查",
        )
    assert _one(grid)["patrol_days"] == 2
    assert _one(grid, month=dt.date(2026, 10, 1))["patrol_days"] == 1
