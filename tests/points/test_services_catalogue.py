"""The rules catalogue and the prizes through their services: who may change
them, validation, a duplicate code is a Conflict, and an audit entry with the
diff for every change."""

import pytest

from grids.audit import audit_history
from grids.choices import AuditAction, UserRole
from grids.errors import Conflict, DomainError, NotAllowed, OutOfScope
from points import services
from points.choices import CapPeriod
from points.models import RuleCategory, RuleItem
from tests.grids.factories import UserFactory
from tests.points.factories import PrizeFactory, RuleCategoryFactory, RuleItemFactory


@pytest.fixture
def category(street_staff):
    return services.rule_category_create(
        actor=street_staff, code="public-security", name="社会治安", sort_order=1
    )


def test_street_staff_add_a_category_with_an_audit_entry(street_staff, category):
    assert category.pk and category.name == "社会治安"
    (entry,) = audit_history(category)
    assert entry.action == AuditAction.CREATE and entry.actor == street_staff
    assert entry.changes["name"] == [None, "社会治安"]
    assert entry.changes["code"] == [None, "public-security"]


@pytest.mark.parametrize(
    "role", [UserRole.COMMUNITY_STAFF, UserRole.GRID_WORKER, UserRole.SUPERVISOR]
)
def test_only_street_staff_keep_the_catalogue(tree, role, category):
    actor = UserFactory(role=role, region=tree["street"])
    calls = [
        lambda: services.rule_category_create(actor=actor, code="x", name="x"),
        lambda: services.rule_category_update(
            actor=actor, category_id=category.pk, name="改名"
        ),
        lambda: services.rule_category_deactivate(actor=actor, category_id=category.pk),
        lambda: services.rule_item_create(
            actor=actor, category=category, code="y", name="y", points=5
        ),
    ]
    for call in calls:
        with pytest.raises(NotAllowed):
            call()
    category.refresh_from_db()
    assert category.name == "社会治安" and category.is_active
    assert len(audit_history(category)) == 1


def test_a_duplicate_category_code_is_a_conflict(street_staff, category):
    with pytest.raises(Conflict):
        services.rule_category_create(
            actor=street_staff, code="public-security", name="又一个"
        )
    other = RuleCategoryFactory(code="welfare")
    with pytest.raises(Conflict):
        services.rule_category_update(
            actor=street_staff, category_id=other.pk, code="public-security"
        )
    assert RuleCategory.objects.filter(code="public-security").count() == 1


def test_updating_a_category_logs_the_diff(street_staff, category):
    services.rule_category_update(
        actor=street_staff, category_id=category.pk, name="平安建设", sort_order=1
    )
    entry = audit_history(category).first()
    assert entry.action == AuditAction.UPDATE
    assert entry.changes == {"name": ["社会治安", "平安建设"]}  # order unchanged


def test_an_unchanged_update_logs_nothing(street_staff, category):
    services.rule_category_update(
        actor=street_staff, category_id=category.pk, name="社会治安"
    )
    assert len(audit_history(category)) == 1


def test_deactivating_a_category(street_staff, category):
    services.rule_category_deactivate(actor=street_staff, category_id=category.pk)
    category.refresh_from_db()
    assert not category.is_active
    entry = audit_history(category).first()
    assert entry.action == AuditAction.DEACTIVATE
    assert entry.changes == {"is_active": [True, False]}


def test_unknown_fields_are_refused(street_staff, category):
    with pytest.raises(DomainError):
        services.rule_category_update(
            actor=street_staff, category_id=category.pk, pk=99
        )


def test_a_missing_category_is_out_of_scope(street_staff):
    with pytest.raises(OutOfScope):
        services.rule_category_update(actor=street_staff, category_id=999999, name="x")


