"""The demo's service sites, building points and 民生微实事: every project
state with milestones and money, a real 15-minute coverage figure, and a second
run adds nothing."""

import io
import random

import pytest

from grids.choices import RegionLevel
from grids.models import Region, User
from partyorg.microprojects import demo as project_demo
from partyorg.microprojects.choices import ProjectState
from partyorg.microprojects.models import MicroProject, MicroProjectMilestone
from partyorg.sites import demo as site_demo
from partyorg.sites.models import ServiceSite
from partyorg.sites.selectors import service_circle_by_community
from tests.partyorg.test_demo import demo_tree  # noqa: F401


def _counts():
    return (
        MicroProject.objects.count(),
        MicroProjectMilestone.objects.count(),
        ServiceSite.objects.count(),
        Region.objects.filter(latitude__isnull=False).count(),
    )


@pytest.fixture
def seeded(demo_tree, settings, tmp_path):  # noqa: F811
    settings.MEDIA_ROOT = tmp_path
    out = io.StringIO()
    site_demo.seed(stdout=out, rng=random.Random(1))
    project_demo.seed(stdout=out, rng=random.Random(1))
    return out


def test_demo_projects_in_every_state_with_milestones_and_money(seeded, demo_tree):  # noqa: F811
    for community in demo_tree["communities"]:
        states = set(
            MicroProject.objects.filter(community=community).values_list(
                "state", flat=True
            )
        )
        assert states == set(ProjectState.values)
    accepted = MicroProject.objects.filter(state=ProjectState.ACCEPTED)
    assert all(p.spent and p.spent <= p.budget and p.result for p in accepted)
    assert all(p.milestones.exclude(photo="").count() == 2 for p in accepted)
    assert MicroProject.objects.filter(
        state=ProjectState.IN_PROGRESS, milestones__isnull=False
    ).exists()


def test_demo_buildings_have_points_and_the_circle_a_real_figure(seeded, demo_tree):  # noqa: F811
    buildings = Region.objects.filter(level=RegionLevel.BUILDING)
    assert not buildings.filter(latitude__isnull=True).exists()
    admin = User.objects.get(username="admin")
    rows = {row["pk"]: row for row in service_circle_by_community(actor=admin)}
    shares = [rows[c.pk] for c in demo_tree["communities"]]
    assert all(row["located"] == row["buildings"] == 21 for row in shares)
    covered = sum(row["covered"] for row in shares)
    assert 0 < covered < sum(row["buildings"] for row in shares)


def test_demo_twice_adds_nothing(seeded):
    first = _counts()
    out = io.StringIO()
    site_demo.seed(stdout=out, rng=random.Random(2))
    project_demo.seed(stdout=out, rng=random.Random(2))
    assert _counts() == first
    assert out.getvalue().count("nothing to do") == 2
