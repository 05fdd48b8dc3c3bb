"""Finding 1 of issue 9: the masked ID-card number "3713**********1234" was
rebuilt from ``?birth_date__year=`` and friends. Every lookup Django offers on
every personal-data field, directly and through relations, on every registered
admin, as a supervisor and as street staff: the changelist refuses it."""

import pytest
from django.contrib.admin.exceptions import DisallowedModelAdminLookup
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ORDER_VAR
from django.test import Client, RequestFactory
from django.urls import NoReverseMatch, reverse

from grids.choices import UserRole
from grids.masking import is_sensitive_path
from grids.models import Resident
from tests.grids.factories import HouseholdFactory, ResidentFactory, UserFactory

from .walk import admin_ids, registered_admins, sensitive_paths

pytestmark = pytest.mark.django_db


def _field_at(model, path):
    field = None
    for part in path.split("__"):
        field = model._meta.get_field(part)
        model = field.related_model or model
    return field


def _value(lookup: str, field) -> str:
    date_like = field.get_internal_type() in ("DateField", "DateTimeField")
    if lookup == "isnull":
        return "true"
    if lookup == "in":
        return "1990-01-01,1991-01-01" if date_like else "1,2"
    if lookup == "range":
        return "1990-01-01,1991-01-01" if date_like else "1,2"
    if lookup in ("year", "iso_year"):
        return "1990"
    if date_like and lookup in ("exact", "gt", "gte", "lt", "lte", ""):
        return "1990-01-01"
    return "1"


def _lookups(field):
    """Every lookup and transform registered for the field: exact, iexact,
    contains, startswith, gt…lte, range, year/month/day, isnull, in, regex, …"""
    return sorted(field.get_lookups())


def _refused(response) -> bool:
    if response.status_code == 400:
        return True
    return response.status_code == 302 and "e=1" in response.get("Location", "")


def _changelist_url(model):
    try:
        return reverse(
            f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist"
        )
    except NoReverseMatch:
        return None


@pytest.fixture
def roles(tree):
    return {
        "supervisor": UserFactory(role=UserRole.SUPERVISOR, region=tree["district"]),
        "street_staff": UserFactory(role=UserRole.STREET_STAFF, region=tree["street"]),
    }


def _clients(roles):
    for role, user in roles.items():
        client = Client()
        client.force_login(user)
        yield role, client


def test_the_walk_finds_the_relations_to_residents():
    """The walk below is not vacuous: it reaches residents directly and through
    relations from the other apps' admins."""
    by_label = {model._meta.label: model for model, _ in registered_admins()}
    assert "birth_date" in sensitive_paths(Resident)
    assert "residents__birth_date" in sensitive_paths(by_label["grids.Household"])
    reached = [
        label
        for label in by_label
        if any(p.endswith("birth_date") for p in sensitive_paths(by_label[label]))
    ]
    assert {"points.Award", "partyorg.Wish"} <= set(reached)


def _changelist_refuses(model_admin, user, params) -> bool:
    """Whether the admin's changelist refuses the query string (Django answers
    DisallowedModelAdminLookup with a 400, IncorrectLookupParameters with a
    redirect to ``?e=1``) instead of filtering by it."""
    request = RequestFactory().get("/", params)
    request.user = user
    try:
        model_admin.get_changelist_instance(request)
    except (DisallowedModelAdminLookup, IncorrectLookupParameters):
        return True
    return False


@pytest.mark.parametrize("label", admin_ids())
def test_no_changelist_filters_on_personal_data(roles, label):
    model, model_admin = next(
        (m, a) for m, a in registered_admins() if m._meta.label == label
    )
    for role, user in roles.items():
        request = RequestFactory().get("/")
        request.user = user
        if not model_admin.has_view_or_change_permission(request):
            continue  # this role cannot open the list at all
        leaks = []
        for path in sensitive_paths(model):
            field = _field_at(model, path)
            for lookup in ["", *_lookups(field)]:
                param = f"{path}__{lookup}" if lookup else path
                if not _changelist_refuses(
                    model_admin, user, {param: _value(lookup, field)}
                ):
                    leaks.append(param)
        assert leaks == [], (label, role, leaks)


