"""The ticket scope rule on the scope columns (``ticket_scope_q``) selects exactly
the tickets of the MPTT-range rule (``ticket_scope_mptt_q``): a property test
over random trees, tickets, users and moves of a subtree."""

import datetime as dt

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grids.choices import ALLOWED_CHILD_LEVELS, RegionLevel, UserRole
from grids.models import Region
from tests.grids.factories import UserFactory
from tests.tickets.factories import DepartmentFactory, TicketFactory
from tickets.models import Ticket
from tickets.places import forget_cached_places, level_nodes
from tickets.querysets import ticket_scope_mptt_q, ticket_scope_q

ROLES = [
    UserRole.SUPERVISOR,
    UserRole.STREET_STAFF,
    UserRole.COMMUNITY_STAFF,
    UserRole.GRID_WORKER,
]

# A node: (index of an earlier node to hang under, or None for a root; a number
# that picks one of the levels allowed there).
nodes = st.lists(
    st.tuples(st.none() | st.integers(0, 40), st.integers(0, 5)),
    min_size=1,
    max_size=18,
)
tickets = st.lists(
    st.tuples(
        st.integers(0, 40),  # place
        st.none() | st.integers(0, 40),  # handling unit: any node (also outside)
        st.none() | st.integers(0, 5),  # handler: one of the users
        st.none() | st.integers(0, 1),  # handling department
    ),
    max_size=14,
)
users = st.lists(
    st.tuples(
        st.none() | st.integers(0, 40),  # scope node (None: no region)
        st.sampled_from(ROLES),
        st.sets(st.integers(0, 1), max_size=2),  # department memberships
        st.booleans(),  # active
    ),
    min_size=1,
    max_size=6,
)
moves = st.none() | st.tuples(st.integers(0, 40), st.integers(0, 40))


def _build_tree(spec) -> list[Region]:
    """Regions in the order given; MPTT renumbers earlier nodes as later ones
    are inserted, so the instances are left stale on purpose."""
    made: list[Region] = []
    for parent_index, level_pick in spec:
        parent = (
            made[parent_index % len(made)]
            if made and parent_index is not None
            else None
        )
        allowed = sorted(ALLOWED_CHILD_LEVELS[parent.level if parent else None])
        if not allowed:
            parent = None
            allowed = sorted(ALLOWED_CHILD_LEVELS[None])
        level = allowed[level_pick % len(allowed)]
        made.append(
            Region.objects.create(name=f"n{len(made)}", level=level, parent=parent)
        )
    return made


def _move(made, move) -> None:
    """Hang a node under another node of its parent's level (a valid move)."""
    if move is None:
        return
    children = list(
        Region.objects.filter(
            pk__in=[r.pk for r in made], parent__isnull=False
        ).order_by("pk")
    )
    if not children:
        return
    node = children[move[0] % len(children)]
    parent_level = node.parent.level
    candidates = list(
        Region.objects.filter(level=parent_level)
        .exclude(pk=node.parent_id)
        .order_by("pk")
    )
    if not candidates:
        return
    node.parent = candidates[move[1] % len(candidates)]
    node.save()


@pytest.mark.django_db
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(nodes=nodes, tickets=tickets, users=users, move=moves)
def test_the_column_rule_selects_what_the_mptt_rule_selects(
    nodes, tickets, users, move
):
    at = dt.datetime(2026, 5, 6, 10, tzinfo=dt.UTC)
    # Each example's rows are rolled back; SQLite then hands out the same ids and
    # tree positions again, so a node of the last example must not be remembered.
    forget_cached_places()
    with transaction.atomic():
        made = _build_tree(nodes)
        departments = [DepartmentFactory(name=f"d{i}-{made[0].pk}") for i in range(2)]
        accounts = []
        for scope, role, member_of, active in users:
            account = UserFactory(
                role=role,
                region=None if scope is None else made[scope % len(made)],
                is_active=active,
            )
            for index in member_of:
                departments[index].members.add(account)
            accounts.append(account)
        for place, unit, handler, department in tickets:
            TicketFactory(
                region=made[place % len(made)],
                handling_region=None if unit is None else made[unit % len(made)],
                handling_department=(
                    None
                    if department is None or unit is not None
                    else departments[department]
                ),
                handler=None if handler is None else accounts[handler % len(accounts)],
                received_at=at,
                stage_entered_at=at,
            )
        _move(made, move)
        for account in accounts:
            account.refresh_from_db()
            by_columns = set(
                Ticket.objects.filter(ticket_scope_q(account)).values_list(
                    "pk", flat=True
                )
            )
            by_ranges = set(
                Ticket.objects.filter(ticket_scope_mptt_q(account)).values_list(
                    "pk", flat=True
                )
            )
            assert by_columns == by_ranges, (account.role, account.region)
        transaction.set_rollback(True)


