"""Looks at personal data (grids/services/personal_data.py): showing a whole ID
number or phone (显示) and exports, by role and scope, with a reason, each
written to the append-only access log."""

import csv
import io

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from import_export.formats.base_formats import CSV

from grids import services
from grids.admin_mixins import ServiceImportExportMixin
from grids.choices import PersonalDataAccessKind
from grids.errors import DomainError, NotAllowed, OutOfScope
from grids.models import PersonalDataAccess, Resident
from grids.resources import (
    PersonalDataAccessResource,
    ResidentResource,
    RosterResource,
)
from tests.append_only import assert_append_only
from tests.grids.factories import (
    GridAssignmentFactory,
    GridWorkerFactory,
    ResidentFactory,
    UserFactory,
)
from tests.security.fuzz import post_forms

pytestmark = pytest.mark.django_db


@pytest.fixture
def resident(tree):
    resident = ResidentFactory(household__region=tree["grids"][0])
    # The factory writes around the services: count the resident in its
    # household as resident_create would, so the page's saves keep it right.
    services.household_resident_counts_refresh(household_ids=[resident.household_id])
    return resident


@pytest.fixture
def outsider(other_tree):
    return ResidentFactory(household__region=other_tree["grids"][0])


# --- 显示: the service -------------------------------------------------------------


@pytest.mark.parametrize("role", ["street_staff", "community_staff"])
def test_staff_in_scope_may_reveal_and_it_is_logged(role, request, resident):
    actor = request.getfixturevalue(role)
    values = services.personal_data_reveal(
        actor=actor,
        resident_id=resident.pk,
        fields=["id_number", "phone"],
        reason="核对低保申请",
    )
    assert values == {"id_number": resident.id_number, "phone": resident.phone}
    entry = PersonalDataAccess.objects.get()
    assert entry.actor == actor
    assert entry.kind == PersonalDataAccessKind.REVEAL
    assert entry.content_type == ContentType.objects.get_for_model(Resident)
    assert entry.object_id == str(resident.pk)
    assert entry.object_repr == resident.name
    assert entry.region == resident.household.region
    assert entry.fields == ["id_number", "phone"]
    assert entry.reason == "核对低保申请"
    assert entry.at is not None


@pytest.mark.parametrize("role", ["supervisor", "grid_worker"])
def test_supervisors_and_grid_workers_may_not_reveal(role, request, resident):
    with pytest.raises(NotAllowed):
        services.personal_data_reveal(
            actor=request.getfixturevalue(role),
            resident_id=resident.pk,
            fields=["id_number"],
            reason="看看",
        )
    assert not PersonalDataAccess.objects.exists()


def test_reveal_outside_the_area_is_as_if_missing(community_staff, tree, outsider):
    sibling = ResidentFactory(household__region=tree["grids"][-1])  # other community
    for resident_id in (outsider.pk, sibling.pk, 987654321):
        with pytest.raises(OutOfScope):
            services.personal_data_reveal(
                actor=community_staff,
                resident_id=resident_id,
                fields=["id_number"],
                reason="核对",
            )
    assert not PersonalDataAccess.objects.exists()


@pytest.mark.parametrize(
    ("fields", "reason"),
    [(["id_number"], ""), (["id_number"], "   "), ([], "核对"), (["name"], "核对")],
)
def test_reveal_needs_a_reason_and_a_known_field(
    fields, reason, community_staff, resident
):
    with pytest.raises(DomainError):
        services.personal_data_reveal(
            actor=community_staff,
            resident_id=resident.pk,
            fields=fields,
            reason=reason,
        )
    assert not PersonalDataAccess.objects.exists()


def test_the_access_log_is_append_only(community_staff, resident):
    services.personal_data_reveal(
        actor=community_staff, resident_id=resident.pk, fields=["phone"], reason="回访"
    )
    assert_append_only(PersonalDataAccess.objects.get(), reason="改掉")


# --- 显示: the admin page ----------------------------------------------------------


