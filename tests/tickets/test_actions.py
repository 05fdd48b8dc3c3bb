"""The action registry (``tickets.actions``): one entry per staff action of the
transition table, and the one code path the admin, phone pages and API share."""

import dataclasses

import pytest
from django.urls import reverse

from tests.tickets.factories import walk_to
from tickets import actions, admin, permissions
from tickets.choices import TRANSITIONS, Action, Stage

pytestmark = pytest.mark.django_db

# Outcomes no staff member picks from a menu: 返工 follows a 不满意 verdict,
# 未评价 is set by the job when the wait is over.
NOT_STAFF_ACTIONS = {Action.REWORK, Action.UNEVALUATED}


def test_every_staff_action_of_the_transition_table_has_one_entry():
    assert set(actions.SPECS) == set(TRANSITIONS) - NOT_STAFF_ACTIONS
    assert set(actions.SPECS) == set(permissions.ACTION_CHECKS)
    for action, spec in actions.SPECS.items():
        assert spec.action == action
        assert spec.to_stage == TRANSITIONS[action][1]
        assert str(spec.label) and str(spec.success_message)


def test_the_admin_does_not_restate_the_actions():
    for name in ("ACTION_FORMS", "ACTION_LABELS", "_run_action", "_page_actions"):
        assert not hasattr(admin, name)


def test_available_follows_the_permission_table(lifecycle):
    ticket = walk_to(Stage.DISPATCHED, **lifecycle)
    offered = [
        s.action for s in actions.available(lifecycle["community_staff"], ticket)
    ]
    assert offered == [Action.ACCEPT, Action.RETURN]
    assert actions.available(lifecycle["handler"], ticket) == []


def test_run_calls_the_service(lifecycle):
    ticket = walk_to(Stage.DISPATCHED, **lifecycle)
    _form, done = actions.submit(
        Action.ACCEPT,
        actor=lifecycle["community_staff"],
        ticket=ticket,
        data={"handler": lifecycle["handler"].pk},
    )
    assert done.stage == Stage.ACCEPTED and done.handler == lifecycle["handler"]


def test_an_invalid_form_runs_nothing(lifecycle):
    ticket = walk_to(Stage.DISPATCHED, **lifecycle)
    form, done = actions.submit(
        Action.RETURN, actor=lifecycle["community_staff"], ticket=ticket, data={}
    )
    assert done is None and "reason" in form.errors
    ticket.refresh_from_db()
    assert ticket.stage == Stage.DISPATCHED


def test_unknown_action_is_a_domain_error(lifecycle):
    from grids.errors import DomainError

    with pytest.raises(DomainError):
        actions.run("fly", actor=lifecycle["street_staff"], ticket_id=1, data={})


def test_the_admin_page_goes_through_the_registry(client, lifecycle, monkeypatch):
    ticket = walk_to(Stage.DISPATCHED, **lifecycle)
    calls = []
    spec = actions.SPECS[Action.RETURN]

    def recording(**kwargs):
        calls.append(kwargs)
        return spec.call(**kwargs)

    monkeypatch.setitem(
        actions.SPECS, Action.RETURN, dataclasses.replace(spec, call=recording)
    )
    client.force_login(lifecycle["community_staff"])
    response = client.post(
        reverse("admin:tickets_ticket_action", args=[ticket.pk, Action.RETURN]),
        {"return-reason": "不属本社区"},
    )
    assert response.status_code == 302
    assert [c["data"]["reason"] for c in calls] == ["不属本社区"]
    ticket.refresh_from_db()
    assert ticket.stage == Stage.TRIAGED
