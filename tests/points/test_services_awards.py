import datetime as dt

import pytest
from django.utils import timezone

from grids.choices import UserRole
from grids.errors import Conflict, DomainError, NotAllowed, OutOfScope
from grids.models import Notification
from points import services
from points.choices import AwardStatus, CapPeriod, EntryKind
from points.models import Award, LedgerEntry
from points.selectors import account_of, period_bounds
from tests.grids.factories import UserFactory
from tests.points.factories import AwardFactory, RuleItemFactory, resident_in

TODAY = dt.date(2026, 5, 20)


def propose(actor, resident, item, *, key="k1", day=None, note=""):
    return services.award_propose(
        actor=actor,
        resident_id=resident.pk,
        rule_item_id=item.pk,
        awarded_on=day or timezone.localdate(),
        idempotency_key=key,
        note=note,
    )


def test_grid_worker_proposes_and_staff_approves(
    grid_worker,
    community_staff,
    resident,
    rule_item,
    django_capture_on_commit_callbacks,
):
    award, created = propose(grid_worker, resident, rule_item, note="帮邻居")
    assert created and award.status == AwardStatus.PROPOSED
    assert award.points == 10
    assert account_of(resident) is None  # nothing booked yet

    with django_capture_on_commit_callbacks(execute=True):
        entry = services.award_approve(actor=community_staff, award_id=award.pk)

    award.refresh_from_db()
    assert award.status == AwardStatus.APPROVED
    assert award.decided_by == community_staff
    assert entry.kind == EntryKind.AWARD and entry.amount == 10
    assert account_of(resident).balance == 10
    assert Notification.objects.filter(recipient=grid_worker).count() == 1


def test_rejected_award_books_nothing(
    grid_worker, community_staff, resident, rule_item
):
    award, _ = propose(grid_worker, resident, rule_item)
    services.award_reject(actor=community_staff, award_id=award.pk, reason="重复申报")
    award.refresh_from_db()
    assert award.status == AwardStatus.REJECTED
    assert award.decision_note == "重复申报"
    assert not LedgerEntry.objects.exists()


def test_reject_needs_a_reason(grid_worker, community_staff, resident, rule_item):
    award, _ = propose(grid_worker, resident, rule_item)
    with pytest.raises(DomainError):
        services.award_reject(actor=community_staff, award_id=award.pk, reason=" ")


@pytest.mark.parametrize("first", ["approve", "reject"])
@pytest.mark.parametrize("second", ["approve", "reject"])
def test_a_decided_award_cannot_be_decided_again(
    grid_worker, community_staff, resident, rule_item, first, second
):
    award, _ = propose(grid_worker, resident, rule_item)
    decide = {
        "approve": lambda: services.award_approve(
            actor=community_staff, award_id=award.pk
        ),
        "reject": lambda: services.award_reject(
            actor=community_staff, award_id=award.pk, reason="不符合"
        ),
    }
    decide[first]()
    with pytest.raises(Conflict) as exc:
        decide[second]()
    assert exc.value.code == "wrong_status"
    assert LedgerEntry.objects.count() == (1 if first == "approve" else 0)


@pytest.mark.parametrize("role", [UserRole.GRID_WORKER, UserRole.SUPERVISOR])
def test_grid_workers_and_supervisors_cannot_approve(
    tree, grid_worker, resident, rule_item, role
):
    award, _ = propose(grid_worker, resident, rule_item)
    actor = UserFactory(role=role, region=tree["district"])
    with pytest.raises(NotAllowed):
        services.award_approve(actor=actor, award_id=award.pk)
    award.refresh_from_db()
    assert award.status == AwardStatus.PROPOSED


def test_supervisor_cannot_propose(supervisor, resident, rule_item):
    with pytest.raises(NotAllowed):
        propose(supervisor, resident, rule_item)


def test_community_cannot_approve_another_communitys_award(
    tree, street_staff, community_staff, outside_resident, rule_item
):
    award, _ = propose(street_staff, outside_resident, rule_item)
    with pytest.raises(OutOfScope):
        services.award_approve(actor=community_staff, award_id=award.pk)
    with pytest.raises(OutOfScope):
        services.award_reject(actor=community_staff, award_id=award.pk, reason="x")
    award.refresh_from_db()
    assert award.status == AwardStatus.PROPOSED
    # The street above both communities may approve it.
    services.award_approve(actor=street_staff, award_id=award.pk)
    assert account_of(outside_resident).balance == 10