def test_the_columns_name_the_nodes_of_each_level(tree):
    ticket = TicketFactory(
        region=tree["grids"][3], handling_region=tree["communities"][0]
    )
    ticket.refresh_from_db()
    assert (
        ticket.place_district_id,
        ticket.place_street_id,
        ticket.place_community_id,
        ticket.place_grid_id,
    ) == (
        tree["district"].pk,
        tree["street"].pk,
        tree["communities"][1].pk,
        tree["grids"][3].pk,
    )
    # The unit's columns only where they differ from the place's.
    assert (ticket.unit_district_id, ticket.unit_street_id) == (None, None)
    assert ticket.unit_community_id == tree["communities"][0].pk
    assert ticket.unit_grid_id is None


def test_a_save_of_the_place_sets_the_columns_and_other_saves_leave_them(tree):
    ticket = TicketFactory(region=tree["grids"][0])
    ticket.region = tree["grids"][3]
    ticket.save(update_fields=["region"])
    ticket.refresh_from_db()
    assert ticket.place_community_id == tree["communities"][1].pk
    Ticket.objects.filter(pk=ticket.pk).update(place_grid_id=None)
    ticket.description = "换个说法"
    ticket.save(update_fields=["description"])
    ticket.refresh_from_db()
    assert ticket.place_grid_id is None  # not recomputed: the place did not move


def test_a_moved_subtree_takes_its_tickets_along(tree, other_tree):
    ticket = TicketFactory(region=tree["grids"][0])
    community = Region.objects.get(pk=tree["communities"][0].pk)
    community.parent = Region.objects.get(pk=other_tree["street"].pk)
    community.save()
    ticket.refresh_from_db()
    assert ticket.place_street_id == other_tree["street"].pk
    assert ticket.place_district_id == other_tree["district"].pk
    assert level_nodes(Region.objects.get(pk=tree["grids"][0].pk)) == {
        RegionLevel.DISTRICT: other_tree["district"].pk,
        RegionLevel.STREET: other_tree["street"].pk,
        RegionLevel.COMMUNITY: community.pk,
        RegionLevel.GRID: tree["grids"][0].pk,
    }


def test_a_level_edit_is_seen_by_the_cached_paths(tree):
    grid = tree["grids"][0]
    community = tree["communities"][0]
    assert level_nodes(Region.objects.get(pk=grid.pk))[RegionLevel.COMMUNITY] == (
        community.pk
    )
    # No service changes a level (the admin shows it read-only): a data fix in
    # SQL, seen by every process through the tree's version (migration 0014).
    Region.objects.filter(pk=community.pk).update(level=RegionLevel.AREA)
    nodes = level_nodes(Region.objects.get(pk=grid.pk))
    assert RegionLevel.COMMUNITY not in nodes
    assert nodes[RegionLevel.STREET] == tree["street"].pk


def test_a_move_written_in_sql_is_seen_by_the_cached_paths(tree, other_tree):
    """A move that leaves the node's own MPTT position as it was (another tree
    with the same shape) still gives the new path."""
    grid = Region.objects.get(pk=tree["grids"][0].pk)
    assert level_nodes(grid)[RegionLevel.STREET] == tree["street"].pk
    # Swap the two trees' ids: every node keeps its lft/rght, the grid's
    # (id, tree_id, lft, rght) may now name another path.
    first, second = tree["district"].tree_id, other_tree["district"].tree_id
    Region.objects.filter(tree_id=first).update(tree_id=999_999)
    Region.objects.filter(tree_id=second).update(tree_id=first)
    Region.objects.filter(tree_id=999_999).update(tree_id=second)
    Region.objects.filter(pk=grid.pk).update(tree_id=first)
    moved = Region.objects.get(pk=grid.pk)
    assert (moved.tree_id, moved.lft, moved.rght) == (
        grid.tree_id,
        grid.lft,
        grid.rght,
    )
    nodes = level_nodes(moved)
    assert nodes[RegionLevel.DISTRICT] == other_tree["district"].pk
    assert nodes[RegionLevel.STREET] == other_tree["street"].pk
