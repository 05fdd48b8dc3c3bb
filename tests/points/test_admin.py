import io

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from points import services
from points.choices import AwardStatus, EntryKind, RedemptionStatus
from points.models import Award, Prize, Redemption
from points.selectors import account_of
from tests.points.factories import (
    AwardFactory,
    PrizeFactory,
    resident_in,
)


@pytest.fixture
def staff_client(client, community_staff):
    client.force_login(community_staff)
    client.user = community_staff
    return client


@pytest.mark.parametrize(
    "model",
    [
        "rulecategory",
        "ruleitem",
        "communitypointspolicy",
        "award",
        "prize",
        "redemption",
        "pointsaccount",
        "ledgerentry",
    ],
)
def test_admin_lists_render(staff_client, resident, credit, model):
    credit(resident, 10)
    response = staff_client.get(reverse(f"admin:points_{model}_changelist"))
    assert response.status_code == 200


def test_approvals_queue_lists_only_own_communitys_proposals(
    staff_client, resident, outside_resident, rule_item
):
    mine = AwardFactory(resident=resident, rule_item=rule_item)
    AwardFactory(resident=outside_resident, rule_item=rule_item)
    AwardFactory(resident=resident, rule_item=rule_item, status=AwardStatus.REJECTED)
    response = staff_client.get(reverse("admin:points_award_changelist"))
    assert list(response.context["cl"].result_list) == [mine]


def test_bulk_approve_from_the_queue(
    staff_client, resident, outside_resident, rule_item
):
    mine = [AwardFactory(resident=resident, rule_item=rule_item) for _ in range(3)]
    theirs = AwardFactory(resident=outside_resident, rule_item=rule_item)
    response = staff_client.post(
        reverse("admin:points_award_changelist"),
        {
            "action": "approve_selected",
            "_selected_action": [a.pk for a in mine] + [theirs.pk],
        },
    )
    assert response.status_code == 302
    assert set(Award.objects.filter(status=AwardStatus.APPROVED)) == set(mine)
    theirs.refresh_from_db()
    assert theirs.status == AwardStatus.PROPOSED  # outside the queryset: untouched
    assert account_of(resident).balance == 30


def test_reject_from_the_queue_asks_for_a_reason(staff_client, resident, rule_item):
    award = AwardFactory(resident=resident, rule_item=rule_item)
    url = reverse("admin:points_award_changelist")
    form = staff_client.post(
        url, {"action": "reject_selected", "_selected_action": [award.pk]}
    )
    assert form.status_code == 200 and "reason" in form.context["form"].fields
    done = staff_client.post(
        url,
        {
            "action": "reject_selected",
            "_selected_action": [award.pk],
            "confirm": "yes",
            "reason": "照片不清",
        },
    )
    assert done.status_code == 302
    award.refresh_from_db()
    assert (award.status, award.decision_note) == (AwardStatus.REJECTED, "照片不清")


