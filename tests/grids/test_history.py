"""Record history (grids.history): what is kept, who is named, the bulk paths the
services record by hand, and no personal data in any history table."""

import pytest
from django.apps import apps
from django.core import serializers
from simple_history.models import HistoricalChanges

from grids import services
from grids.choices import RegionLevel
from grids.history import ALWAYS_EXCLUDED, ID_NUMBER_PREFIX, history_actor
from grids.masking import sensitive_fields_of
from grids.models import GridWorker, Household, Region, Resident, User
from partyorg.models import PartyMember, PartyOrg
from points.models import Prize, RuleCategory, RuleItem
from tests.grids.factories import HouseholdFactory, ResidentFactory, next_id_number

pytestmark = pytest.mark.django_db

TRACKED = {
    Region,
    User,
    GridWorker,
    apps.get_model("grids", "GridAssignment"),
    Household,
    Resident,
    RuleCategory,
    RuleItem,
    Prize,
    PartyOrg,
    PartyMember,
}


def historical_models():
    return [m for m in apps.get_models() if issubclass(m, HistoricalChanges)]


def test_the_records_people_keep_have_history():
    assert {m.instance_type for m in historical_models()} >= TRACKED


@pytest.mark.parametrize(
    "history_model", historical_models(), ids=lambda m: m._meta.label
)
def test_no_history_table_has_a_personal_data_column(history_model):
    model = history_model.instance_type
    forbidden = sensitive_fields_of(model) | ALWAYS_EXCLUDED
    for field in history_model._meta.concrete_fields:
        assert field.name not in forbidden, (history_model, field.name)
        assert not field.name.startswith(ID_NUMBER_PREFIX), (history_model, field)
    # Every personal-data field the model has is named as excluded, so the
    # admin's version page never reads it back from the live row either.
    kept = {f.name for f in history_model.tracked_fields}
    assert not kept & forbidden


def test_no_history_row_holds_an_id_number_or_phone(tree, street_staff):
    household = services.household_create(
        actor=street_staff, region=tree["grids"][0], address="幸福路1号"
    )
    id_number = next_id_number()
    resident = services.resident_create(
        actor=street_staff,
        household=household,
        name="张三",
        id_number=id_number,
        phone="13812345678",
    )
    services.resident_update(
        actor=street_staff, resident_id=resident.pk, phone="13912345678"
    )
    dumped = serializers.serialize("json", Resident.history.all())
    assert Resident.history.filter(id=resident.pk).count() == 2
    for secret in (id_number, "13812345678", "13912345678", id_number[6:14]):
        assert secret not in dumped


def test_a_service_names_its_actor_outside_a_request(tree, street_staff):
    resident = ResidentFactory(household=HouseholdFactory(region=tree["grids"][0]))
    services.resident_update(actor=street_staff, resident_id=resident.pk, name="李四")
    latest = resident.history.latest()
    assert latest.history_type == "~"
    assert latest.history_user == street_staff
    assert latest.name == "李四"
    change = latest.diff_against(latest.prev_record)
    assert change.changed_fields == ["name"]


def test_without_an_actor_nobody_is_named(tree):
    household = HouseholdFactory(region=tree["grids"][0])
    assert household.history.latest().history_user is None
    with history_actor(None):
        household.notes = "x"
        household.save()
    assert household.history.latest().history_user is None


def test_a_change_the_history_does_not_keep_writes_no_row(street_staff):
    before = street_staff.history.count()
    street_staff.phone = "13800001111"
    street_staff.save(update_fields=["phone"])
    street_staff.set_password("another-pass-1")
    street_staff.save(update_fields=["password"])
    from django.contrib.auth.models import update_last_login

    update_last_login(None, street_staff)
    assert street_staff.history.count() == before
    street_staff.first_name = "新名"
    street_staff.save(update_fields=["first_name"])
    assert street_staff.history.count() == before + 1


def _coded_tree(admin_user):
    district = services.region_create(
        actor=admin_user, name="历下区", level=RegionLevel.DISTRICT, code="370102"
    )
    street_a = services.region_create(
        actor=admin_user,
        parent=district,
        name="甲街道",
        level=RegionLevel.STREET,
        code="370102001",
    )
    street_b = services.region_create(
        actor=admin_user,
        parent=district,
        name="乙街道",
        level=RegionLevel.STREET,
        code="370102002",
    )
    community = services.region_create(
        actor=admin_user,
        parent=street_a,
        name="芙蓉社区",
        level=RegionLevel.COMMUNITY,
        code="370102001003",
    )
    grid = services.region_create(
        actor=admin_user,
        parent=community,
        name="第一网格",
        level=RegionLevel.GRID,
        code="370102001003004",
    )
    return street_a, street_b, community, grid


def test_a_move_records_the_new_parent_and_every_recoded_descendant(admin_user):
    _a, street_b, community, grid = _coded_tree(admin_user)
    services.region_move(
        actor=admin_user, region_id=community.pk, new_parent_id=street_b.pk
    )
    moved = community.history.latest()
    assert moved.parent_id == street_b.pk
    assert moved.code == "370102002003"
    assert moved.history_user == admin_user
    assert community.history.count() == 2  # created, moved: one row per change
    recoded = grid.history.latest()
    assert recoded.code == "370102002003004"
    assert recoded.history_type == "~"
    assert recoded.history_user == admin_user


def test_a_code_change_records_the_recoded_descendants(admin_user):
    _a, _b, community, grid = _coded_tree(admin_user)
    services.region_update(
        actor=admin_user, region_id=community.pk, code="370102001009"
    )
    assert community.history.latest().code == "370102001009"
    assert grid.history.latest().code == "370102001009004"
    assert grid.history.latest().history_user == admin_user
