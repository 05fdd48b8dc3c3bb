import datetime as dt
import threading

import pytest
from django.db import connection
from django.utils import timezone

from grids.choices import UserRole
from grids.errors import Conflict, DomainError, NotAllowed, OutOfScope
from grids.models import Notification
from partyorg import selectors, services
from partyorg.choices import WishAction, WishState
from partyorg.models import Wish, WishEvent
from partyorg.tasks import notify_stale_wishes
from tests.grids.factories import UserFactory

from .factories import (
    PartyMemberFactory,
    RegistrationFactory,
    WishFactory,
    make_party_tree,
    png_upload,
)


@pytest.fixture
def party(tree):
    return make_party_tree(tree)


@pytest.fixture
def member(party):
    """An active member of the first grid's branch (first community)."""
    return PartyMemberFactory(name="李党员", organisation=party["branches"][0])


@pytest.fixture
def wish(grid_worker, tree):
    return services.wish_post(
        actor=grid_worker,
        region=tree["grids"][0],
        title="买一台助听器",
        beneficiary="独居老人",
        estimated_value=300,
    )


def test_grid_worker_posts_a_wish_with_its_community(wish, tree, grid_worker):
    assert wish.state == WishState.POSTED
    assert wish.community == tree["communities"][0]
    assert not wish.is_budget_free
    event = wish.events.get()
    assert (event.action, event.from_state, event.to_state, event.actor) == (
        WishAction.POST,
        "",
        WishState.POSTED,
        grid_worker,
    )


def test_budget_free_wish(community_staff, tree):
    wish = services.wish_post(
        actor=community_staff,
        region=tree["grids"][1],
        title="陪老人聊天",
        beneficiary="空巢老人",
    )
    assert wish.is_budget_free


def test_posting_is_for_grid_workers_and_community_staff(
    street_staff, supervisor, tree
):
    for actor in (street_staff, supervisor):
        with pytest.raises(NotAllowed):
            services.wish_post(
                actor=actor, region=tree["grids"][0], title="x", beneficiary="y"
            )


def test_posting_outside_scope_is_refused(grid_worker, tree):
    with pytest.raises(OutOfScope):
        services.wish_post(
            actor=grid_worker, region=tree["grids"][1], title="x", beneficiary="y"
        )


def test_posting_on_a_street_is_refused(admin_user, tree):
    with pytest.raises(DomainError):
        services.wish_post(
            actor=admin_user, region=tree["street"], title="x", beneficiary="y"
        )


def test_wish_in_a_building_or_a_community_finds_its_community(
    community_staff, grid_worker, tree
):
    """The community comes from Region.ancestor_of_level."""
    from grids.choices import RegionLevel
    from tests.grids.factories import RegionFactory

    building = RegionFactory(
        name="3号楼", level=RegionLevel.BUILDING, parent=tree["grids"][0]
    )
    wish = services.wish_post(
        actor=grid_worker, region=building, title="换灯泡", beneficiary="楼道"
    )
    assert (wish.region, wish.community) == (building, tree["communities"][0])
    community = tree["communities"][0]
    community.refresh_from_db()
    wish = services.wish_post(
        actor=community_staff, region=community, title="义诊", beneficiary="老人"
    )
    assert wish.community == community


def test_role_rules_start_from_grids_is_active_user(monkeypatch, grid_worker):
    """partyorg keeps no copy of the "active account" rule: it uses grids'."""
    from grids import permissions as grids_permissions
    from partyorg import permissions

    assert permissions.can_post_wish(grid_worker)
    monkeypatch.setattr(grids_permissions, "is_active_user", lambda user: False)
    monkeypatch.setattr(permissions, "is_active_user", lambda user: False)
    assert not permissions.can_post_wish(grid_worker)
    assert not permissions.can_record_claim(grid_worker)
    grid_worker.is_active = False
    monkeypatch.undo()
    assert not permissions.can_post_wish(grid_worker)


def test_full_lifecycle_writes_one_event_per_step(
    wish, member, grid_worker, community_staff, django_capture_on_commit_callbacks
):
    services.wish_claim(actor=grid_worker, wish_id=wish.pk, member=member)
    with django_capture_on_commit_callbacks(execute=True):
        services.wish_fulfil(
            actor=grid_worker, wish_id=wish.pk, note="已送到", photo=png_upload()
        )
    services.wish_confirm(actor=community_staff, wish_id=wish.pk, note="老人满意")
    wish.refresh_from_db()
    assert wish.state == WishState.CONFIRMED
    assert wish.claimed_by == member
    assert wish.photo.name.startswith("wishes/")
    assert wish.closed_at is not None
    assert list(wish.events.values_list("action", flat=True)) == [
        WishAction.POST,
        WishAction.CLAIM,
        WishAction.FULFIL,
        WishAction.CONFIRM,
    ]
    # The community's staff were asked to confirm.
    assert Notification.objects.filter(recipient=community_staff).count() == 1


