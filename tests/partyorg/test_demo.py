import io
import random

import pytest

from grids.choices import RegionLevel, UserRole, WorkerRole
from grids.models import User
from grids.selectors import subtree_worker_figures
from partyorg import demo, selectors
from partyorg.choices import OrgType, WishState
from partyorg.models import (
    PartyMember,
    PartyOrg,
    Registration,
    ServiceRecord,
    Wish,
    WishEvent,
)
from tests.grids.factories import (
    GridAssignmentFactory,
    RegionFactory,
    UserFactory,
    make_tree,
)


@pytest.fixture
def demo_tree(db):
    tree = make_tree(communities=3, grids_per_community=7)
    for i, grid in enumerate(tree["grids"]):
        for b in range(3):
            RegionFactory(
                name=f"{grid.name}{b + 1}号楼", level=RegionLevel.BUILDING, parent=grid
            )
        GridAssignmentFactory(
            grid=grid, role=WorkerRole.HEAD, worker__is_party_member=i % 10 != 0
        )
    for key in ("district", "street"):
        tree[key].refresh_from_db()
    UserFactory(username="admin", is_superuser=True, role="", region=None)
    UserFactory(role=UserRole.COMMUNITY_STAFF, region=tree["communities"][0])
    return tree


def _counts():
    return tuple(
        m.objects.count()
        for m in (PartyOrg, PartyMember, Registration, ServiceRecord, Wish, WishEvent)
    )


def test_seed_builds_everything_once(demo_tree):
    out = io.StringIO()
    demo.seed(stdout=out, rng=random.Random(1))
    first = _counts()
    assert all(first)
    demo.seed(stdout=out, rng=random.Random(2))
    assert _counts() == first
    assert "nothing to do" in out.getvalue()

    # The tree is valid MPTT and every type appears.
    assert set(PartyOrg.objects.values_list("org_type", flat=True)) == set(OrgType)
    for org in PartyOrg.objects.select_related("parent", "region"):
        assert (
            PartyOrg.placement_error(
                org_type=org.org_type, region=org.region, parent=org.parent
            )
            is None
        )
    wc = PartyOrg.objects.get(org_type=OrgType.WORKING_COMMITTEE)
    assert wc.get_descendant_count() == PartyOrg.objects.count() - 1

    root = User.objects.get(username="admin")
    coverage = selectors.party_coverage(actor=root)
    assert coverage["total"] == 21
    assert coverage["uncovered"] == 1  # every 20th grid has no branch

    # Wishes in every state, each with an event log that ends in its state.
    assert set(Wish.objects.values_list("state", flat=True)) == set(WishState)
    for wish in Wish.objects.prefetch_related("events"):
        events = list(wish.events.all())
        assert events[0].action == "post"
        assert events[-1].to_state == wish.state
    assert selectors.stale_wishes(actor=root).exists()
    # Every grid has wishes; claims, releases and refusals happened.
    assert set(Wish.objects.values_list("region", flat=True)) >= {
        g.pk for g in demo_tree["grids"]
    }
    actions = set(WishEvent.objects.values_list("action", flat=True))
    assert {"post", "claim", "release", "fulfil", "reject", "confirm"} <= actions
    assert {"withdraw", "cancel"} <= actions
    assert not WishEvent.objects.filter(actor__isnull=True).exists()

    # Grid heads: the party side agrees with the roster.
    figures = selectors.grid_head_party_figures(region=demo_tree["district"])
    assert figures["mismatched_worker_ids"] == []
    assert figures["party_share"] == pytest.approx(
        subtree_worker_figures(region=demo_tree["district"])["party_head_share"]
    )
    # In-service members have services this year and last.
    assert Registration.objects.filter(member__is_in_service=True).count() == (
        Registration.objects.count()
    )


def test_seed_without_grids_does_nothing(db):
    out = io.StringIO()
    demo.seed(stdout=out, rng=random.Random(1))
    assert not PartyOrg.objects.exists()
