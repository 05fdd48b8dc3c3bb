"""Special-group tags through the services: who may keep them, clashes, the
audit log, switching a tag off, and the admin saving through the services."""

import pytest
from django.urls import reverse

from grids import services
from grids.audit import audit_history
from grids.choices import AuditAction, UserRole
from grids.errors import Conflict, DomainError, NotAllowed, OutOfScope
from grids.models import AuditEntry, ResidentTag
from grids.selectors import tag_choices
from tests.grids.factories import ResidentFactory, ResidentTagFactory

pytestmark = pytest.mark.django_db


def _create(actor, **extra):
    fields = {"code": "elderly_alone", "name": "独居老人", **extra}
    return services.resident_tag_create(actor=actor, **fields)


def test_street_staff_create_a_tag_with_an_audit_entry(street_staff):
    tag = _create(
        street_staff, description="  80岁以上 ", visible_to_roles=["grid_worker"]
    )
    assert tag.is_active and tag.description == "80岁以上"
    (entry,) = audit_history(tag)
    assert entry.action == AuditAction.CREATE
    assert entry.actor == street_staff
    assert entry.changes["name"] == [None, "独居老人"]
    assert entry.changes["visible_to_roles"] == [None, ["grid_worker"]]


@pytest.mark.parametrize("who", ["community_staff", "grid_worker", "supervisor"])
def test_others_may_not_create_a_tag(request, who):
    actor = request.getfixturevalue(who)
    with pytest.raises(NotAllowed):
        _create(actor)
    assert not ResidentTag.objects.exists()
    assert not AuditEntry.objects.exists()


def test_a_duplicate_code_is_a_conflict(street_staff):
    _create(street_staff)
    with pytest.raises(Conflict) as exc:
        _create(street_staff, name="又一个")
    assert exc.value.code == "duplicate_tag"
    assert ResidentTag.objects.count() == 1
    assert AuditEntry.objects.count() == 1


def test_unknown_roles_and_empty_names_are_refused(street_staff):
    with pytest.raises(DomainError):
        _create(street_staff, visible_to_roles=["janitor"])
    with pytest.raises(DomainError):
        _create(street_staff, name="  ")


def test_update_audits_the_diff_only(street_staff):
    tag = _create(street_staff)
    services.resident_tag_update(
        actor=street_staff,
        tag_id=tag.pk,
        name="独居老人(80+)",
        description="",
        visible_to_roles=["community_staff", "grid_worker"],
    )
    latest = audit_history(tag).first()
    assert latest.action == AuditAction.UPDATE
    assert latest.changes == {
        "name": ["独居老人", "独居老人(80+)"],
        "visible_to_roles": [[], ["community_staff", "grid_worker"]],
    }


def test_update_refused_for_others_and_for_a_clashing_code(
    street_staff, community_staff
):
    tag = _create(street_staff)
    other = _create(street_staff, code="disabled", name="残疾人")
    with pytest.raises(NotAllowed):
        services.resident_tag_update(actor=community_staff, tag_id=tag.pk, name="x")
    with pytest.raises(Conflict):
        services.resident_tag_update(
            actor=street_staff, tag_id=other.pk, code="elderly_alone"
        )
    with pytest.raises(DomainError):
        services.resident_tag_update(actor=street_staff, tag_id=tag.pk, pk=3)
    with pytest.raises(OutOfScope):
        services.resident_tag_update(actor=street_staff, tag_id=0, name="x")
    other.refresh_from_db()
    assert other.code == "disabled"
    assert AuditEntry.objects.count() == 2


def test_deactivate_keeps_the_tag_on_residents_and_offers_it_no_more(
    tree, street_staff, community_staff
):
    tag = _create(street_staff)
    resident = ResidentFactory(household__region=tree["grids"][0])
    resident.tags.add(tag)
    with pytest.raises(NotAllowed):
        services.resident_tag_deactivate(actor=community_staff, tag_id=tag.pk)
    services.resident_tag_deactivate(actor=street_staff, tag_id=tag.pk)
    tag.refresh_from_db()
    assert not tag.is_active
    assert audit_history(tag).first().action == AuditAction.DEACTIVATE
    assert audit_history(tag).first().changes == {"is_active": [True, False]}
    assert list(resident.tags.all()) == [tag]
    assert tag not in tag_choices(street_staff)
    assert tag in tag_choices(street_staff, resident)
    with pytest.raises(Conflict):
        services.resident_tag_deactivate(actor=street_staff, tag_id=tag.pk)
    services.resident_tag_update(actor=street_staff, tag_id=tag.pk, is_active=True)
    tag.refresh_from_db()
    assert tag.is_active


def _tag_form(**extra):
    data = {"name": "独居老人", "code": "elderly_alone", "description": ""}
    data.update(extra)
    return data


def test_tag_admin_saves_through_the_services(client, street_staff):
    client.force_login(street_staff)
    add = reverse("admin:grids_residenttag_add")
    response = client.post(
        add, _tag_form(visible_to_roles=["community_staff"], is_active="on")
    )
    assert response.status_code == 302
    tag = ResidentTag.objects.get()
    assert tag.visible_to_roles == ["community_staff"]
    change = reverse("admin:grids_residenttag_change", args=[tag.pk])
    response = client.post(change, _tag_form(visible_to_roles=["community_staff"]))
    assert response.status_code == 302
    tag.refresh_from_db()
    assert not tag.is_active
    assert [e.action for e in audit_history(tag)] == [
        AuditAction.DEACTIVATE,
        AuditAction.CREATE,
    ]
    # a clash is shown on the form, not a 500
    ResidentTagFactory(code="disabled", name="残疾人")
    response = client.post(add, _tag_form(code="disabled"))
    assert response.status_code == 200 and "已存在" in response.content.decode()
    assert ResidentTag.objects.count() == 2


def test_tag_admin_is_read_only_for_community_staff(client, community_staff):
    client.force_login(community_staff)
    response = client.post(reverse("admin:grids_residenttag_add"), _tag_form())
    assert response.status_code == 403
    assert not ResidentTag.objects.exists()


def test_tag_list_shows_names_and_roles_in_chinese(client, street_staff):
    ResidentTagFactory(
        code="serious_illness",
        name="重病患者",
        description="需要定期探访",
        visible_to_roles=[UserRole.COMMUNITY_STAFF, UserRole.GRID_WORKER],
    )
    ResidentTagFactory(code="elderly_alone", name="独居老人")
    client.force_login(street_staff)
    page = client.get(
        reverse("admin:grids_residenttag_changelist"), HTTP_ACCEPT_LANGUAGE="zh-hans"
    ).content.decode()
    assert "重病患者" in page and "需要定期探访" in page
    assert "社区工作人员、网格员" in page
    assert "所有角色" in page
    assert "serious_illness" not in page and "community_staff" not in page


def test_audit_page_shows_the_changes_under_chinese_field_names(client, street_staff):
    tag = _create(street_staff)
    services.resident_tag_update(
        actor=street_staff, tag_id=tag.pk, name="独居老人(80+)", visible_to_roles=[]
    )
    entry = audit_history(tag).first()
    client.force_login(street_staff)
    page = client.get(
        reverse("admin:grids_auditentry_change", args=[entry.pk]),
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    ).content.decode()
    assert "名称：独居老人 → 独居老人(80+)" in page
    assert '"name"' not in page