def test_reveal_page_get_shows_no_value_and_post_shows_it_once(
    client, community_staff, resident
):
    client.force_login(community_staff)
    url = reverse("admin:grids_resident_reveal", args=[resident.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert resident.id_number not in page.content.decode()
    assert not PersonalDataAccess.objects.exists()

    refused = client.post(url, {"fields": ["id_number"], "reason": ""})
    assert refused.status_code == 200
    assert resident.id_number not in refused.content.decode()
    assert not PersonalDataAccess.objects.exists()

    shown = client.post(url, {"fields": ["id_number", "phone"], "reason": "核对户籍"})
    body = shown.content.decode()
    assert resident.id_number in body
    assert resident.phone in body
    assert "no-store" in shown["Cache-Control"]
    assert PersonalDataAccess.objects.get().reason == "核对户籍"

    # The next look is a new request: the change page and the GET stay masked.
    change = client.get(reverse("admin:grids_resident_change", args=[resident.pk]))
    assert resident.id_number not in change.content.decode()
    assert resident.id_number not in client.get(url).content.decode()


def test_reveal_page_refuses_other_roles_and_other_areas(
    client, supervisor, community_staff, resident, outsider
):
    client.force_login(supervisor)
    url = reverse("admin:grids_resident_reveal", args=[resident.pk])
    assert client.get(url).status_code == 403
    response = client.post(url, {"fields": ["id_number"], "reason": "看看"})
    assert response.status_code == 403
    client.force_login(community_staff)
    outside = reverse("admin:grids_resident_reveal", args=[outsider.pk])
    assert client.get(outside).status_code == 404
    response = client.post(outside, {"fields": ["id_number"], "reason": "核对"})
    assert response.status_code == 404
    assert outsider.id_number not in response.content.decode()
    assert not PersonalDataAccess.objects.exists()


def test_change_page_replaces_the_number_without_showing_it(
    client, community_staff, resident
):
    from tests.grids.factories import next_id_number

    client.force_login(community_staff)
    url = reverse("admin:grids_resident_change", args=[resident.pk])
    page = client.get(url)
    assert resident.id_number not in page.content.decode()
    (form,) = [f for f in post_forms(page.content.decode(), url) if "name" in f.fields]
    data = dict(form.fields)
    new_number = next_id_number()
    data.update({"new_id_number": [new_number], "new_phone": [""]})
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[-2000:]
    resident.refresh_from_db()
    assert resident.id_number == new_number
    assert resident.phone  # kept: the new phone was left empty

    data.update({"new_id_number": [""], "clear_phone": ["on"]})
    client.post(url, data)
    resident.refresh_from_db()
    assert (resident.id_number, resident.phone) == (new_number, "")


# --- The access log in the admin ---------------------------------------------------


def test_street_staff_browse_the_log_of_their_street_only(
    client, street_staff, community_staff, resident, outsider, other_tree
):
    services.personal_data_reveal(
        actor=community_staff, resident_id=resident.pk, fields=["phone"], reason="回访"
    )
    far_staff = UserFactory(role="street_staff", region=other_tree["street"])
    services.personal_data_reveal(
        actor=far_staff, resident_id=outsider.pk, fields=["phone"], reason="外区回访"
    )
    changelist = reverse("admin:grids_personaldataaccess_changelist")
    client.force_login(street_staff)
    body = client.get(changelist).content.decode()
    assert "回访" in body
    assert "外区回访" not in body
    far_entry = PersonalDataAccess.objects.get(actor=far_staff)
    detail = reverse("admin:grids_personaldataaccess_change", args=[far_entry.pk])
    assert client.get(detail).status_code in (302, 404)

    client.force_login(community_staff)
    assert client.get(changelist).status_code == 403


def test_the_access_log_export_is_scoped_and_formula_safe(
    street_staff, community_staff, resident
):
    services.personal_data_reveal(
        actor=community_staff,
        resident_id=resident.pk,
        fields=["id_number"],
        reason='=HYPERLINK("http://x","点我")',
    )
    dataset = PersonalDataAccessResource(user=street_staff).export()
    (row,) = dataset.dict
    assert row["reason"] == '\'=HYPERLINK("http://x","点我")'
    assert row["fields"] == "id_number"
    assert resident.id_number not in repr(dataset.dict)


# --- Exports -----------------------------------------------------------------------


def test_resident_export_is_masked_by_default_and_not_logged(community_staff, resident):
    dataset = ResidentResource(user=community_staff).export()
    (row,) = dataset.dict
    assert row["id_number"] == resident.masked_id_number
    assert row["phone"] == resident.masked_phone
    assert not PersonalDataAccess.objects.exists()


def test_roster_export_masks_phones(street_staff, tree):
    worker = GridWorkerFactory(phone="13912345678")
    GridAssignmentFactory(worker=worker, grid=tree["grids"][0])
    (row,) = RosterResource(user=street_staff).export().dict
    assert row["worker_phone"] == "139****5678"
    (row,) = (
        RosterResource(user=street_staff, unmasked=True, reason="换届核对")
        .export()
        .dict
    )
    assert row["worker_phone"] == "13912345678"
    entry = PersonalDataAccess.objects.get()
    assert (entry.kind, entry.row_count, entry.fields) == (
        PersonalDataAccessKind.EXPORT,
        1,
        ["worker_phone"],
    )


def test_unmasked_export_needs_a_reason_and_is_logged_with_the_row_count(
    community_staff, resident, tree
):
    ResidentFactory(household__region=tree["grids"][0])
    with pytest.raises(DomainError):
        ResidentResource(user=community_staff, unmasked=True).export()
    assert not PersonalDataAccess.objects.exists()
    dataset = ResidentResource(
        user=community_staff, unmasked=True, reason="民政局核对"
    ).export()
    assert resident.id_number in [row["id_number"] for row in dataset.dict]
    entry = PersonalDataAccess.objects.get()
    assert entry.kind == PersonalDataAccessKind.EXPORT
    assert entry.unmasked is True
    assert entry.row_count == 2
    assert entry.fields == ["id_number", "phone"]
    assert entry.reason == "民政局核对"
    assert entry.region == community_staff.region


@pytest.mark.parametrize("role", ["supervisor", "grid_worker"])
def test_unmasked_export_is_refused_to_roles_that_may_not_reveal(
    role, request, resident
):
    with pytest.raises(NotAllowed):
        ResidentResource(
            user=request.getfixturevalue(role), unmasked=True, reason="看看"
        ).export()
    assert not PersonalDataAccess.objects.exists()


def test_a_large_export_needs_a_reason_even_masked(
    supervisor, tree, settings, resident
):
    ResidentFactory(household__region=tree["grids"][1])
    settings.PII_EXPORT_REASON_ROWS = 2
    assert len(ResidentResource(user=supervisor).export()) == 2  # at the limit
    ResidentFactory(household__region=tree["grids"][1])
    with pytest.raises(DomainError):
        ResidentResource(user=supervisor).export()
    dataset = ResidentResource(user=supervisor, reason="年度统计").export()
    assert resident.id_number not in repr(dataset.dict)
    entry = PersonalDataAccess.objects.get()
    assert (entry.unmasked, entry.row_count, entry.reason) == (False, 3, "年度统计")


def _admin_export(client, *, extra):
    url = reverse("admin:grids_resident_export")
    page = client.get(url)
    assert page.status_code == 200
    (form,) = [
        f for f in post_forms(page.content.decode(), url) if "format" in f.fields
    ]
    data = dict(form.fields)
    for name in data:
        if name.startswith("residentresource_"):
            data[name] = ["on"]
    data["format"] = [str(ServiceImportExportMixin().get_export_formats().index(CSV))]
    data.update(extra)
    return client.post(url, data)


def _csv_cells(response):
    rows = csv.reader(io.StringIO(response.content.decode("utf-8-sig")))
    return [cell for row in rows for cell in row]


def test_admin_export_masked_by_default_unmasked_with_a_reason(
    client, community_staff, resident
):
    client.force_login(community_staff)
    masked = _csv_cells(_admin_export(client, extra={}))
    assert resident.masked_id_number in masked
    assert resident.id_number not in masked

    refused = _admin_export(client, extra={"unmasked": ["on"], "reason": [""]})
    assert refused["Content-Type"].startswith("text/html")
    assert resident.id_number not in refused.content.decode()
    assert not PersonalDataAccess.objects.exists()

    unmasked = _admin_export(client, extra={"unmasked": ["on"], "reason": ["核对"]})
    assert resident.id_number in _csv_cells(unmasked)
    assert PersonalDataAccess.objects.get().row_count == 1


def test_admin_export_unmasked_refused_to_a_supervisor(client, supervisor, resident):
    client.force_login(supervisor)
    response = _admin_export(client, extra={"unmasked": ["on"], "reason": ["看看"]})
    assert response["Content-Type"].startswith("text/html")
    assert resident.id_number not in response.content.decode()
    assert not PersonalDataAccess.objects.exists()
