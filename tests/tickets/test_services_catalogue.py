"""The catalogue through services: departments, categories and deadline classes,
validated, checked against role and area, one audit entry per change."""

import pytest

from grids.audit import audit_history
from grids.choices import AuditAction, UserRole
from grids.errors import Conflict, DomainError, NotAllowed, OutOfScope
from tests.grids.factories import UserFactory
from tickets import services
from tickets.choices import DeadlineClass, DeadlineUnit
from tickets.models import Category, Department, HandlingLimit

pytestmark = pytest.mark.django_db


def _entries(instance):
    return [(e.action, e.changes) for e in reversed(list(audit_history(instance)))]


# --- departments -------------------------------------------------------------------


def test_street_staff_create_and_change_a_department_of_their_area(
    tree, street_staff, handler
):
    department = services.department_create(
        actor=street_staff, name=" 城管 ", region=tree["street"], members=[handler]
    )
    assert department.name == "城管"
    assert list(department.members.all()) == [handler]
    services.department_update(
        actor=street_staff, department_id=department.pk, name="城管执法"
    )
    services.department_deactivate(actor=street_staff, department_id=department.pk)
    department.refresh_from_db()
    assert department.name == "城管执法" and not department.is_active
    assert _entries(department) == [
        (
            AuditAction.CREATE,
            {
                "name": [None, "城管"],
                "region": [None, tree["street"].pk],
                "is_active": [None, True],
            },
        ),
        (AuditAction.UPDATE, {"name": ["城管", "城管执法"]}),
        (AuditAction.DEACTIVATE, {"is_active": [True, False]}),
    ]
    assert audit_history(department).first().actor == street_staff


def test_a_change_that_changes_nothing_writes_no_entry(tree, street_staff):
    department = services.department_create(
        actor=street_staff, name="城管", region=tree["street"]
    )
    services.department_update(actor=street_staff, department_id=department.pk)
    assert len(_entries(department)) == 1


def test_department_members_change_is_audited(tree, street_staff, handler):
    department = services.department_create(
        actor=street_staff, name="城管", region=tree["street"]
    )
    services.department_update(
        actor=street_staff, department_id=department.pk, members=[handler]
    )
    assert _entries(department)[-1] == (
        AuditAction.UPDATE,
        {"members": [[], [handler.pk]]},
    )


def test_duplicate_department_name_is_a_conflict(tree, street_staff):
    services.department_create(actor=street_staff, name="城管", region=tree["street"])
    with pytest.raises(Conflict) as caught:
        services.department_create(
            actor=street_staff, name="城管", region=tree["street"]
        )
    assert caught.value.code == "duplicate_name"
    assert Department.objects.count() == 1


def test_department_refusals(tree, other_tree, street_staff, community_staff):
    with pytest.raises(NotAllowed):
        services.department_create(
            actor=community_staff, name="物业", region=tree["communities"][0]
        )
    with pytest.raises(OutOfScope):
        services.department_create(
            actor=street_staff, name="外区城管", region=other_tree["street"]
        )
    # A shared department serves every area: an administrator's.
    with pytest.raises(NotAllowed):
        services.department_create(actor=street_staff, name="区民政", region=None)
    mine = services.department_create(
        actor=street_staff, name="城管", region=tree["street"]
    )
    with pytest.raises(OutOfScope):  # moving it out of the area
        services.department_update(
            actor=street_staff, department_id=mine.pk, region=other_tree["street"]
        )
    outsider = UserFactory(role=UserRole.STREET_STAFF, region=other_tree["street"])
    with pytest.raises(OutOfScope):
        services.department_deactivate(actor=outsider, department_id=mine.pk)
    with pytest.raises(DomainError):
        services.department_update(
            actor=street_staff, department_id=mine.pk, members_count=3
        )
    assert Department.objects.get(pk=mine.pk).region == tree["street"]
    assert len(_entries(mine)) == 1


def test_administrator_keeps_shared_departments(admin_user):
    shared = services.department_create(actor=admin_user, name="区民政")
    assert shared.region is None
    assert _entries(shared)[0][0] == AuditAction.CREATE


# --- categories ----------------------------------------------------------------------


def test_category_create_update_deactivate_with_audit(street_staff, department):
    parent = services.category_create(
        actor=street_staff, name="城市管理", service_code="city"
    )
    child = services.category_create(
        actor=street_staff,
        name="占道经营",
        service_code="city-street-vending",
        parent=parent,
        default_department=department,
        deadline_class=DeadlineClass.EASY,
    )
    assert child.deadline_class_id == DeadlineClass.EASY
    services.category_update(
        actor=street_staff, category_id=child.pk, deadline_class=DeadlineClass.HARD
    )
    services.category_deactivate(actor=street_staff, category_id=child.pk)
    child.refresh_from_db()
    assert child.deadline_class_id == DeadlineClass.HARD and not child.is_active
    created, updated, deactivated = _entries(child)
    assert created[0] == AuditAction.CREATE
    assert created[1]["service_code"] == [None, "city-street-vending"]
    assert updated == (AuditAction.UPDATE, {"deadline_class": ["easy", "hard"]})
    assert deactivated[0] == AuditAction.DEACTIVATE


def test_new_category_needs_a_valid_service_code(street_staff):
    with pytest.raises(DomainError) as caught:
        services.category_create(actor=street_staff, name="城市管理", service_code="")
    assert caught.value.code == "required"
    with pytest.raises(DomainError):
        services.category_create(
            actor=street_staff, name="城市管理", service_code="城市 管理"
        )
    assert not Category.objects.exists()