def test_street_staff_add_an_item_with_a_cap(street_staff, category):
    item = services.rule_item_create(
        actor=street_staff,
        category=category,
        code="patrol",
        name=" 参与治安巡逻 ",
        points=5,
        cap_count=4,
        cap_period=CapPeriod.MONTH,
    )
    assert item.name == "参与治安巡逻"
    (entry,) = audit_history(item)
    assert entry.action == AuditAction.CREATE
    assert entry.changes["category"] == [None, category.pk]
    assert entry.changes["points"] == [None, 5]


def test_an_item_is_validated(street_staff, category):
    with pytest.raises(DomainError):  # a cap without its period
        services.rule_item_create(
            actor=street_staff,
            category=category,
            code="a",
            name="a",
            points=5,
            cap_count=3,
        )
    with pytest.raises(DomainError):  # no points
        services.rule_item_create(
            actor=street_staff, category=category, code="b", name="b", points=0
        )
    assert not RuleItem.objects.exists()


def test_a_duplicate_item_code_is_a_conflict(street_staff, category):
    RuleItemFactory(code="patrol")
    with pytest.raises(Conflict):
        services.rule_item_create(
            actor=street_staff, category=category, code="patrol", name="x", points=5
        )


def test_updating_and_deactivating_an_item(street_staff, category):
    item = RuleItemFactory(category=category, points=5)
    services.rule_item_update(actor=street_staff, rule_item_id=item.pk, points=8)
    services.rule_item_deactivate(actor=street_staff, rule_item_id=item.pk)
    item.refresh_from_db()
    assert item.points == 8 and not item.is_active
    deactivated, updated = audit_history(item)
    assert updated.changes == {"points": [5, 8]}
    assert deactivated.action == AuditAction.DEACTIVATE


def test_the_community_cannot_change_an_item(community_staff, category):
    item = RuleItemFactory(category=category, points=5)
    with pytest.raises(NotAllowed):
        services.rule_item_update(actor=community_staff, rule_item_id=item.pk, points=1)
    item.refresh_from_db()
    assert item.points == 5


# --- prizes: scope, audit ------------------------------------------------------


def test_a_prize_change_is_audited(tree, community_staff):
    prize = services.prize_create(
        actor=community_staff, region=tree["communities"][0], name="洗衣液", price=30
    )
    services.prize_update(actor=community_staff, prize_id=prize.pk, price=40)
    services.prize_adjust_stock(actor=community_staff, prize_id=prize.pk, delta=5)
    services.prize_deactivate(actor=community_staff, prize_id=prize.pk)
    deactivated, stock, price, created = audit_history(prize)
    assert created.action == AuditAction.CREATE
    assert price.changes == {"price": [30, 40]}
    assert stock.changes == {"stock": [0, 5]}
    assert deactivated.action == AuditAction.DEACTIVATE


def test_a_prize_outside_the_community_is_refused(tree, community_staff):
    theirs = PrizeFactory(region=tree["communities"][1])
    with pytest.raises(OutOfScope):
        services.prize_update(actor=community_staff, prize_id=theirs.pk, price=1)
    with pytest.raises(OutOfScope):
        services.prize_deactivate(actor=community_staff, prize_id=theirs.pk)
    assert not audit_history(theirs).exists()


def test_a_prize_needs_a_name(tree, community_staff):
    with pytest.raises(DomainError):
        services.prize_create(
            actor=community_staff, region=tree["communities"][0], name=" ", price=30
        )


def test_a_grid_worker_cannot_manage_prizes(tree, grid_worker):
    with pytest.raises(NotAllowed):
        services.prize_create(
            actor=grid_worker, region=tree["communities"][0], name="x", price=3
        )


def test_a_policy_change_is_audited(tree, community_staff):
    community = tree["communities"][0]
    policy = services.policy_set(
        actor=community_staff,
        community=community,
        pool_by_household=False,
        expire_at_year_end=True,
    )
    services.policy_set(
        actor=community_staff,
        community=community,
        pool_by_household=True,
        expire_at_year_end=True,
    )
    changed, created = audit_history(policy)
    assert created.action == AuditAction.CREATE
    assert changed.changes == {"pool_by_household": [False, True]}
