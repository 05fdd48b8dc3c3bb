"""Every add, change and changelist (action) form of the partyorg and tickets
admin, posted with one hostile value at a time: no 500 (issue 9, finding 7).

The pages are read from the admin registry, so a model admin added later is
fuzzed without editing this file."""

import pytest
from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse

from grids.choices import UserRole
from tests.grids.factories import UserFactory
from tests.partyorg.factories import (
    PartyMemberFactory,
    RegistrationFactory,
    ServiceRecordFactory,
    WishFactory,
    make_party_tree,
)
from tests.security.fuzz import SWEEP_VALUES, fuzz_page
from tests.tickets.factories import walk_to
from tickets.choices import Stage

FUZZED_APPS = ("partyorg", "tickets")
MODEL_ADMINS = sorted(
    (
        (model._meta.app_label, model._meta.model_name)
        for model in admin.site._registry
        if model._meta.app_label in FUZZED_APPS
    ),
)


@pytest.fixture
def rows(lifecycle):
    """At least one row of every fuzzed model, in the street staff's area."""
    tree = lifecycle["tree"]
    party = make_party_tree(tree)
    member = PartyMemberFactory(organisation=party["branches"][0])
    registration = RegistrationFactory(member=member, community=tree["communities"][0])
    ServiceRecordFactory(registration=registration)
    WishFactory(region=tree["grids"][0])
    walk_to(Stage.ACCEPTED, **lifecycle)
    from tickets.services import work_calendar_prefill_year

    work_calendar_prefill_year(year=2031, actor=None)
    return lifecycle


@pytest.fixture
def staff_client(client, rows):
    user = rows["street_staff"]
    client.force_login(user)
    return client


def _pages(user, app_label, model_name):
    model = next(
        m
        for m in admin.site._registry
        if (m._meta.app_label, m._meta.model_name) == (app_label, model_name)
    )
    model_admin = admin.site._registry[model]
    request = RequestFactory().get("/")
    request.user = user
    base = f"admin:{app_label}_{model_name}"
    pages = [reverse(f"{base}_changelist")]
    if model_admin.has_add_permission(request):
        pages.append(reverse(f"{base}_add"))
    obj = model_admin.get_queryset(request).order_by("pk").first()
    if obj is not None:
        pages.append(reverse(f"{base}_change", args=[obj.pk]))
    return pages


@pytest.mark.parametrize(("app_label", "model_name"), MODEL_ADMINS)
def test_no_admin_form_answers_500(staff_client, rows, app_label, model_name):
    failures = []
    for url in _pages(rows["street_staff"], app_label, model_name):
        failures += fuzz_page(staff_client, url, values=SWEEP_VALUES)
    assert not failures, "\n".join(failures)


def test_a_superuser_fuzzing_the_party_organisation_form_gets_form_errors(client, tree):
    client.force_login(UserFactory(role="", region=None, is_superuser=True))
    make_party_tree(tree)
    failures = fuzz_page(client, reverse("admin:partyorg_partyorg_add"))
    assert not failures, "\n".join(failures)


def test_the_fuzz_covers_every_admin_of_both_apps():
    assert ("partyorg", "partyorg") in MODEL_ADMINS
    assert ("tickets", "workcalendaryear") in MODEL_ADMINS
    assert len(MODEL_ADMINS) >= 10


def test_community_staff_fuzzing_their_pages_get_no_500(client, rows):
    user = UserFactory(
        role=UserRole.COMMUNITY_STAFF, region=rows["tree"]["communities"][0]
    )
    client.force_login(user)
    failures = []
    for url in (
        reverse("admin:partyorg_partymember_add"),
        reverse("admin:partyorg_wish_add"),
    ):
        failures += fuzz_page(client, url)
    assert not failures, "\n".join(failures)