def test_the_resident_list_answers_a_birth_date_filter_with_a_refusal(
    client, tree, roles
):
    """The same through HTTP, as the attack did it."""
    household = HouseholdFactory(region=tree["grids"][0])
    ResidentFactory(household=household)
    url = reverse("admin:grids_resident_changelist")
    for user in roles.values():
        client.force_login(user)
        assert client.get(url).status_code == 200
        for param, value in [
            ("birth_date", "1990-01-01"),
            ("birth_date__year", "1990"),
            ("birth_date__gte", "1990-01-01"),
            ("gender", "male"),
            ("gender__exact", "male"),
            ("id_number__startswith", "3713"),
            ("household__residents__birth_date__month", "1"),
        ]:
            response = client.get(url, {param: value})
            assert _refused(response), (user.role, param, response.status_code)


@pytest.mark.parametrize("label", admin_ids())
def test_no_list_filter_search_or_sort_by_personal_data(rf, roles, label):
    model, model_admin = next(
        (m, a) for m, a in registered_admins() if m._meta.label == label
    )
    for user in roles.values():
        request = rf.get("/")
        request.user = user
        wrong = [
            item
            for item in model_admin.get_list_filter(request)
            if isinstance(item, (str, tuple))
            and is_sensitive_path(model, item if isinstance(item, str) else item[0])
        ]
        wrong += [
            field
            for field in model_admin.get_search_fields(request)
            if is_sensitive_path(model, field)
        ]
        wrong += [
            item
            for item in model_admin.get_ordering(request) or ()
            if isinstance(item, str) and is_sensitive_path(model, item)
        ]
        if model_admin.date_hierarchy and is_sensitive_path(
            model, model_admin.date_hierarchy
        ):
            wrong.append(model_admin.date_hierarchy)
        # Shown in the list: a masked value or an age band, never the field.
        wrong += [
            item
            for item in model_admin.get_list_display(request)
            if isinstance(item, str)
            and not hasattr(model_admin, item)
            and is_sensitive_path(model, item)
        ]
        assert wrong == [], (label, wrong)


@pytest.mark.parametrize("label", admin_ids())
def test_no_sort_by_personal_data_through_the_order_parameter(roles, label):
    model, model_admin = next(
        (m, a) for m, a in registered_admins() if m._meta.label == label
    )
    url = _changelist_url(model)
    if url is None:
        pytest.skip("no changelist")
    for role, client in _clients(roles):
        request_user = roles[role]
        columns = len(list(model_admin.list_display))
        for index in range(columns):
            response = client.get(url, {ORDER_VAR: str(index)})
            if response.status_code != 200 or response.context is None:
                continue
            if "cl" not in response.context:
                continue
            order_by = response.context["cl"].queryset.query.order_by
            sorted_by = [str(o) for o in order_by]
            assert not [o for o in sorted_by if is_sensitive_path(model, o)], (
                label,
                request_user.role,
                index,
                sorted_by,
            )


def test_resident_list_shows_an_age_band_not_the_birth_year_or_gender(
    client, tree, street_staff
):
    household = HouseholdFactory(region=tree["grids"][0])
    resident = ResidentFactory(household=household)
    client.force_login(street_staff)
    page = client.get(reverse("admin:grids_resident_changelist")).content.decode()
    assert resident.name in page
    assert str(resident.birth_date.year) not in page
    assert resident.id_number not in page


def test_resident_export_holds_no_full_id_number_birth_date_or_gender(
    client, tree, street_staff
):
    household = HouseholdFactory(region=tree["grids"][0])
    resident = ResidentFactory(household=household)
    client.force_login(street_staff)
    response = client.post(
        reverse("admin:grids_resident_export"),
        {"format": "0", "resource": "0", **_all_export_fields()},
    )
    assert response.status_code == 200
    content = response.content.decode("utf-8", "replace")
    assert resident.name in content
    assert resident.id_number not in content
    assert resident.birth_date.isoformat() not in content
    assert resident.id_number[6:14] not in content


def _all_export_fields():
    from grids.resources import ResidentResource

    return {
        f"residentresource_{name}": "on"
        for name in ResidentResource().get_export_order()
    }
