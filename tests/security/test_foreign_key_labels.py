"""Finding 2 of issue 9: re-rendering WishAdmin's add form with another street's
resident id (``?resident=<id>`` or a POST) showed that resident's name with a
link. Every registered admin's add form, every raw-id and autocomplete foreign
key, with an object from another district: never labelled, refused as a form
error; a non-numeric id is a form error too, never a 500."""

import pytest
from django.test import Client, RequestFactory
from django.urls import NoReverseMatch, reverse

from governance.models import GridRating
from grids.admin_mixins import OUTSIDE_YOUR_AREA
from grids.choices import UserRole
from grids.models import GridWorker, Household, Region, Resident, User
from partyorg.models import PartyMember, PartyOrg, Registration
from tests.grids.factories import (
    GridAssignmentFactory,
    HouseholdFactory,
    ResidentFactory,
    UserFactory,
)
from tests.partyorg.factories import (
    PartyMemberFactory,
    PartyOrgFactory,
    RegistrationFactory,
)

from .walk import registered_admins

pytestmark = pytest.mark.django_db

MARK = "外区专用标签"


def _outside_region(other):
    grid = other["grids"][0]
    Region.objects.filter(pk=grid.pk).update(name=f"{MARK}网格")
    grid.refresh_from_db()
    return grid


def _outside_resident(other):
    household = HouseholdFactory(region=other["grids"][0], address=f"{MARK}路1号")
    return ResidentFactory(household=household, name=f"{MARK}居民")


def _outside_worker(other):
    return GridAssignmentFactory(
        grid=other["grids"][0], worker__name=f"{MARK}网格员"
    ).worker


def _outside_member(other):
    org = PartyOrgFactory(region=other["street"], name=f"{MARK}支部")
    return PartyMemberFactory(organisation=org, name=f"{MARK}党员")


def _outside_rating(other):
    """A grid's monthly rating (月评比) in the other district, named by its grid."""
    import datetime as dt

    from governance import services as rating_services

    grid = _outside_region(other)
    month = dt.date(2026, 5, 1)
    rating_services.rate_grids(month=month)
    return GridRating.objects.get(grid=grid, month=month)


# One object from another district per related model. A new raw-id or
# autocomplete field to a model missing here fails the walk until one is added.
OUTSIDE = {
    Region: _outside_region,
    Resident: _outside_resident,
    Household: lambda other: HouseholdFactory(
        region=other["grids"][0], address=f"{MARK}路2号"
    ),
    GridWorker: _outside_worker,
    PartyOrg: lambda other: PartyOrgFactory(region=other["street"], name=f"{MARK}党委"),
    PartyMember: _outside_member,
    Registration: lambda other: RegistrationFactory(
        member=_outside_member(other), community=other["communities"][0]
    ),
    GridRating: _outside_rating,
    # Accounts (e.g. the owner of a TOTP device in django-otp's admin).
    User: lambda other: UserFactory(
        role=UserRole.STREET_STAFF,
        region=other["street"],
        username="outside-account",
        first_name=MARK,
    ),
}


def _foreign_keys(model_admin, request):
    names = [*model_admin.raw_id_fields, *model_admin.get_autocomplete_fields(request)]
    return [
        name
        for name in dict.fromkeys(names)
        if getattr(model_admin.model._meta.get_field(name), "many_to_one", False)
    ]


@pytest.fixture
def users(tree):
    return {
        "street_staff": UserFactory(role=UserRole.STREET_STAFF, region=tree["street"]),
        "community_staff": UserFactory(
            role=UserRole.COMMUNITY_STAFF, region=tree["communities"][0]
        ),
        "grid_worker": UserFactory(role=UserRole.GRID_WORKER, region=tree["grids"][0]),
    }


def _form_errors(response, name):
    context = response.context
    if context is None or "adminform" not in context:
        return []
    return context["adminform"].form.errors.get(name, [])