def test_grid_worker_cannot_propose_outside_their_grid(grid_worker, tree, rule_item):
    neighbour = resident_in(tree["grids"][1])
    with pytest.raises(OutOfScope):
        propose(grid_worker, neighbour, rule_item)
    assert not Award.objects.exists()


def test_another_district_is_out_of_scope(
    other_tree, community_staff, street_staff, rule_item
):
    stranger = resident_in(other_tree["grids"][0])
    award = AwardFactory(resident=stranger, rule_item=rule_item)
    with pytest.raises(OutOfScope):
        services.award_approve(actor=street_staff, award_id=award.pk)


def test_same_key_is_one_proposal(grid_worker, resident, rule_item):
    first, created_first = propose(grid_worker, resident, rule_item, key="abc")
    again, created_again = propose(grid_worker, resident, rule_item, key="abc")
    assert created_first and not created_again
    assert again.pk == first.pk
    assert Award.objects.count() == 1


def test_same_key_with_different_content_is_refused(grid_worker, resident, rule_item):
    propose(grid_worker, resident, rule_item, key="abc")
    with pytest.raises(Conflict) as exc:
        propose(grid_worker, resident, rule_item, key="abc", note="不同")
    assert exc.value.code == "idempotency_key_reused"
    assert Award.objects.count() == 1


def test_same_key_from_another_proposer_is_another_proposal(
    grid_worker, community_staff, resident, rule_item
):
    propose(grid_worker, resident, rule_item, key="abc")
    propose(community_staff, resident, rule_item, key="abc")
    assert Award.objects.count() == 2


def test_proposal_needs_a_key(grid_worker, resident, rule_item):
    with pytest.raises(DomainError):
        propose(grid_worker, resident, rule_item, key="")


def test_inactive_or_future_rule_is_refused(grid_worker, resident):
    today = timezone.localdate()
    ended = RuleItemFactory(active_until=today - dt.timedelta(days=1))
    with pytest.raises(DomainError) as exc:
        propose(grid_worker, resident, ended)
    assert exc.value.code == "rule_inactive"
    switched_off = RuleItemFactory(is_active=False)
    with pytest.raises(DomainError):
        propose(grid_worker, resident, switched_off, key="k2")
    item = RuleItemFactory()
    with pytest.raises(DomainError) as exc:
        propose(grid_worker, resident, item, key="k3", day=today + dt.timedelta(1))
    assert exc.value.code == "future_date"


def test_rule_switched_off_before_approval_is_refused(
    grid_worker, community_staff, resident, rule_item
):
    award, _ = propose(grid_worker, resident, rule_item)
    rule_item.is_active = False
    rule_item.save()
    with pytest.raises(Conflict):
        services.award_approve(actor=community_staff, award_id=award.pk)


def test_points_are_those_of_the_rule_when_proposed(
    grid_worker, community_staff, resident, rule_item
):
    award, _ = propose(grid_worker, resident, rule_item)
    rule_item.points = 99
    rule_item.save()
    entry = services.award_approve(actor=community_staff, award_id=award.pk)
    assert entry.amount == 10


# --- caps --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("period", "day", "start", "end"),
    [
        (CapPeriod.DAY, TODAY, TODAY, TODAY),
        (CapPeriod.WEEK, TODAY, dt.date(2026, 5, 18), dt.date(2026, 5, 24)),
        (CapPeriod.MONTH, TODAY, dt.date(2026, 5, 1), dt.date(2026, 5, 31)),
        (
            CapPeriod.MONTH,
            dt.date(2028, 2, 10),
            dt.date(2028, 2, 1),
            dt.date(2028, 2, 29),
        ),
        (CapPeriod.YEAR, TODAY, dt.date(2026, 1, 1), dt.date(2026, 12, 31)),
    ],
)
def test_period_bounds(period, day, start, end):
    assert period_bounds(day, period) == (start, end)