def test_release_puts_the_wish_back(wish, member, grid_worker):
    services.wish_claim(actor=grid_worker, wish_id=wish.pk, member=member)
    services.wish_release(actor=grid_worker, wish_id=wish.pk, note="出差")
    wish.refresh_from_db()
    assert (wish.state, wish.claimed_by, wish.claimed_at) == (
        WishState.POSTED,
        None,
        None,
    )


def test_reject_sends_fulfilment_back_to_the_member(
    wish, member, grid_worker, community_staff
):
    services.wish_claim(actor=grid_worker, wish_id=wish.pk, member=member)
    services.wish_fulfil(
        actor=grid_worker, wish_id=wish.pk, note="已送", photo=png_upload()
    )
    services.wish_reject(actor=community_staff, wish_id=wish.pk, note="型号不对")
    wish.refresh_from_db()
    assert (wish.state, wish.claimed_by) == (WishState.CLAIMED, member)


@pytest.mark.parametrize("start", [WishState.POSTED, WishState.CLAIMED])
def test_withdraw_and_cancel_from_open_states(
    tree, member, grid_worker, community_staff, start
):
    for close, actor in (
        (services.wish_withdraw, grid_worker),
        (services.wish_cancel, community_staff),
    ):
        wish = WishFactory(
            region=tree["grids"][0],
            state=start,
            claimed_by=member if start == WishState.CLAIMED else None,
        )
        close(actor=actor, wish_id=wish.pk, note="不需要了")
        wish.refresh_from_db()
        assert wish.state in {WishState.WITHDRAWN, WishState.CANCELLED}
        assert wish.closed_at is not None


# Every step against every state and actor: test_services_wish_transitions.py.


def test_grid_worker_may_not_confirm_or_cancel(wish, member, grid_worker):
    services.wish_claim(actor=grid_worker, wish_id=wish.pk, member=member)
    services.wish_fulfil(
        actor=grid_worker, wish_id=wish.pk, note="ok", photo=png_upload()
    )
    with pytest.raises(NotAllowed):
        services.wish_confirm(actor=grid_worker, wish_id=wish.pk)
    with pytest.raises(NotAllowed):
        services.wish_cancel(actor=grid_worker, wish_id=wish.pk, note="x")


def test_supervisor_may_not_claim(wish, member, supervisor):
    with pytest.raises(NotAllowed):
        services.wish_claim(actor=supervisor, wish_id=wish.pk, member=member)


def test_fulfil_needs_a_note_and_a_real_photo(wish, member, grid_worker):
    from django.core.files.uploadedfile import SimpleUploadedFile

    services.wish_claim(actor=grid_worker, wish_id=wish.pk, member=member)
    with pytest.raises(DomainError) as excinfo:
        services.wish_fulfil(actor=grid_worker, wish_id=wish.pk, note="ok", photo=None)
    assert excinfo.value.code == "no_photo"
    with pytest.raises(DomainError):
        services.wish_fulfil(
            actor=grid_worker, wish_id=wish.pk, note="", photo=png_upload()
        )
    fake = SimpleUploadedFile("x.jpg", b"not an image", content_type="image/jpeg")
    with pytest.raises(DomainError) as excinfo:
        services.wish_fulfil(actor=grid_worker, wish_id=wish.pk, note="ok", photo=fake)
    assert excinfo.value.code == "photo_type"
    wish.refresh_from_db()
    assert wish.state == WishState.CLAIMED


def test_member_of_another_community_may_not_claim(wish, party, grid_worker):
    elsewhere = PartyMemberFactory(organisation=party["committees"][1])
    with pytest.raises(NotAllowed) as excinfo:
        services.wish_claim(actor=grid_worker, wish_id=wish.pk, member=elsewhere)
    assert excinfo.value.code == "member_not_eligible"


def test_street_committee_member_may_claim(wish, party, grid_worker):
    cadre = PartyMemberFactory(organisation=party["working_committee"])
    services.wish_claim(actor=grid_worker, wish_id=wish.pk, member=cadre)


