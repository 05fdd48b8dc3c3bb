"""The rules catalogue in the admin: saved through the catalogue services (an
audit entry per change), names instead of codes in the list; the approvals
queue offers only the actions the table allows."""

import pytest
from django.urls import reverse

from grids.audit import audit_history
from grids.choices import AuditAction
from points.choices import AwardStatus
from points.models import RuleCategory, RuleItem
from tests.points.factories import AwardFactory, RuleCategoryFactory, RuleItemFactory


@pytest.fixture
def street_client(client, street_staff):
    client.force_login(street_staff)
    return client


def _inline(prefix="items", total=0, initial=0, rows=()):
    data = {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for i, row in enumerate(rows):
        data.update({f"{prefix}-{i}-{k}": v for k, v in row.items()})
    return data


def test_a_category_and_its_items_are_added_through_the_services(
    street_client, street_staff
):
    response = street_client.post(
        reverse("admin:points_rulecategory_add"),
        {
            "name": "志愿服务",
            "code": "volunteering",
            "sort_order": "3",
            "is_active": "on",
            **_inline(
                total=1,
                rows=[
                    {
                        "name": "参加志愿活动",
                        "code": "volunteer-day",
                        "points": "5",
                        "cap_count": "",
                        "cap_period": "",
                        "is_active": "on",
                    }
                ],
            ),
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    category = RuleCategory.objects.get(code="volunteering")
    item = RuleItem.objects.get(code="volunteer-day")
    assert item.category == category
    assert [e.action for e in audit_history(category)] == [AuditAction.CREATE]
    (entry,) = audit_history(item)
    assert entry.actor == street_staff and entry.changes["points"] == [None, 5]


def test_an_item_changed_in_the_admin_is_audited(street_client):
    item = RuleItemFactory(points=5)
    response = street_client.post(
        reverse("admin:points_ruleitem_change", args=[item.pk]),
        {
            "category": item.category_id,
            "name": item.name,
            "code": item.code,
            "points": "7",
            "cap_count": "",
            "cap_period": "",
            "is_active": "",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    item.refresh_from_db()
    assert item.points == 7 and not item.is_active
    (entry,) = audit_history(item)
    assert entry.action == AuditAction.DEACTIVATE
    assert entry.changes == {"points": [5, 7], "is_active": [True, False]}


def test_the_list_edits_go_through_the_services(street_client):
    category = RuleCategoryFactory(sort_order=1)
    response = street_client.post(
        reverse("admin:points_rulecategory_changelist"),
        {
            "form-TOTAL_FORMS": "1",
            "form-INITIAL_FORMS": "1",
            "form-MIN_NUM_FORMS": "0",
            "form-MAX_NUM_FORMS": "1000",
            "form-0-id": str(category.pk),
            "form-0-sort_order": "4",
            "form-0-is_active": "on",
            "_save": "1",
        },
    )
    assert response.status_code == 302
    category.refresh_from_db()
    assert category.sort_order == 4
    assert audit_history(category).get().changes == {"sort_order": [1, 4]}


def test_the_category_list_shows_names_not_codes(street_client):
    RuleCategoryFactory(code="public-security", name="社会治安")
    response = street_client.get(reverse("admin:points_rulecategory_changelist"))
    body = response.content.decode()
    assert "社会治安" in body and "public-security" not in body


def _offered(client, query=""):
    response = client.get(reverse("admin:points_award_changelist") + query)
    if response.context["action_form"] is None:  # no action at all
        return set()
    return {
        name
        for name, _label in response.context["action_form"].fields["action"].choices
        if name
    }


def test_the_queue_offers_decisions_only_on_proposals(
    client, community_staff, resident, rule_item
):
    AwardFactory(resident=resident, rule_item=rule_item)
    client.force_login(community_staff)
    assert _offered(client) == {"approve_selected", "reject_selected"}
    assert _offered(client, f"?status={AwardStatus.APPROVED}") == set()
    assert _offered(client, f"?status={AwardStatus.REJECTED}") == set()
    assert _offered(client, "?status=all") == {"approve_selected", "reject_selected"}


def test_the_queue_offers_a_supervisor_no_decisions(
    client, supervisor, resident, rule_item
):
    AwardFactory(resident=resident, rule_item=rule_item)
    client.force_login(supervisor)
    assert _offered(client) == set()


def test_an_award_page_shows_its_log(client, community_staff, resident, rule_item):
    from django.utils import timezone

    from points import services
    from tests.points.factories import next_key

    award, _ = services.award_propose(
        actor=community_staff,
        resident_id=resident.pk,
        rule_item_id=rule_item.pk,
        awarded_on=timezone.localdate(),
        idempotency_key=next_key(),
    )
    services.award_reject(actor=community_staff, award_id=award.pk, reason="照片不清")
    client.force_login(community_staff)
    response = client.get(reverse("admin:points_award_change", args=[award.pk]))
    assert response.status_code == 200
    assert "照片不清" in response.content.decode()


def test_the_redemption_list_offers_cancel_only_where_the_table_allows(
    client, community_staff
):
    from points.choices import RedemptionStatus

    client.force_login(community_staff)
    url = reverse("admin:points_redemption_changelist")

    def offered(query=""):
        form = client.get(url + query).context["action_form"]
        return (
            {name for name, _label in form.fields["action"].choices if name}
            if (form)
            else set()
        )

    assert offered() == {"cancel_selected"}
    assert offered(f"?status__exact={RedemptionStatus.REDEEMED}") == {"cancel_selected"}
    assert offered(f"?status__exact={RedemptionStatus.CANCELLED}") == set()
