"""Admin paths found by review: saving a grid with its roster inline, masked data
behind changelist filters, hidden tags, the grid-worker page, region form errors."""

import datetime as dt

import pytest
from django.urls import reverse

from grids.choices import UserRole, WorkerRole
from grids.models import GridAssignment, GridWorker, Region
from tests.grids.factories import (
    GridAssignmentFactory,
    GridWorkerFactory,
    ResidentFactory,
    ResidentTagFactory,
)


def _grid_form(grid, **extra):
    data = {
        "parent": grid.parent_id,
        "name": grid.name,
        "code": grid.code or "",
        "households_count": "",
        "population_count": "",
        "latitude": "",
        "longitude": "",
        "boundary": "null",
        "is_active": "on",
        "assignments-TOTAL_FORMS": "0",
        "assignments-INITIAL_FORMS": "0",
        "assignments-MIN_NUM_FORMS": "0",
        "assignments-MAX_NUM_FORMS": "1000",
    }
    data.update(extra)
    return data


def test_street_staff_renames_a_grid_with_its_inline(client, tree, street_staff):
    grid = tree["grids"][0]
    client.force_login(street_staff)
    response = client.post(
        reverse("admin:grids_region_change", args=[grid.pk]),
        _grid_form(grid, name="新名字"),
    )
    assert response.status_code == 302
    grid.refresh_from_db()
    assert grid.name == "新名字"


def test_roster_inline_starts_a_stint_and_refuses_rewriting_one(
    client, tree, street_staff
):
    grid = tree["grids"][0]
    worker = GridWorkerFactory(home_region=tree["communities"][0])
    client.force_login(street_staff)
    url = reverse("admin:grids_region_change", args=[grid.pk])
    response = client.post(
        url,
        _grid_form(
            grid,
            **{
                "assignments-TOTAL_FORMS": "1",
                "assignments-0-worker": worker.pk,
                "assignments-0-role": WorkerRole.FULL_TIME,
                "assignments-0-started_on": "2025-01-01",
                "assignments-0-ended_on": "",
            },
        ),
    )
    assert response.status_code == 302
    stint = GridAssignment.objects.get(grid=grid)
    assert stint.role == WorkerRole.FULL_TIME

    rewrite = _grid_form(
        grid,
        **{
            "assignments-TOTAL_FORMS": "1",
            "assignments-INITIAL_FORMS": "1",
            "assignments-0-id": stint.pk,
            "assignments-0-grid": grid.pk,
            "assignments-0-worker": worker.pk,
            "assignments-0-role": WorkerRole.PART_TIME,
            "assignments-0-started_on": "2025-01-01",
            "assignments-0-ended_on": "",
        },
    )
    response = client.post(url, rewrite, follow=True)
    assert "只能修改已有任职的结束日期" in response.content.decode()
    stint.refresh_from_db()
    assert stint.role == WorkerRole.FULL_TIME


def test_an_ended_stint_cannot_be_reopened(client, tree, street_staff):
    stint = GridAssignmentFactory(
        grid=tree["grids"][0],
        started_on=dt.date(2024, 1, 1),
        ended_on=dt.date(2024, 6, 1),
    )
    client.force_login(street_staff)
    response = client.post(
        reverse("admin:grids_gridassignment_change", args=[stint.pk]),
        {"ended_on": ""},
        follow=True,
    )
    assert "不能重新开启" in response.content.decode()
    stint.refresh_from_db()
    assert stint.ended_on == dt.date(2024, 6, 1)


@pytest.mark.parametrize(
    "lookup",
    ["id_number__startswith", "phone__startswith", "household__residents__phone"],
)
def test_masked_fields_cannot_be_probed_through_filters(
    client, tree, supervisor, lookup
):
    resident = ResidentFactory(household__region=tree["grids"][0])
    client.force_login(supervisor)
    response = client.get(
        reverse("admin:grids_resident_changelist"), {lookup: resident.id_number[:10]}
    )
    assert response.status_code == 400


def test_hidden_tags_are_not_offered_and_filter_nothing(client, tree, supervisor):
    hidden = ResidentTagFactory(
        code="serious_illness", name="重病患者", visible_to_roles=["community_staff"]
    )
    open_tag = ResidentTagFactory(code="elderly_alone", name="独居老人")
    sick = ResidentFactory(household__region=tree["grids"][0], name="病人甲")
    sick.tags.add(hidden, open_tag)
    client.force_login(supervisor)
    url = reverse("admin:grids_resident_changelist")
    page = client.get(url).content.decode()
    assert "独居老人" in page and "重病患者" not in page
    assert "病人甲" not in client.get(url, {"tag": hidden.pk}).content.decode()
    assert "病人甲" in client.get(url, {"tag": open_tag.pk}).content.decode()
    assert client.get(url, {"tags__id__exact": hidden.pk}).status_code == 400


