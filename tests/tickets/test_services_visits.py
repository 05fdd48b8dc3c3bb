"""A household visit that raises an event in the same step."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from grids.choices import PatrolKind, RegionLevel
from grids.errors import DomainError, NotAllowed, OutOfScope
from grids.models import Patrol
from tests.grids.factories import HouseholdFactory, RegionFactory
from tickets import services
from tickets.choices import Action, Source, Stage
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


def jpeg() -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 120, 200)).save(out, format="JPEG")
    return SimpleUploadedFile("v.jpg", out.getvalue(), content_type="image/jpeg")


@pytest.fixture
def household(tree):
    building = RegionFactory(
        name="1号楼", level=RegionLevel.BUILDING, parent=tree["grids"][0]
    )
    return HouseholdFactory(region=building, address="幸福路1号楼1单元101室")


def test_visit_alone_records_no_ticket(tree, grid_worker, household):
    patrol, ticket = services.visit_record_with_ticket(
        actor=grid_worker, region=tree["grids"][0], household=household, notes="走访"
    )
    assert ticket is None
    assert patrol.kind == PatrolKind.VISIT and patrol.household == household
    assert not Ticket.objects.exists()


def test_visit_raises_a_patrol_ticket_at_the_household(
    tree, grid_worker, household, category, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    patrol, ticket = services.visit_record_with_ticket(
        actor=grid_worker,
        region=tree["grids"][0],
        household=household,
        notes="老人反映楼道灯坏",
        photo=jpeg(),
        event_description="3楼楼道灯不亮",
        event_category=category,
    )
    assert patrol.photo
    assert ticket.source == Source.PATROL and ticket.stage == Stage.RECEIVED
    assert ticket.region == household.region
    assert ticket.address == household.address
    assert ticket.photos.count() == 1
    assert ticket.events.get(action=Action.CREATE).data == {"patrol": patrol.pk}


def test_a_refused_ticket_leaves_no_visit(tree, grid_worker, household):
    with pytest.raises(DomainError):
        services.visit_record_with_ticket(
            actor=grid_worker,
            region=tree["grids"][0],
            household=household,
            notes="走访",
            event_description="   \n",
            photo=SimpleUploadedFile("x.jpg", b"text", content_type="image/jpeg"),
        )
    assert not Patrol.objects.exists() and not Ticket.objects.exists()


def test_visit_outside_my_grid_is_refused(tree, grid_worker):
    with pytest.raises(OutOfScope):
        services.visit_record_with_ticket(
            actor=grid_worker,
            region=tree["grids"][1],
            notes="走访",
            event_description="有事",
        )
    assert not Patrol.objects.exists()


def test_supervisor_may_not_record_a_visit(tree, supervisor):
    with pytest.raises(NotAllowed):
        services.visit_record_with_ticket(
            actor=supervisor, region=tree["grids"][0], notes="走访"
        )
