import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone, translation

from grids.choices import UserRole
from grids.errors import Conflict, DomainError, NotAllowed, OutOfScope
from partyorg import selectors, services
from partyorg.models import PartyMember, Registration, ServiceRecord
from tests.grids.factories import GridAssignmentFactory, UserFactory

from .factories import (
    PartyMemberFactory,
    PartyOrgFactory,
    RegistrationFactory,
    ServiceRecordFactory,
    make_party_tree,
)


@pytest.fixture
def party(tree):
    return make_party_tree(tree)


def test_community_staff_adds_a_member_with_masked_phone(community_staff, party):
    member = services.party_member_create(
        actor=community_staff,
        name="王芳",
        phone="138 1234 5678",
        organisation=party["branches"][0],
        is_building_head=True,
    )
    assert member.phone == "13812345678"
    assert member.masked_phone == "138****5678"
    assert member.masked_name == "王*"


def test_member_outside_scope_is_refused(community_staff, party):
    with pytest.raises(OutOfScope):
        services.party_member_create(
            actor=community_staff,
            name="王芳",
            phone="13812345678",
            organisation=party["committees"][1],
        )


def test_grid_worker_may_not_add_members(grid_worker, party):
    with pytest.raises(NotAllowed):
        services.party_member_create(
            actor=grid_worker,
            name="王芳",
            phone="13812345678",
            organisation=party["branches"][0],
        )


def test_duplicate_phone_is_refused(community_staff, party):
    kwargs = {
        "actor": community_staff,
        "name": "王芳",
        "phone": "13812345678",
        "organisation": party["branches"][0],
    }
    services.party_member_create(**kwargs)
    with pytest.raises(Conflict) as excinfo:
        services.party_member_create(**{**kwargs, "name": "王芳二"})
    assert excinfo.value.code == "duplicate_member"
    assert excinfo.value.message == translation.gettext(
        "Another party member already has this phone number."
    )
    assert excinfo.value.extra == {"fields": ["phone"]}
    assert PartyMember.objects.filter(phone="13812345678").count() == 1


def test_changing_to_a_taken_phone_is_a_conflict(community_staff, party):
    PartyMemberFactory(organisation=party["branches"][0], phone="13812345678")
    other = PartyMemberFactory(organisation=party["branches"][0], phone="13900000000")
    with pytest.raises(Conflict) as excinfo:
        services.party_member_update(
            actor=community_staff, member_id=other.pk, phone="138 1234 5678"
        )
    assert excinfo.value.code == "duplicate_member"
    assert "phone" in excinfo.value.extra["fields"]
    other.refresh_from_db()
    assert other.phone == "13900000000"


def test_linking_a_roster_person_twice_is_a_conflict(community_staff, tree, party):
    worker = GridAssignmentFactory(grid=tree["grids"][0]).worker
    PartyMemberFactory(organisation=party["branches"][0], grid_worker=worker)
    other = PartyMemberFactory(organisation=party["branches"][0])
    with pytest.raises(Conflict) as excinfo:
        services.party_member_update(
            actor=community_staff, member_id=other.pk, grid_worker=worker
        )
    assert excinfo.value.message == translation.gettext(
        "This grid worker is already linked to another party member."
    )


def test_an_invalid_phone_stays_a_plain_domain_error(community_staff, party):
    with pytest.raises(DomainError) as excinfo:
        services.party_member_create(
            actor=community_staff,
            name="王芳",
            phone="12345",
            organisation=party["branches"][0],
        )
    assert not isinstance(excinfo.value, Conflict)
    assert excinfo.value.code == "invalid"


def test_in_service_member_without_branch_is_registered_at_once(community_staff, tree):
    member = services.party_member_create(
        actor=community_staff,
        name="赵在职",
        phone="13900001111",
        is_in_service=True,
        employer="区教育局",
        community=tree["communities"][0],
    )
    registration = member.registrations.get()
    assert registration.community == tree["communities"][0]
    assert registration.is_active
    assert list(selectors.member_list(actor=community_staff)) == [member]


def test_member_needs_an_organisation_or_a_community(community_staff):
    with pytest.raises(DomainError):
        services.party_member_create(
            actor=community_staff, name="无", phone="13900001111"
        )


def test_in_service_member_needs_an_employer(community_staff, tree):
    with pytest.raises(DomainError):
        services.party_member_create(
            actor=community_staff,
            name="赵",
            phone="13900001111",
            is_in_service=True,
            community=tree["communities"][0],
        )
    assert not PartyMember.objects.exists()


def test_member_visibility_follows_organisation_and_registration(tree, party):
    staff_one = UserFactory(
        role=UserRole.COMMUNITY_STAFF, region=tree["communities"][0]
    )
    staff_two = UserFactory(
        role=UserRole.COMMUNITY_STAFF, region=tree["communities"][1]
    )
    resident_member = PartyMemberFactory(organisation=party["branches"][0])
    registered = RegistrationFactory(community=tree["communities"][1]).member
    assert set(selectors.member_list(actor=staff_one)) == {resident_member}
    assert set(selectors.member_list(actor=staff_two)) == {registered}


