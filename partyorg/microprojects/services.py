"""Writes of 民生微实事: propose, then the steps of ``PROJECT_TRANSITIONS`` (each
locks the row, checks scope, the actor's right and the state after the lock,
saves and writes one event), and milestones while the work runs."""

from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from grids.choices import RegionLevel
from grids.errors import Conflict, DomainError
from grids.models import Region
from grids.permissions import require, require_in_scope
from grids.photos import photo_from_upload
from grids.services import lock_in_scope

from ..deliberation.choices import PUBLIC_STEPS
from ..deliberation.models import Topic
from .choices import PROJECT_TRANSITIONS, ProjectAction, ProjectState
from .models import MicroProject, MicroProjectEvent, MicroProjectMilestone
from .permissions import can_propose, can_record_milestone, can_take_step

MAX_AMOUNT = Decimal("9999999999.99")


def _amount(value, *, code) -> Decimal:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        amount = None
    if amount is None or not amount.is_finite() or not 0 <= amount <= MAX_AMOUNT:
        raise DomainError(_("Give an amount in yuan."), code=code)
    return amount.quantize(Decimal("0.01"))


def _published_topic(actor, topic) -> Topic:
    """A topic whose outcome is published (a public step recorded), in the
    actor's area: the origin of a micro-project."""
    topic = (
        Topic.objects.select_related("region")
        .filter(pk=getattr(topic, "pk", topic))
        .first()
    )
    require_in_scope(actor, topic.region if topic is not None else None)
    if not topic.records.filter(step__in=PUBLIC_STEPS).exists():
        raise DomainError(
            _("A micro-project comes from a topic's published outcome."),
            code="topic_not_published",
        )
    return topic


def micro_project_propose(
    *,
    actor,
    region: Region | None = None,
    title: str,
    description: str,
    proposed_by_name="",
    topic=None,
) -> MicroProject:
    """群众点单: staff or a grid worker record a resident's proposal, in their
    community or one of its grids (the project belongs to the community); or
    a deliberation topic's published outcome becomes a project (``topic``, in
    the topic's community; ``region`` defaults to the topic's)."""
    require(can_propose(actor))
    title, description = (title or "").strip(), (description or "").strip()
    if not title or not description:
        raise DomainError(_("Give a title and a description."), code="empty")
    with transaction.atomic():
        if topic is not None:
            topic = _published_topic(actor, topic)
            region = region if region is not None else topic.region
        region = Region.objects.filter(pk=getattr(region, "pk", None)).first()
        require_in_scope(actor, region)
        community = region.ancestor_of_level(RegionLevel.COMMUNITY)
        if community is None:
            raise DomainError(
                _("A micro-project belongs to a community."), code="bad_region"
            )
        if topic is not None and topic.community_id != community.pk:
            raise DomainError(
                _("The topic does not lie in this community."),
                code="topic_elsewhere",
            )
        now = timezone.now()
        project = MicroProject.objects.create(
            community=community,
            topic=topic,
            title=title[:200],
            description=description,
            proposed_by_name=(proposed_by_name or "").strip()[:50],
            created_at=now,
        )
        MicroProjectEvent.objects.create(
            project=project,
            action=ProjectAction.PROPOSE,
            to_state=ProjectState.PROPOSED,
            actor=actor,
            created_at=now,
        )
    return project


def _take_step(*, actor, project_id: int, action, note: str = "", **changes):
    with transaction.atomic():
        project = lock_in_scope(
            MicroProject.objects.select_related("community"),
            project_id,
            actor=actor,
            region_of=lambda project: project.community,
        )
        require(can_take_step(actor, action))
        from_states, to_state = PROJECT_TRANSITIONS[action]
        if project.state not in from_states:
            raise Conflict(
                _("A %(from)s project cannot become %(to)s.")
                % {
                    "from": ProjectState(project.state).label,
                    "to": ProjectState(to_state).label,
                },
                code="illegal_transition",
            )
        if action == ProjectAction.ACCEPT and changes["spent"] > project.budget:
            raise DomainError(
                _("The money spent exceeds the approved budget."),
                code="over_budget",
            )
        from_state = project.state
        project.state = to_state
        for field, value in changes.items():
            setattr(project, field, value)
        project.save(update_fields=["state", *changes])
        MicroProjectEvent.objects.create(
            project=project,
            action=action,
            from_state=from_state,
            to_state=to_state,
            actor=actor,
            note=(note or "").strip(),
            created_at=timezone.now(),
        )
    return project


def micro_project_screen(*, actor, project_id: int, note: str = "") -> MicroProject:
    return _take_step(
        actor=actor, project_id=project_id, action=ProjectAction.SCREEN, note=note
    )


def micro_project_reject(*, actor, project_id: int, reason: str) -> MicroProject:
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Say why the project is refused."), code="no_reason")
    return _take_step(
        actor=actor,
        project_id=project_id,
        action=ProjectAction.REJECT,
        note=reason,
        reject_reason=reason,
    )


def micro_project_approve(*, actor, project_id: int, budget) -> MicroProject:
    budget = _amount(budget, code="bad_budget")
    if budget <= 0:
        raise DomainError(_("Give an amount in yuan."), code="bad_budget")
    return _take_step(
        actor=actor, project_id=project_id, action=ProjectAction.APPROVE, budget=budget
    )


def micro_project_start(*, actor, project_id: int) -> MicroProject:
    return _take_step(actor=actor, project_id=project_id, action=ProjectAction.START)


def micro_project_accept(*, actor, project_id: int, spent, result: str) -> MicroProject:
    """验收: the street accepts the work, with the money spent and the result
    published on the community's public page."""
    result = (result or "").strip()
    if not result:
        raise DomainError(_("Describe the result."), code="no_result")
    return _take_step(
        actor=actor,
        project_id=project_id,
        action=ProjectAction.ACCEPT,
        spent=_amount(spent, code="bad_spent"),
        result=result,
        accepted_at=timezone.now(),
    )


STEP_SERVICES = {
    ProjectAction.SCREEN: micro_project_screen,
    ProjectAction.REJECT: micro_project_reject,
    ProjectAction.APPROVE: micro_project_approve,
    ProjectAction.START: micro_project_start,
    ProjectAction.ACCEPT: micro_project_accept,
}


def micro_project_step(*, actor, project_id: int, action, **data) -> MicroProject:
    """Take one step by its name (the phone page's step forms): ``data`` are
    the step's own arguments (a note, reason, budget, or money spent and
    result)."""
    return STEP_SERVICES[ProjectAction(action)](
        actor=actor, project_id=project_id, **data
    )


def micro_project_milestone_add(
    *, actor, project_id: int, note: str, photo=None
) -> MicroProjectMilestone:
    """A milestone of the running work, with an optional photo (checked and
    re-encoded by ``grids.photos``): community (and street) staff."""
    require(can_record_milestone(actor))
    note = (note or "").strip()
    if not note:
        raise DomainError(_("Say what was done."), code="no_note")
    stored = photo_from_upload(photo) if photo else None
    with transaction.atomic():
        project = lock_in_scope(
            MicroProject.objects.select_related("community"),
            project_id,
            actor=actor,
            region_of=lambda project: project.community,
        )
        if project.state != ProjectState.IN_PROGRESS:
            raise Conflict(
                _("Milestones are recorded while the work is in progress."),
                code="not_in_progress",
            )
        milestone = MicroProjectMilestone(
            project=project,
            note=note,
            recorded_by=actor,
            recorded_at=timezone.now(),
        )
        if stored is not None:
            milestone.photo = stored.content
        milestone.save()
    return milestone