def test_duplicate_category_name_or_code_is_a_conflict(street_staff):
    parent = services.category_create(
        actor=street_staff, name="城市管理", service_code="city"
    )
    services.category_create(
        actor=street_staff, name="占道经营", service_code="vending", parent=parent
    )
    with pytest.raises(Conflict):  # the same name under the same parent
        services.category_create(
            actor=street_staff, name="占道经营", service_code="vending-2", parent=parent
        )
    with pytest.raises(Conflict):  # the same top-level name
        services.category_create(
            actor=street_staff, name="城市管理", service_code="city-2"
        )
    with pytest.raises(Conflict) as caught:  # the same code anywhere
        services.category_create(
            actor=street_staff, name="环境卫生", service_code="vending"
        )
    assert caught.value.extra == {"fields": ["service_code"]}
    assert Category.objects.count() == 2


def test_only_street_staff_keep_the_categories(community_staff, grid_worker):
    for actor in (community_staff, grid_worker):
        with pytest.raises(NotAllowed):
            services.category_create(actor=actor, name="城市管理", service_code="c")


def test_a_category_takes_only_a_shared_deadline_class(tree, street_staff):
    services.deadline_class_create(
        actor=street_staff,
        code="s-3",
        name="三日",
        days=3,
        unit=DeadlineUnit.CALENDAR_DAYS,
        region=tree["street"],
    )
    with pytest.raises(DomainError) as caught:
        services.category_create(
            actor=street_staff, name="城市管理", service_code="c", deadline_class="s-3"
        )
    assert "deadline_class" in caught.value.extra["fields"]


# --- deadline classes ------------------------------------------------------------------


def test_street_keeps_its_own_deadline_class_with_audit(tree, street_staff):
    limit = services.deadline_class_create(
        actor=street_staff,
        code="s1-3d",
        name="紧急",
        days=3,
        unit=DeadlineUnit.CALENDAR_DAYS,
        region=tree["street"],
    )
    services.deadline_class_update(
        actor=street_staff, code=limit.code, unit=DeadlineUnit.WORKING_DAYS
    )
    services.deadline_class_deactivate(actor=street_staff, code=limit.code)
    limit.refresh_from_db()
    assert limit.unit == DeadlineUnit.WORKING_DAYS and not limit.is_active
    assert [a for a, _c in _entries(limit)] == [
        AuditAction.CREATE,
        AuditAction.UPDATE,
        AuditAction.DEACTIVATE,
    ]
    assert _entries(limit)[1][1] == {"unit": ["calendar_days", "working_days"]}
    assert limit not in HandlingLimit.objects.usable_in(tree["grids"][0])


def test_shared_deadline_classes_are_read_only_for_street_staff(
    street_staff, admin_user
):
    with pytest.raises(NotAllowed):
        services.deadline_class_update(
            actor=street_staff, code=DeadlineClass.GENERAL, days=9
        )
    with pytest.raises(NotAllowed):
        services.deadline_class_create(
            actor=street_staff, code="x", name="x", days=1, unit="working_days"
        )
    services.deadline_class_update(actor=admin_user, code=DeadlineClass.GENERAL, days=9)
    assert HandlingLimit.objects.get(pk=DeadlineClass.GENERAL).days == 9


def test_duplicate_deadline_class_code_or_name_is_a_conflict(tree, street_staff):
    def create(code, name):
        return services.deadline_class_create(
            actor=street_staff,
            code=code,
            name=name,
            days=3,
            unit=DeadlineUnit.CALENDAR_DAYS,
            region=tree["street"],
        )

    create("s1-3d", "紧急")
    with pytest.raises(Conflict):
        create("s1-3d", "另一个")
    with pytest.raises(Conflict):
        create("hard", "另一个")  # never overwrites a shared class
    with pytest.raises(Conflict):
        create("s1-4d", "紧急")
    assert HandlingLimit.objects.get(pk="hard").days == 30
    assert HandlingLimit.objects.count() == 4


def test_deadline_class_limits_are_validated(tree, street_staff):
    with pytest.raises(DomainError):
        services.deadline_class_create(
            actor=street_staff,
            code="s1-0",
            name="零",
            days=0,
            unit=DeadlineUnit.CALENDAR_DAYS,
            region=tree["street"],
        )
    with pytest.raises(DomainError):
        services.deadline_class_create(
            actor=street_staff,
            code="s1-w",
            name="周",
            days=1,
            unit="weeks",
            region=tree["street"],
        )


def test_a_category_cannot_default_to_another_districts_department(
    tree, other_tree, street_staff, admin_user, client
):
    """Found by the URL walk: the category form listed every department, other
    districts' included, and the service took any."""
    foreign = services.department_create(
        actor=admin_user, name="外区城管", region=other_tree["street"]
    )
    with pytest.raises(OutOfScope):
        services.category_create(
            actor=street_staff,
            name="占道经营",
            service_code="street-vending",
            default_department=foreign,
        )
    category = services.category_create(
        actor=street_staff, name="占道经营", service_code="street-vending"
    )
    with pytest.raises(OutOfScope):
        services.category_update(
            actor=street_staff, category_id=category.pk, default_department=foreign
        )
    client.force_login(street_staff)
    page = client.get("/admin/tickets/category/add/").content.decode()
    assert "外区城管" not in page
    assert not Category.objects.filter(default_department=foreign).exists()