def test_update_member_fields(community_staff, party):
    member = PartyMemberFactory(organisation=party["branches"][0])
    services.party_member_update(
        actor=community_staff, member_id=member.pk, is_unit_head=True, name=" 新名 "
    )
    member.refresh_from_db()
    assert (member.is_unit_head, member.name) == (True, "新名")


def test_update_member_outside_scope_is_refused(community_staff, party):
    member = PartyMemberFactory(organisation=party["committees"][1])
    with pytest.raises(OutOfScope):
        services.party_member_update(
            actor=community_staff, member_id=member.pk, name="改"
        )


# --- 双报到 --------------------------------------------------------------------


@pytest.fixture
def in_service(community_staff, tree):
    return PartyMemberFactory(
        organisation=None, is_in_service=True, employer="市税务局"
    )


def test_registration_only_for_in_service_members(community_staff, tree, party):
    retired = PartyMemberFactory(organisation=party["branches"][0])
    with pytest.raises(DomainError) as excinfo:
        services.registration_create(
            actor=community_staff,
            member_id=retired.pk,
            community=tree["communities"][0],
        )
    assert excinfo.value.code == "not_in_service"


def test_registration_at_a_grid_is_refused(admin_user, tree, in_service):
    with pytest.raises(DomainError) as excinfo:
        services.registration_create(
            actor=admin_user, member_id=in_service.pk, community=tree["grids"][0]
        )
    assert excinfo.value.code == "not_a_community"


def test_one_active_registration_per_community(community_staff, tree, in_service):
    services.registration_create(
        actor=community_staff, member_id=in_service.pk, community=tree["communities"][0]
    )
    with pytest.raises(Conflict):
        services.registration_create(
            actor=community_staff,
            member_id=in_service.pk,
            community=tree["communities"][0],
        )


def test_ended_registration_allows_a_new_one_and_stops_logging(
    community_staff, tree, in_service
):
    today = timezone.localdate()
    first = services.registration_create(
        actor=community_staff,
        member_id=in_service.pk,
        community=tree["communities"][0],
        registered_on=today - dt.timedelta(days=30),
    )
    services.registration_end(actor=community_staff, registration_id=first.pk)
    with pytest.raises(Conflict):
        services.registration_end(actor=community_staff, registration_id=first.pk)
    with pytest.raises(Conflict):
        services.service_record_log(
            actor=community_staff,
            registration_id=first.pk,
            task="巡逻",
            hours=1,
            served_on=today,
        )
    services.registration_create(
        actor=community_staff, member_id=in_service.pk, community=tree["communities"][0]
    )
    assert Registration.objects.filter(member=in_service).count() == 2


def test_registration_outside_scope_is_refused(community_staff, tree, in_service):
    with pytest.raises(OutOfScope):
        services.registration_create(
            actor=community_staff,
            member_id=in_service.pk,
            community=tree["communities"][1],
        )


def test_registering_another_districts_member_is_refused(
    community_staff, tree, other_tree
):
    """A clerk may not pull a member of another area into their community: the
    member would become visible and editable there."""
    other_org = PartyOrgFactory(region=other_tree["street"])
    foreign = PartyMemberFactory(
        organisation=other_org, is_in_service=True, employer="外区单位"
    )
    with pytest.raises(OutOfScope):
        services.registration_create(
            actor=community_staff,
            member_id=foreign.pk,
            community=tree["communities"][0],
        )
    assert not Registration.objects.filter(member=foreign).exists()
    assert not PartyMember.objects.visible_to(community_staff).filter(pk=foreign.pk)
    with pytest.raises(OutOfScope):
        services.party_member_update(
            actor=community_staff, member_id=foreign.pk, name="改名"
        )


def test_registering_a_member_registered_elsewhere_is_refused(
    community_staff, tree, other_tree
):
    """An in-service member without a branch here who is registered in another
    district belongs to that community until it ends the registration."""
    elsewhere = RegistrationFactory(community=other_tree["communities"][0])
    with pytest.raises(OutOfScope):
        services.registration_create(
            actor=community_staff,
            member_id=elsewhere.member_id,
            community=tree["communities"][0],
        )
    assert Registration.objects.filter(member=elsewhere.member).count() == 1
    # Once the old community signs them off, the new one may register them.
    elsewhere.is_active = False
    elsewhere.ended_on = timezone.localdate()
    elsewhere.save(update_fields=["is_active", "ended_on"])
    services.registration_create(
        actor=community_staff,
        member_id=elsewhere.member_id,
        community=tree["communities"][0],
    )


