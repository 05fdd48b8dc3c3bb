"""The staff actions on a ticket, in one registry for every front end (the admin
ticket page, the phone pages, the API).

For each stage-changing action a staff user takes (the keys of
``permissions.ACTION_CHECKS``, each a transition of ``choices.TRANSITIONS``):
the form that collects its input, the service it calls, its label and its
success message. A front end asks ``available`` what to offer, builds the form
with ``form_for`` and calls ``run`` (or ``submit``, which does both); none of
them states again which actions exist or which service is behind one.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from grids.errors import DomainError

from . import forms, permissions, services
from .choices import TRANSITIONS, Action
from .models import Ticket


@dataclass(frozen=True)
class ActionSpec:
    action: str
    form_class: type
    # (actor, ticket_id, cleaned data) -> the ticket after the service ran.
    call: Callable[..., Ticket]
    label: Promise
    success_message: Promise

    @property
    def to_stage(self) -> str:
        return TRANSITIONS[self.action][1]


def _triage(*, actor, ticket_id, data) -> Ticket:
    common = {
        "actor": actor,
        "ticket_id": ticket_id,
        "category": data["category"],
        "region": data["region"],
        "responsible_leader": data["responsible_leader"],
        "deadline_class": data.get("deadline_class") or None,
    }
    if data.get("handling_region") or data.get("handling_department"):
        # 制单 + 派单 in one step: the service allows it to the leader only.
        return services.ticket_triage_and_dispatch(
            **common,
            handling_region=data.get("handling_region"),
            handling_department=data.get("handling_department"),
            instructions=data.get("instructions", ""),
        )
    return services.ticket_triage(**common)


def _dispatch(*, actor, ticket_id, data) -> Ticket:
    return services.ticket_dispatch(
        actor=actor,
        ticket_id=ticket_id,
        handling_region=data.get("handling_region"),
        handling_department=data.get("handling_department"),
        instructions=data.get("instructions", ""),
    )


def _accept(*, actor, ticket_id, data) -> Ticket:
    return services.ticket_accept(
        actor=actor,
        ticket_id=ticket_id,
        handler=data["handler"],
        note=data.get("note", ""),
    )


def _return(*, actor, ticket_id, data) -> Ticket:
    return services.ticket_return(
        actor=actor, ticket_id=ticket_id, reason=data["reason"]
    )


def _handle(*, actor, ticket_id, data) -> Ticket:
    return services.ticket_handle(
        actor=actor,
        ticket_id=ticket_id,
        cause=data.get("cause", ""),
        crux=data.get("crux", ""),
        measures=data.get("measures", ""),
        result=data["result"],
        photos=data.get("photos") or [],
    )


def _report_up(*, actor, ticket_id, data) -> Ticket:
    return services.ticket_report_up(
        actor=actor, ticket_id=ticket_id, reason=data["reason"]
    )


def _phone_verdict(*, actor, ticket_id, data) -> Ticket:
    return services.ticket_record_phone_verdict(
        actor=actor,
        ticket_id=ticket_id,
        verdict=data["verdict"],
        call_note=data["call_note"],
        reporter_phone=data.get("reporter_phone") or None,
        comment=data.get("comment", ""),
    )


def _assess(*, actor, ticket_id, data) -> Ticket:
    return services.ticket_assess(
        actor=actor,
        ticket_id=ticket_id,
        satisfaction_score=data["satisfaction_score"],
        timeliness_score=data["timeliness_score"],
        effect_score=data["effect_score"],
        note=data.get("note", ""),
    )


def _merge(*, actor, ticket_id, data) -> Ticket:
    return services.ticket_merge(
        actor=actor,
        ticket_id=ticket_id,
        into_id=data["into"],
        note=data.get("note", ""),
    )


SPECS: dict[str, ActionSpec] = {
    spec.action: spec
    for spec in (
        ActionSpec(
            Action.TRIAGE,  # 制单
            forms.TriageForm,
            _triage,
            gettext_lazy("Triage and name the responsible leader"),
            gettext_lazy("Triaged; the responsible leader has been told."),
        ),
        ActionSpec(
            Action.DISPATCH,  # 派单
            forms.DispatchForm,
            _dispatch,
            gettext_lazy("Dispatch with handling instructions"),
            gettext_lazy("Dispatched; the handling unit has been told."),
        ),
        ActionSpec(
            Action.ACCEPT,  # 接单
            forms.AcceptForm,
            _accept,
            gettext_lazy("Accept and name the handler"),
            gettext_lazy("Accepted; the handler has been told."),
        ),
        ActionSpec(
            Action.RETURN,  # 退单
            forms.ReasonForm,
            _return,
            gettext_lazy("Return to the centre"),
            gettext_lazy("Returned to the centre."),
        ),
        ActionSpec(
            Action.HANDLE,  # 做单
            forms.HandleForm,
            _handle,
            gettext_lazy("Record the handling"),
            gettext_lazy("Handling recorded; the ticket waits for the verdict."),
        ),
        ActionSpec(
            Action.REPORT_UP,  # 上报
            forms.ReasonForm,
            _report_up,
            gettext_lazy("Report up one level"),
            gettext_lazy("Reported up one level."),
        ),
        ActionSpec(
            Action.EVALUATE,  # 评单 (电话回访)
            forms.PhoneVerdictForm,
            _phone_verdict,
            gettext_lazy("Record the reporter's verdict (phone)"),
            gettext_lazy("Verdict recorded."),
        ),
        ActionSpec(
            Action.ASSESS,  # 考单
            forms.AssessForm,
            _assess,
            gettext_lazy("Assess and close"),
            gettext_lazy("Assessed and closed."),
        ),
        ActionSpec(
            Action.MERGE,  # 合并
            forms.MergeForm,
            _merge,
            gettext_lazy("Merge into another ticket"),
            gettext_lazy("Merged into the other ticket."),
        ),
    )
}

# The registry covers exactly the actions the permission table guards.
if set(SPECS) != set(permissions.ACTION_CHECKS) or not set(SPECS) <= set(TRANSITIONS):
    raise ImproperlyConfigured(
        "tickets.actions.SPECS must cover permissions.ACTION_CHECKS exactly."
    )


def spec_of(action: str) -> ActionSpec:
    try:
        return SPECS[action]
    except KeyError:
        raise DomainError(_("Unknown action."), code="unknown_action") from None


def available(user, ticket) -> list[ActionSpec]:
    """What ``user`` may do with ``ticket`` now, in the table's order."""
    return [SPECS[a] for a in permissions.available_actions(user, ticket)]


def form_for(action, *, user, ticket, data=None, files=None, prefix=None):
    """The (bound, with ``data``) form of ``action`` for this user and ticket."""
    form_class = spec_of(action).form_class
    if data is None:
        return form_class(user=user, ticket=ticket, prefix=prefix)
    return form_class(data, files, user=user, ticket=ticket, prefix=prefix)


def run(action, *, actor, ticket_id: int, data: dict) -> Ticket:
    """Call the service behind ``action`` with a valid form's cleaned data; the
    service checks stage, role and scope after locking and raises DomainError."""
    return spec_of(action).call(actor=actor, ticket_id=ticket_id, data=data)


def submit(action, *, actor, ticket, data, files=None, prefix=None):
    """Validate and run: ``(form, ticket)``, the ticket None when the form is
    invalid. A refusal by the service propagates as DomainError."""
    form = form_for(
        action, user=actor, ticket=ticket, data=data, files=files, prefix=prefix
    )
    if not form.is_valid():
        return form, None
    return form, run(action, actor=actor, ticket_id=ticket.pk, data=form.cleaned_data)