def _admins_with_foreign_key_widgets():
    """The admins with a raw-id or autocomplete foreign key (declared on the
    class): the ones whose widgets could label an object."""
    labels = []
    for model, model_admin in registered_admins():
        names = [*model_admin.raw_id_fields, *model_admin.autocomplete_fields]
        if any(
            getattr(model._meta.get_field(name), "many_to_one", False) for name in names
        ):
            labels.append(model._meta.label)
    return labels


@pytest.mark.parametrize("label", _admins_with_foreign_key_widgets())
def test_add_forms_never_label_an_object_outside_the_users_area(
    users, other_tree, label
):
    model, model_admin = next(
        (m, a) for m, a in registered_admins() if m._meta.label == label
    )
    try:
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_add")
    except NoReverseMatch:
        pytest.skip("no add page")
    probe = RequestFactory().get(url)
    probe.user = users["street_staff"]
    fields = _foreign_keys(model_admin, probe)
    if not fields:
        pytest.skip("no raw-id or autocomplete foreign key")
    outside = {}
    for name in fields:
        related = model._meta.get_field(name).related_model
        assert related in OUTSIDE, f"add an outside-object factory for {related}"
        outside[name] = OUTSIDE[related](other_tree)
    tested = 0
    closed = {}
    for role, user in users.items():
        client = Client()
        client.force_login(user)
        status = client.get(url).status_code
        if status != 200:
            closed[role] = status
            continue  # this role may not add these
        for name, obj in outside.items():
            label_text = str(obj)
            for value in (str(obj.pk), "abc"):
                shown = client.get(url, {name: value})
                assert shown.status_code == 200, (role, name, value)
                assert label_text not in shown.content.decode(), (role, name, "GET")
                posted = client.post(url, {name: value})
                assert posted.status_code == 200, (role, name, value)
                assert label_text not in posted.content.decode(), (role, name, "POST")
                errors = _form_errors(posted, name)
                if name in _visible_fields(posted):
                    assert str(OUTSIDE_YOUR_AREA) in errors or value == "abc", (
                        role,
                        name,
                        errors,
                    )
                    assert errors, (role, name, value)
            tested += 1
    # An admin no area role may open (an administrators' page, such as
    # django-otp's devices) leaks nothing to them: it must answer 403 to each.
    assert tested or set(closed.values()) == {403}, closed


def _visible_fields(response):
    context = response.context
    if context is None or "adminform" not in context:
        return set()
    return set(context["adminform"].form.fields)


def test_wish_add_form_does_not_name_another_streets_resident(
    client, tree, other_tree, users
):
    """The attack as found: WishAdmin's raw-id box."""
    stranger = _outside_resident(other_tree)
    client.force_login(users["community_staff"])
    url = reverse("admin:partyorg_wish_add")
    for response in (
        client.get(url, {"resident": stranger.pk}),
        client.post(url, {"resident": stranger.pk, "title": "助老", "region": ""}),
    ):
        assert response.status_code == 200
        page = response.content.decode()
        assert stranger.name not in page
        assert f"/resident/{stranger.pk}/change/" not in page
    assert str(OUTSIDE_YOUR_AREA) in _form_errors(response, "resident")


def test_region_inline_refuses_a_worker_from_another_district(
    client, tree, other_tree, users
):
    """The roster inline on a grid's page (an autocomplete in an inline)."""
    stranger = _outside_worker(other_tree)
    grid = tree["grids"][0]
    client.force_login(users["street_staff"])
    url = reverse("admin:grids_region_change", args=[grid.pk])
    prefix = "assignments"
    data = {
        "parent": grid.parent_id,
        "name": grid.name,
        "code": "",
        "is_active": "on",
        f"{prefix}-TOTAL_FORMS": "1",
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-0-worker": str(stranger.pk),
        f"{prefix}-0-role": "full_time",
        f"{prefix}-0-started_on": "2026-01-01",
    }
    response = client.post(url, data)
    assert response.status_code == 200
    assert stranger.name not in response.content.decode()
    assert not stranger.assignments.filter(grid=grid).exists()
    data[f"{prefix}-0-worker"] = "abc"
    assert client.post(url, data).status_code == 200