def test_grid_worker_page_saves_through_the_service(client, tree, community_staff):
    client.force_login(community_staff)
    add = reverse("admin:grids_gridworker_add")
    assert 'name="user"' not in client.get(add).content.decode()
    response = client.post(
        add, {"name": "新人", "phone": "139 1234 5678", "is_party_member": "on"}
    )
    assert response.status_code == 302
    worker = GridWorker.objects.get(name="新人")
    assert worker.phone == "13912345678"
    # a worker without a stint yet can be found to be assigned
    found = client.get(
        reverse("admin:autocomplete"),
        {
            "app_label": "grids",
            "model_name": "gridassignment",
            "field_name": "worker",
            "term": "新人",
        },
    ).json()["results"]
    assert [item["text"] for item in found] == ["新人"]


def test_other_areas_worker_is_not_rewritten_by_upsert(
    tree, other_tree, community_staff
):
    from grids import services
    from grids.errors import Conflict

    outsider = GridWorkerFactory(
        name="外区网格员", phone="13700000000", is_party_member=True
    )
    GridAssignmentFactory(worker=outsider, grid=other_tree["grids"][0])
    with pytest.raises(Conflict):
        services.grid_worker_upsert(
            actor=community_staff, name="改名了", phone="13700000000"
        )
    outsider.refresh_from_db()
    assert (outsider.name, outsider.is_party_member) == ("外区网格员", True)


def test_region_form_errors_are_messages_not_500s(client, tree, street_staff):
    client.force_login(street_staff)
    response = client.post(
        reverse("admin:grids_region_add"),
        {
            "parent": tree["communities"][0].pk,
            "name": "无层级",
            "level": "",
            "boundary": "null",
        },
    )
    assert response.status_code == 200
    assert not Region.objects.filter(name="无层级").exists()
    community = tree["communities"][0]
    response = client.post(
        reverse("admin:grids_region_change", args=[community.pk]),
        _grid_form(community, parent=""),
    )
    assert response.status_code == 200  # a community cannot be a root


def test_bad_geojson_boundary_is_refused(tree, admin_user):
    from grids import services
    from grids.errors import DomainError

    with pytest.raises(DomainError):
        services.region_create(
            actor=admin_user,
            parent=tree["communities"][0],
            name="网格X",
            level="grid",
            boundary="hello",
        )
    polygon = {
        "type": "Polygon",
        "coordinates": [[[117.0, 36.6], [117.1, 36.6], [117.1, 36.7], [117.0, 36.6]]],
    }
    services.region_create(
        actor=admin_user,
        parent=tree["communities"][0],
        name="网格Y",
        level="grid",
        boundary=polygon,
    )


def test_export_with_a_stray_parameter_is_not_a_500(client, tree, street_staff):
    client.force_login(street_staff)
    response = client.get(reverse("admin:grids_resident_export"), {"format": "99"})
    assert response.status_code in (200, 302)


def test_full_width_id_number_is_the_same_person(tree, community_staff):
    from grids import services
    from grids.errors import Conflict
    from tests.grids.factories import HouseholdFactory, next_id_number

    household = HouseholdFactory(region=tree["grids"][0])
    id_number = next_id_number()
    services.resident_create(
        actor=community_staff, household=household, name="甲", id_number=id_number
    )
    full_width = "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in id_number)
    with pytest.raises(Conflict):
        services.resident_create(
            actor=community_staff, household=household, name="甲", id_number=full_width
        )


def test_future_birth_date_in_id_number_is_refused():
    from django.core.exceptions import ValidationError

    from grids.validators import build_id_number, validate_id_number

    with pytest.raises(ValidationError) as exc:
        validate_id_number(
            build_id_number("370102", dt.date.today() + dt.timedelta(days=400), 1)
        )
    assert exc.value.code == "id_birth_date"


def test_supervisor_sees_worker_phones_masked(client, tree, supervisor):
    worker = GridWorkerFactory(phone="13811112222")
    GridAssignmentFactory(worker=worker, grid=tree["grids"][0])
    client.force_login(supervisor)
    page = client.get(
        reverse("admin:grids_gridworker_change", args=[worker.pk])
    ).content.decode()
    assert "13811112222" not in page
    assert "138****2222" in page
    assert supervisor.role == UserRole.SUPERVISOR
