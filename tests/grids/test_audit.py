"""The audit log of reference data and the shared save helper."""

import pytest
from django.db import connection

from grids.audit import audit_history, audit_record, diff, field_values
from grids.choices import AuditAction
from grids.cleaning import validated_save
from grids.errors import Conflict, DomainError
from grids.models import AuditEntry, Region, ResidentTag
from tests.append_only import assert_append_only

pytestmark = pytest.mark.django_db


def test_audit_record_keeps_who_what_and_the_change(street_staff):
    tag = ResidentTag.objects.create(code="alone", name="独居老人")
    before = field_values(tag, ["name"])
    tag.name = "独居老人(80+)"
    entry = audit_record(
        actor=street_staff,
        instance=tag,
        action=AuditAction.UPDATE,
        changes=diff(before, field_values(tag, ["name"])),
    )
    assert entry.changes == {"name": ["独居老人", "独居老人(80+)"]}
    assert entry.actor == street_staff
    assert list(audit_history(tag)) == [entry]


def test_audit_entries_are_append_only(street_staff):
    tag = ResidentTag.objects.create(code="alone", name="独居老人")
    entry = audit_record(actor=street_staff, instance=tag, action=AuditAction.CREATE)
    assert_append_only(entry, object_repr="changed")


def test_field_values_take_foreign_keys_by_id(tree):
    grid = tree["grids"][0]
    assert field_values(grid, ["parent", "name"]) == {
        "parent": grid.parent_id,
        "name": grid.name,
    }


def test_validated_save_refuses_invalid_and_duplicate(tree):
    with pytest.raises(DomainError):
        validated_save(ResidentTag(code="", name=""))
    validated_save(ResidentTag(code="alone", name="独居老人"))
    with pytest.raises(Conflict) as exc:
        validated_save(
            ResidentTag(code="alone", name="又一个"),
            conflict_messages={"code": "这个代码已被使用。"},
            conflict_code="duplicate_tag",
        )
    assert exc.value.code == "duplicate_tag"
    assert ResidentTag.objects.count() == 1


def test_validated_save_maps_a_clash_the_database_finds(tree):
    """A uniqueness clash validation cannot see (excluded field) is a Conflict,
    and the surrounding transaction stays usable."""
    validated_save(ResidentTag(code="alone", name="独居老人"))
    with pytest.raises(Conflict):
        validated_save(
            ResidentTag(code="alone", name="又一个"),
            exclude=["code"],
            conflict_message="clash",
        )
    assert Region.objects.exists()  # the connection still works
    assert AuditEntry.objects.count() == 0
    assert connection.in_atomic_block


def test_the_audit_log_shows_only_shared_lists_and_the_users_area(
    tree, other_tree, street_staff, client
):
    """Found by the URL walk: street staff read every district's entries."""
    from grids.models import User

    mine = audit_record(
        actor=street_staff, instance=tree["grids"][0], action=AuditAction.UPDATE
    )
    shared = audit_record(
        actor=street_staff,
        instance=ResidentTag.objects.create(code="alone", name="独居老人"),
        action=AuditAction.CREATE,
    )
    outsider = User.objects.create(username="外区人员", region=other_tree["street"])
    theirs = audit_record(
        actor=outsider, instance=other_tree["grids"][0], action=AuditAction.UPDATE
    )
    assert mine.region_id == tree["grids"][0].pk
    assert shared.region_id is None
    client.force_login(street_staff)
    page = client.get("/admin/grids/auditentry/")
    listed = set(page.context["cl"].result_list)
    assert {mine, shared} <= listed
    assert theirs not in listed
    assert client.get(f"/admin/grids/auditentry/{theirs.pk}/change/").status_code in (
        302,
        404,
    )