def test_registering_a_neighbouring_communitys_member_is_refused(
    community_staff, tree, party
):
    neighbour_org = party["committees"][1]  # communities[1], not the clerk's
    member = PartyMemberFactory(
        organisation=neighbour_org, is_in_service=True, employer="区教育局"
    )
    with pytest.raises(OutOfScope):
        services.registration_create(
            actor=community_staff,
            member_id=member.pk,
            community=tree["communities"][0],
        )
    assert not Registration.objects.filter(member=member).exists()


def test_service_log_rules(community_staff, tree):
    registration = RegistrationFactory(community=tree["communities"][0])
    today = timezone.localdate()
    record = services.service_record_log(
        actor=community_staff,
        registration_id=registration.pk,
        task="政策宣传",
        hours="2.5",
        served_on=today,
        note="发放传单",
    )
    assert record.hours == Decimal("2.5")
    for bad_hours in (0, -1, "abc", 25):
        with pytest.raises(DomainError) as excinfo:
            services.service_record_log(
                actor=community_staff,
                registration_id=registration.pk,
                task="x",
                hours=bad_hours,
                served_on=today,
            )
        assert excinfo.value.code == "bad_hours"
    with pytest.raises(DomainError):
        services.service_record_log(
            actor=community_staff,
            registration_id=registration.pk,
            task="x",
            hours=1,
            served_on=today + dt.timedelta(days=1),
        )
    with pytest.raises(DomainError):
        services.service_record_log(
            actor=community_staff,
            registration_id=registration.pk,
            task="x",
            hours=1,
            served_on=registration.registered_on - dt.timedelta(days=1),
        )
    assert ServiceRecord.objects.count() == 1


def test_service_log_outside_scope_is_refused(community_staff, tree):
    registration = RegistrationFactory(community=tree["communities"][1])
    with pytest.raises(OutOfScope):
        services.service_record_log(
            actor=community_staff,
            registration_id=registration.pk,
            task="x",
            hours=1,
            served_on=timezone.localdate(),
        )


def test_yearly_totals_per_member_and_community(
    tree, street_staff, community_staff, django_assert_max_num_queries
):
    one, two = tree["communities"]
    a_one = RegistrationFactory(community=one)
    b_one = RegistrationFactory(community=one)
    a_two = RegistrationFactory(member=a_one.member, community=two)
    year = 2025
    for registration, hours, day in [
        (a_one, "2", dt.date(year, 3, 1)),
        (a_one, "1.5", dt.date(year, 12, 31)),
        (b_one, "4", dt.date(year, 6, 1)),
        (a_two, "3", dt.date(year, 1, 1)),
        (a_one, "9", dt.date(year - 1, 12, 31)),  # other year
        (a_one, "9", dt.date(year + 1, 1, 1)),  # other year
    ]:
        ServiceRecordFactory(registration=registration, hours=hours, served_on=day)

    with django_assert_max_num_queries(1):
        by_member = {
            r["registration__member_id"]: (r["hours"], r["services"])
            for r in selectors.service_totals_by_member(actor=street_staff, year=year)
        }
    assert by_member == {
        a_one.member_id: (Decimal("6.5"), 3),
        b_one.member_id: (Decimal("4"), 1),
    }
    with django_assert_max_num_queries(1):
        by_community = {
            r["registration__community_id"]: (r["hours"], r["services"], r["members"])
            for r in selectors.service_totals_by_community(
                actor=street_staff, year=year
            )
        }
    assert by_community == {
        one.pk: (Decimal("7.5"), 3, 2),
        two.pk: (Decimal("3"), 1, 1),
    }
    # Community staff see their own community's services only.
    scoped = selectors.service_totals_by_member(actor=community_staff, year=year)
    assert {r["registration__member_id"]: r["hours"] for r in scoped} == {
        a_one.member_id: Decimal("3.5"),
        b_one.member_id: Decimal("4"),
    }


def test_totals_for_a_region_outside_scope_are_refused(community_staff, tree):
    with pytest.raises(OutOfScope):
        selectors.service_totals_by_member(
            actor=community_staff, year=2025, region=tree["communities"][1]
        )


def test_linking_a_grid_worker_outside_scope_is_refused(community_staff, tree, party):
    assignment = GridAssignmentFactory(grid=tree["grids"][3])
    with pytest.raises(OutOfScope):
        services.party_member_create(
            actor=community_staff,
            name="网格长",
            phone="13911112222",
            organisation=party["branches"][0],
            grid_worker=assignment.worker,
        )


def test_grid_worker_may_not_log_services(grid_worker, tree):
    registration = RegistrationFactory(community=tree["communities"][0])
    with pytest.raises(NotAllowed):
        services.service_record_log(
            actor=grid_worker,
            registration_id=registration.pk,
            task="x",
            hours=1,
            served_on=timezone.localdate(),
        )
