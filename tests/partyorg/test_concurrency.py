"""Races on PostgreSQL: two or more threads, each with its own connection."""

import threading

import pytest
from django.db import connection

from grids.choices import UserRole
from grids.errors import DomainError
from partyorg import services
from partyorg.choices import OrgType
from partyorg.models import PartyOrg, Registration
from tests.grids.factories import UserFactory

from .factories import PartyMemberFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="SQLite serialises writers; the race needs PostgreSQL row locks",
    ),
]


def _race(target, args_list):
    barrier = threading.Barrier(len(args_list))
    outcomes = []

    def run(*args):
        try:
            barrier.wait()
            outcomes.append(("ok", target(*args)))
        except DomainError as exc:
            outcomes.append((exc.code, None))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=args) for args in args_list]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


def test_concurrent_registrations_of_one_member_leave_one(tree):
    staff = UserFactory(role=UserRole.COMMUNITY_STAFF, region=tree["communities"][0])
    member = PartyMemberFactory(
        organisation=None, is_in_service=True, employer="区财政局"
    )

    def register():
        return services.registration_create(
            actor=staff, member_id=member.pk, community=tree["communities"][0]
        )

    outcomes = _race(register, [(), (), ()])
    assert sorted(code for code, _ in outcomes) == [
        "already_registered",
        "already_registered",
        "ok",
    ]
    assert Registration.objects.filter(member=member, is_active=True).count() == 1


def test_concurrent_inserts_keep_the_party_tree_consistent(tree):
    staff = UserFactory(role=UserRole.STREET_STAFF, region=tree["street"])
    wc = services.party_org_create(
        actor=staff,
        name="党工委",
        org_type=OrgType.WORKING_COMMITTEE,
        region=tree["street"],
    )

    def add(community):
        return services.party_org_create(
            actor=staff,
            name=f"{community.name}党委",
            org_type=OrgType.COMMUNITY_COMMITTEE,
            region=community,
            parent=wc,
        )

    outcomes = _race(add, [(c,) for c in tree["communities"]] * 2)
    assert sorted(code for code, _ in outcomes) == [
        "duplicate_name",
        "duplicate_name",
        "ok",
        "ok",
    ]
    # The nested-set columns are exactly what a rebuild would produce.
    before = list(
        PartyOrg.objects.order_by("pk").values_list("pk", "lft", "rght", "depth")
    )
    PartyOrg.objects.rebuild()
    after = list(
        PartyOrg.objects.order_by("pk").values_list("pk", "lft", "rght", "depth")
    )
    assert before == after
    wc.refresh_from_db()
    assert wc.get_descendant_count() == 2