def test_staff_proposes_in_the_admin(
    staff_client, community_staff, resident, rule_item
):
    response = staff_client.post(
        reverse("admin:points_award_add"),
        {
            "resident": resident.pk,
            "rule_item": rule_item.pk,
            "awarded_on": timezone.localdate().isoformat(),
            "note": "",
            "idempotency_key": "adm-1",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Award.objects.get().proposed_by == community_staff


def test_redeem_and_cancel_in_the_admin(staff_client, tree, resident, credit):
    credit(resident, 100)
    prize = PrizeFactory(region=tree["street"], price=40, stock=2)  # street-shared
    response = staff_client.post(
        reverse("admin:points_redemption_add"),
        {
            "resident": resident.pk,
            "prize": prize.pk,
            "quantity": 2,
            "idempotency_key": "adm-r",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    redemption = Redemption.objects.get()
    assert account_of(resident).balance == 20

    staff_client.post(
        reverse("admin:points_redemption_changelist"),
        {
            "action": "cancel_selected",
            "_selected_action": [redemption.pk],
            "confirm": "yes",
            "reason": "居民退回",
        },
    )
    redemption.refresh_from_db()
    assert redemption.status == RedemptionStatus.CANCELLED
    assert account_of(resident).balance == 100
    assert Prize.objects.get(pk=prize.pk).stock == 2


def test_redemption_refused_in_the_admin_shows_the_message(
    staff_client, tree, resident
):
    prize = PrizeFactory(region=tree["communities"][0], price=40, stock=2)
    response = staff_client.post(
        reverse("admin:points_redemption_add"),
        {
            "resident": resident.pk,
            "prize": prize.pk,
            "quantity": 1,
            "idempotency_key": "x",
        },
        follow=True,
    )
    assert not Redemption.objects.exists()
    assert any("40" in str(m) for m in response.context["messages"])


def test_prize_stock_is_added_not_overwritten(staff_client, tree):
    prize = PrizeFactory(region=tree["communities"][0], price=40, stock=2)
    response = staff_client.post(
        reverse("admin:points_prize_change", args=[prize.pk]),
        {
            "name": prize.name,
            "description": "",
            "price": 45,
            "stock_delta": 5,
            "is_active": "on",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    prize.refresh_from_db()
    assert (prize.price, prize.stock) == (45, 7)


def test_other_communitys_prize_is_not_in_the_admin(staff_client, tree):
    theirs = PrizeFactory(region=tree["communities"][1])
    response = staff_client.get(reverse("admin:points_prize_change", args=[theirs.pk]))
    assert response.status_code == 302  # redirected: "does not exist"


def test_community_staff_cannot_edit_the_shared_rules(client, tree):
    from grids.choices import UserRole
    from tests.grids.factories import UserFactory

    staff = UserFactory(role=UserRole.COMMUNITY_STAFF, region=tree["communities"][0])
    client.force_login(staff)
    assert client.get(reverse("admin:points_ruleitem_add")).status_code == 403


# --- Excel export -----------------------------------------------------------------


def test_ledger_export_has_the_months_rows(
    staff_client, tree, community_staff, resident, outside_resident, credit
):
    credit(resident, 30)
    credit(outside_resident, 70)  # another community: not in the file
    prize = PrizeFactory(region=tree["communities"][0], name="毛巾", price=20, stock=1)
    services.redemption_create(
        actor=community_staff, resident_id=resident.pk, prize_id=prize.pk
    )
    today = timezone.localdate()
    response = staff_client.get(
        reverse("admin:points_ledgerentry_export"),
        {
            "community": tree["communities"][0].pk,
            "year": today.year,
            "month": today.month,
            "download": "1",
        },
    )
    assert response.status_code == 200
    assert response["Content-Disposition"].endswith('.xlsx"')
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 3  # header + award + redemption
    body = rows[1:]
    assert [r[2] for r in body] == [30, -20]
    assert {r[3] for r in body} == {resident.name}
    assert body[1][6] == "毛巾 × 1"
    kinds = {str(EntryKind.AWARD.label), str(EntryKind.REDEMPTION.label)}
    assert {r[1] for r in body} == kinds


def test_ledger_export_of_another_community_is_refused(staff_client, tree):
    today = timezone.localdate()
    response = staff_client.get(
        reverse("admin:points_ledgerentry_export"),
        {
            "community": tree["communities"][1].pk,
            "year": today.year,
            "month": today.month,
            "download": "1",
        },
    )
    assert response.status_code == 200
    assert "community" in response.context["form"].errors


def test_ledger_export_form_renders(staff_client):
    response = staff_client.get(reverse("admin:points_ledgerentry_export"))
    assert response.status_code == 200
    assert not response.context["form"].is_bound


def test_account_admin_links_the_statement(staff_client, resident, credit):
    credit(resident, 5)
    response = staff_client.get(reverse("admin:points_pointsaccount_changelist"))
    assert "/points/statement/" in response.content.decode()


def test_policy_is_set_through_the_admin(staff_client, tree):
    response = staff_client.post(
        reverse("admin:points_communitypointspolicy_add"),
        {"community": tree["communities"][0].pk, "expire_at_year_end": "on"},
    )
    assert response.status_code == 302
    policy = tree["communities"][0].points_policy
    assert policy.expire_at_year_end and not policy.pool_by_household


@pytest.mark.parametrize(
    "model", ["award", "redemption", "pointsaccount", "ledgerentry", "prize"]
)
def test_admin_lists_do_not_query_per_row(staff_client, tree, credit, model):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    url = reverse(f"admin:points_{model}_changelist")
    prize = PrizeFactory(region=tree["communities"][0], price=1, stock=100)

    def add_rows(n):
        for _ in range(n):
            someone = resident_in(tree["grids"][0])
            credit(someone, 5)
            AwardFactory(resident=someone)
            services.redemption_create(
                actor=staff_client.user, resident_id=someone.pk, prize_id=prize.pk
            )

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert staff_client.get(url).status_code == 200
        return len(queries)

    add_rows(2)
    few = count()
    add_rows(6)
    assert count() == few


def test_rule_categories_list_counts_items_without_a_query_per_row(staff_client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.points.factories import RuleCategoryFactory, RuleItemFactory

    url = reverse("admin:points_rulecategory_changelist")

    def add_categories(n):
        for i in range(n):
            category = RuleCategoryFactory()
            for _ in range(i % 3):
                RuleItemFactory(category=category)

    def count():
        with CaptureQueriesContext(connection) as queries:
            response = staff_client.get(url)
            assert response.status_code == 200
        return len(queries), response

    add_categories(2)
    few, _response = count()
    add_categories(8)
    many, response = count()
    assert many == few
    counts = sorted(row.item_count for row in response.context["cl"].result_list)
    assert counts == sorted([0, 1] + [i % 3 for i in range(8)])