def test_inactive_member_may_not_claim(wish, party, grid_worker):
    gone = PartyMemberFactory(organisation=party["branches"][0], is_active=False)
    with pytest.raises(NotAllowed):
        services.wish_claim(actor=grid_worker, wish_id=wish.pk, member=gone)


def test_in_service_member_registered_here_may_claim(wish, tree, grid_worker):
    registration = RegistrationFactory(community=tree["communities"][0])
    services.wish_claim(actor=grid_worker, wish_id=wish.pk, member=registration.member)
    wish.refresh_from_db()
    assert wish.claimed_by == registration.member


def test_in_service_member_registered_elsewhere_may_not_claim(wish, tree, grid_worker):
    registration = RegistrationFactory(community=tree["communities"][1])
    with pytest.raises(NotAllowed):
        services.wish_claim(
            actor=grid_worker, wish_id=wish.pk, member=registration.member
        )


def test_member_account_claims_for_itself_only(wish, member, party, tree):
    account = UserFactory(role="", region=tree["communities"][0], is_staff=False)
    member.user = account
    member.save(update_fields=["user"])
    other = PartyMemberFactory(organisation=party["branches"][0])
    with pytest.raises(NotAllowed):
        services.wish_claim(actor=account, wish_id=wish.pk, member=other)
    services.wish_claim(actor=account, wish_id=wish.pk)  # member = itself
    wish.refresh_from_db()
    assert wish.claimed_by == member


def test_member_account_may_not_fulfil_someone_elses_claim(
    wish, member, party, tree, grid_worker
):
    other = PartyMemberFactory(organisation=party["branches"][0])
    account = UserFactory(role="", region=tree["communities"][0], is_staff=False)
    other.user = account
    other.save(update_fields=["user"])
    services.wish_claim(actor=grid_worker, wish_id=wish.pk, member=member)
    with pytest.raises(NotAllowed):
        services.wish_fulfil(
            actor=account, wish_id=wish.pk, note="ok", photo=png_upload()
        )


def test_claim_without_a_member_is_refused(wish, grid_worker):
    with pytest.raises(DomainError) as excinfo:
        services.wish_claim(actor=grid_worker, wish_id=wish.pk)
    assert excinfo.value.code == "no_member"


def test_second_claim_is_a_conflict(wish, member, party, grid_worker):
    services.wish_claim(actor=grid_worker, wish_id=wish.pk, member=member)
    rival = PartyMemberFactory(organisation=party["branches"][0])
    with pytest.raises(Conflict) as excinfo:
        services.wish_claim(actor=grid_worker, wish_id=wish.pk, member=rival)
    assert excinfo.value.code == "already_claimed"
    wish.refresh_from_db()
    assert wish.claimed_by == member


def test_actions_outside_scope_are_refused(tree, member, party):
    wish = WishFactory(region=tree["grids"][2])  # second community
    outsider = UserFactory(role=UserRole.GRID_WORKER, region=tree["grids"][0])
    with pytest.raises(OutOfScope):
        services.wish_claim(actor=outsider, wish_id=wish.pk, member=member)
    other_staff = UserFactory(
        role=UserRole.COMMUNITY_STAFF, region=tree["communities"][0]
    )
    with pytest.raises(OutOfScope):
        services.wish_cancel(actor=other_staff, wish_id=wish.pk, note="x")


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite serialises writers; the race needs PostgreSQL row locks",
)
def test_concurrent_claims_exactly_one_wins(tree):
    party = make_party_tree(tree)
    worker = UserFactory(role=UserRole.GRID_WORKER, region=tree["grids"][0])
    members = [PartyMemberFactory(organisation=party["branches"][0]) for _ in range(4)]
    wish = WishFactory(region=tree["grids"][0], posted_by=worker)
    barrier = threading.Barrier(len(members))
    outcomes = []

    def claim(member):
        try:
            barrier.wait()
            services.wish_claim(actor=worker, wish_id=wish.pk, member=member)
            outcomes.append(("won", member.pk))
        except Conflict as exc:
            outcomes.append((exc.code, member.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=claim, args=(m,)) for m in members]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [pk for outcome, pk in outcomes if outcome == "won"]
    assert len(winners) == 1
    assert sorted(o for o, _ in outcomes if o != "won") == ["already_claimed"] * 3
    wish.refresh_from_db()
    assert (wish.state, wish.claimed_by_id) == (WishState.CLAIMED, winners[0])
    assert WishEvent.objects.filter(wish=wish, action=WishAction.CLAIM).count() == 1


