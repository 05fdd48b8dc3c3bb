"""seed_demo loads a realistic district once; a second run changes nothing."""

import io

import pytest
from django.core.management import call_command

from grids.choices import RegionLevel, UserRole
from grids.models import GridAssignment, Household, Region, Resident, User
from grids.selectors import subtree_worker_figures


@pytest.mark.django_db
def test_seed_demo_is_realistic_and_idempotent():
    call_command("seed_demo", stdout=io.StringIO())
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