def test_cap_is_enforced_at_approval(grid_worker, community_staff, resident):
    item = RuleItemFactory(points=5, cap_count=3, cap_period=CapPeriod.MONTH)
    day = timezone.localdate().replace(day=1)
    awards = [
        propose(grid_worker, resident, item, key=f"c{i}", day=day)[0] for i in range(4)
    ]
    for award in awards[:3]:
        services.award_approve(actor=community_staff, award_id=award.pk)
    with pytest.raises(Conflict) as exc:
        services.award_approve(actor=community_staff, award_id=awards[3].pk)
    assert exc.value.code == "cap_reached"
    assert exc.value.extra == {"used": 3, "cap": 3}
    awards[3].refresh_from_db()
    assert awards[3].status == AwardStatus.PROPOSED
    assert account_of(resident).balance == 15


def test_cap_counts_per_resident_and_per_period(
    tree, grid_worker, community_staff, resident
):
    item = RuleItemFactory(points=5, cap_count=1, cap_period=CapPeriod.MONTH)
    this_month = timezone.localdate().replace(day=1)
    last_month = this_month - dt.timedelta(days=1)
    neighbour = resident_in(tree["grids"][0])
    keys = iter(range(100))
    for who, day in [
        (resident, this_month),
        (resident, last_month),
        (neighbour, this_month),
    ]:
        award, _ = propose(grid_worker, who, item, key=f"p{next(keys)}", day=day)
        services.award_approve(actor=community_staff, award_id=award.pk)
    assert account_of(resident).balance == 10
    assert account_of(neighbour).balance == 5


def test_rejected_awards_do_not_count_towards_the_cap(
    grid_worker, community_staff, resident
):
    item = RuleItemFactory(points=5, cap_count=1, cap_period=CapPeriod.DAY)
    first, _ = propose(grid_worker, resident, item, key="a")
    second, _ = propose(grid_worker, resident, item, key="b")
    services.award_reject(actor=community_staff, award_id=first.pk, reason="拍错")
    services.award_approve(actor=community_staff, award_id=second.pk)
    assert account_of(resident).balance == 5


def test_bulk_approve_reports_refusals(grid_worker, community_staff, resident):
    item = RuleItemFactory(points=5, cap_count=2, cap_period=CapPeriod.DAY)
    ids = [propose(grid_worker, resident, item, key=f"b{i}")[0].pk for i in range(3)]
    approved, refused = services.award_bulk_approve(
        actor=community_staff, award_ids=ids
    )
    assert approved == ids[:2]
    assert list(refused) == [ids[2]]
    assert account_of(resident).balance == 10


# --- pooling per household ---------------------------------------------------


def test_pooled_community_books_on_the_household_account(
    tree, grid_worker, community_staff, resident
):
    services.policy_set(
        actor=community_staff,
        community=tree["communities"][0],
        pool_by_household=True,
        expire_at_year_end=False,
    )
    spouse = resident_in(tree["grids"][0])
    spouse.household = resident.household
    spouse.save()
    for i, who in enumerate([resident, spouse]):
        award, _ = propose(grid_worker, who, RuleItemFactory(points=7), key=f"h{i}")
        services.award_approve(actor=community_staff, award_id=award.pk)
    account = account_of(resident)
    assert account.is_pooled and account == account_of(spouse)
    assert account.balance == 14


def test_policy_of_another_community_is_out_of_scope(tree, community_staff):
    with pytest.raises(OutOfScope):
        services.policy_set(
            actor=community_staff,
            community=tree["communities"][1],
            pool_by_household=True,
            expire_at_year_end=True,
        )


# --- photos ------------------------------------------------------------------


def _png() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(out, format="PNG")
    return out.getvalue()


def test_proposal_keeps_a_real_photo(
    grid_worker, resident, rule_item, settings, tmp_path
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    award, _ = services.award_propose(
        actor=grid_worker,
        resident_id=resident.pk,
        rule_item_id=rule_item.pk,
        awarded_on=timezone.localdate(),
        idempotency_key="photo",
        photo=SimpleUploadedFile("deed.png", _png(), content_type="image/png"),
    )
    assert award.photo.name.startswith("points/awards/")


def test_proposal_refuses_a_file_that_is_not_a_photo(grid_worker, resident, rule_item):
    from django.core.files.uploadedfile import SimpleUploadedFile

    with pytest.raises(DomainError) as exc:
        services.award_propose(
            actor=grid_worker,
            resident_id=resident.pk,
            rule_item_id=rule_item.pk,
            awarded_on=timezone.localdate(),
            idempotency_key="photo",
            photo=SimpleUploadedFile("deed.jpg", b"not an image", "image/jpeg"),
        )
    assert exc.value.code == "photo_type"
    assert not Award.objects.exists()