def test_stale_wishes_selector_uses_the_setting(tree, community_staff, settings):
    now = timezone.now()
    old = WishFactory(region=tree["grids"][0], posted_at=now - dt.timedelta(days=8))
    WishFactory(region=tree["grids"][0], posted_at=now - dt.timedelta(days=3))
    WishFactory(
        region=tree["grids"][0],
        posted_at=now - dt.timedelta(days=30),
        state=WishState.CANCELLED,
    )
    assert list(selectors.stale_wishes(actor=community_staff)) == [old]
    settings.PARTYORG_WISH_STALE_DAYS = 2
    assert selectors.stale_wishes(actor=community_staff).count() == 2


def test_stale_wishes_are_scoped(tree, community_staff):
    WishFactory(
        region=tree["grids"][2], posted_at=timezone.now() - dt.timedelta(days=20)
    )
    assert not selectors.stale_wishes(actor=community_staff).exists()


def test_stale_notice_task_runs_twice_and_notifies_once(tree, community_staff):
    other_staff = UserFactory(
        role=UserRole.COMMUNITY_STAFF, region=tree["communities"][1]
    )
    old = timezone.now() - dt.timedelta(days=10)
    WishFactory(region=tree["grids"][0], posted_at=old)
    WishFactory(region=tree["grids"][1], posted_at=old)
    WishFactory(region=tree["grids"][0])  # fresh: no notice
    assert notify_stale_wishes.delay().get() == 2
    assert notify_stale_wishes.delay().get() == 2
    assert Notification.objects.filter(recipient=community_staff).count() == 2
    assert not Notification.objects.filter(recipient=other_staff).exists()
    assert Wish.objects.filter(state=WishState.POSTED).count() == 3


def test_stale_notice_job_takes_the_same_queries_for_few_and_many(
    tree, community_staff
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from partyorg.services.wishes import wishes_notify_stale

    old = timezone.now() - dt.timedelta(days=10)
    counts = []
    for batch in (2, 12):
        for _ in range(batch):
            WishFactory(region=tree["grids"][0], posted_at=old)
        with CaptureQueriesContext(connection) as queries:
            wishes_notify_stale()
        counts.append(len(queries))
    assert counts[0] == counts[1]
    assert Notification.objects.filter(recipient=community_staff).count() == 14


def test_claimable_member_list_agrees_with_the_claim_rule(
    tree, party, street_staff, django_assert_max_num_queries
):
    community = tree["communities"][0]
    candidates = [
        PartyMemberFactory(organisation=party["branches"][0]),
        PartyMemberFactory(organisation=party["working_committee"]),
        PartyMemberFactory(organisation=party["branches"][1], is_active=False),
        RegistrationFactory(community=community).member,
        RegistrationFactory(community=tree["communities"][1]).member,
    ]
    with django_assert_max_num_queries(1):
        listed = set(
            selectors.members_who_may_claim(actor=street_staff, community=community)
        )
    expected = {
        m
        for m in candidates
        if services.member_may_claim(member=m, community=community)
    }
    assert listed == expected
    assert len(expected) == 3


def test_wish_for_a_resident_must_be_posted_where_they_live(grid_worker, tree):
    from tests.grids.factories import ResidentFactory

    here = ResidentFactory(household__region=tree["grids"][0])
    elsewhere = ResidentFactory(household__region=tree["grids"][1])
    wish = services.wish_post(
        actor=grid_worker,
        region=tree["grids"][0],
        title="理发上门",
        beneficiary="行动不便老人",
        resident=here,
    )
    assert wish.resident == here
    with pytest.raises(DomainError) as excinfo:
        services.wish_post(
            actor=grid_worker,
            region=tree["grids"][0],
            title="理发上门",
            beneficiary="行动不便老人",
            resident=elsewhere,
        )
    assert excinfo.value.code == "resident_elsewhere"


def test_member_account_may_release_only_its_own_claim(
    wish, member, party, tree, grid_worker
):
    other = PartyMemberFactory(organisation=party["branches"][0])
    account = UserFactory(role="", region=tree["communities"][0], is_staff=False)
    other.user = account
    other.save(update_fields=["user"])
    services.wish_claim(actor=grid_worker, wish_id=wish.pk, member=member)
    with pytest.raises(NotAllowed):
        services.wish_release(actor=account, wish_id=wish.pk)
    services.wish_release(actor=grid_worker, wish_id=wish.pk)
    services.wish_claim(actor=account, wish_id=wish.pk)
    services.wish_release(actor=account, wish_id=wish.pk)
    wish.refresh_from_db()
    assert wish.state == WishState.POSTED
