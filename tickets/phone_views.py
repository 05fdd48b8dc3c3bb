"""The phone pages of the tickets app (/m/tickets/): my tickets (list with the
shared filters, detail with timeline, countdown, photos and the actions allowed
now) and reporting an event found on patrol.

Reads go through ``selectors`` (scoped: another area's ticket is a 404), the
actions through the shared action layer ``actions`` (the same forms and
services as the admin), writes once per idempotency key (``grids.phone``).
"""

from django.contrib import messages
from django.db.models import Count, Q
from django.http import Http404, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from grids.errors import DomainError
from grids.params import parse_id
from grids.phone import phone_login_required, run_form

from . import actions, permissions, selectors, services
from .choices import OPEN_STAGES, Action, Source, Stage
from .filters import YES
from .models import Category, Ticket
from .phone_forms import ReportEventForm

PAGE_SIZE = 20
# The actions a phone offers: the field's (接单, 退单, 做单, 上报, 评单). 制单,
# 派单, 合并 and 考单 are desk work at the centre, in the admin.
PHONE_ACTIONS = {
    Action.ACCEPT,
    Action.RETURN,
    Action.HANDLE,
    Action.REPORT_UP,
    Action.EVALUATE,
}
# The list's quick filters (parameters of filters.TicketFilterSet).
QUICK_FILTERS = ("overdue", "due_today")
OPEN_STAGE_LIST = [stage for stage in Stage if stage in OPEN_STAGES]
CLOSED_STAGES = [stage for stage in Stage if stage not in OPEN_STAGES]


def _list_filters(request) -> tuple[QueryDict, dict]:
    """The FilterSet parameters of the list and what the page shows as chosen."""
    params = QueryDict(mutable=True)
    chosen = {"stage": "", "quick": ""}
    stage = request.GET.get("stage", "")
    if stage in Stage.values:
        params["stage"] = stage
        chosen["stage"] = stage
    for name in QUICK_FILTERS:
        if request.GET.get(name) == YES:
            params[name] = YES
            chosen["quick"] = name
    search = request.GET.get("q", "").strip()[:100]
    if search:
        params["q"] = search
    chosen["q"] = search
    return params, chosen


@require_GET
@phone_login_required
def ticket_list(request):
    """My tickets: those in my grids or handled by me (the scope rule), newest
    first, a page at a time without counting them all."""
    params, chosen = _list_filters(request)
    page_number = max(1, parse_id(request.GET.get("page", "1")) or 1)
    start = (page_number - 1) * PAGE_SIZE
    tickets_qs = selectors.ticket_list(actor=request.user, filters=params)
    if not chosen["stage"]:
        # Open ones only, as NOT IN: the few rows in scope are filtered after the
        # scope's index scans instead of reading a bitmap of most of the table.
        tickets_qs = tickets_qs.exclude(stage__in=CLOSED_STAGES)
    rows = list(
        tickets_qs.only(
            "pk",
            "number",
            "stage",
            "stage_deadline",
            "description",
            "received_at",
            "category__name",
            "region__name",
            "handling_region__name",
            "handling_department__name",
            "handler__username",
            "handler__first_name",
            "handler__last_name",
        )[start : start + PAGE_SIZE + 1]
    )
    now = timezone.now()
    # One reverse() for the page, not one per row.
    detail_url = reverse("m:tickets:detail", args=[987654321]).replace(
        "987654321", "{pk}"
    )
    tickets = [
        {
            "ticket": t,
            "url": detail_url.format(pk=t.pk),
            "overdue": selectors.time_left(t, now)[1],
        }
        for t in rows[:PAGE_SIZE]
    ]
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "tickets/m/ticket_list.html",
        {
            "tickets": tickets,
            "stages": OPEN_STAGE_LIST,
            "chosen": chosen,
            "page_number": page_number,
            "has_next": len(rows) > PAGE_SIZE,
            "query": query.urlencode(),
        },
    )


def _phone_actions(user, ticket) -> list:
    """The phone's actions allowed now on ``ticket`` (from the action layer)."""
    return [
        spec for spec in actions.available(user, ticket) if spec.action in PHONE_ACTIONS
    ]


def _ticket_or_404(request, ticket_id: int) -> Ticket:
    try:
        return selectors.ticket_detail(actor=request.user, ticket_id=ticket_id)
    except DomainError:
        raise Http404 from None


@require_GET
@phone_login_required
def ticket_detail(request, ticket_id: int):
    """Facts, the deadline countdown in working time, the timeline with photos,
    and a button for each action allowed now (each opens its short form)."""
    ticket = _ticket_or_404(request, ticket_id)
    left = selectors.working_time_left(ticket)
    _left, overdue = selectors.time_left(ticket)
    return render(
        request,
        "tickets/m/ticket_detail.html",
        {
            "ticket": ticket,
            "timeline": selectors.ticket_timeline(ticket=ticket),
            "working_hours_left": round(abs(left.total_seconds()) / 3600, 1)
            if left is not None
            else None,
            "overdue": overdue,
            "offered": _phone_actions(request.user, ticket),
            "topic_link": selectors.topic_link(ticket=ticket, user=request.user),
        },
    )


@phone_login_required
def ticket_act(request, ticket_id: int, action: str):
    """One action (接单, 退单, 做单, 上报, 评单) on its own short page: the shared
    action layer's form, posted to the service behind it. Refused by the
    service (e.g. another worker accepted it a second earlier): its message, and
    the form again with what was typed."""
    ticket = _ticket_or_404(request, ticket_id)
    if action not in PHONE_ACTIONS:
        raise Http404
    spec = actions.spec_of(action)
    status = 200
    if request.method == "POST":
        form = actions.form_for(
            action,
            user=request.user,
            ticket=ticket,
            data=request.POST,
            files=request.FILES,
        )
        if form.is_valid():
            detail_url = reverse("m:tickets:detail", args=[ticket.pk])

            def run() -> str:
                actions.run(
                    action,
                    actor=request.user,
                    ticket_id=ticket.pk,
                    data=form.cleaned_data,
                )
                return detail_url

            response = run_form(
                request,
                scope=f"tickets:{action}:{ticket.pk}",
                run=run,
                success_message=spec.success_message,
            )
            if response is not None:
                return response
        status = 400
    elif action not in {s.action for s in _phone_actions(request.user, ticket)}:
        messages.info(request, _("This step is not yours to take now."))
        return redirect("m:tickets:detail", ticket_id=ticket.pk)
    else:
        form = actions.form_for(action, user=request.user, ticket=ticket)
    return render(
        request,
        "tickets/m/ticket_act.html",
        {
            "ticket": ticket,
            "spec": spec,
            "form": form,
            "multipart": form.is_multipart(),
        },
        status=status,
    )


# --- report an event (制单 entry point from patrol findings) -----------------------


def _category_choices(user, search: str = "", limit: int = 30) -> list[Category]:
    """Active categories, those I reported most in the last 90 days first, then
    by name; narrowed by ``search``. Two queries."""
    since = timezone.now() - timezone.timedelta(days=90)
    mine = dict(
        Ticket.objects.filter(created_by=user, received_at__gte=since)
        .exclude(category=None)
        .values_list("category")
        .annotate(n=Count("pk"))
        .order_by("-n")
        .values_list("category", "n")[:10]
    )
    qs = Category.objects.filter(is_active=True).select_related("parent")
    if search:
        qs = qs.filter(Q(name__icontains=search) | Q(parent__name__icontains=search))
    else:
        qs = qs.filter(children__isnull=True)
    rows = list(qs.order_by("tree_id", "lft")[:200])
    rows.sort(key=lambda c: -mine.get(c.pk, 0))
    return rows[:limit]


def _report_context(request, form) -> dict:
    search = request.GET.get("category_q", "").strip()[:50]
    categories = _category_choices(request.user, search)
    chosen = form["category"].value() if form.is_bound else None
    chosen_id = parse_id(chosen) if chosen else None
    if chosen_id and all(c.pk != chosen_id for c in categories):
        extra = Category.objects.filter(pk=chosen_id, is_active=True).first()
        if extra is not None:
            categories.insert(0, extra)
    return {"form": form, "categories": categories, "chosen_category": chosen_id}


@phone_login_required
def report_event(request):
    if not permissions.can_create(request.user):
        raise Http404
    if request.method == "POST":
        form = ReportEventForm(request.POST, request.FILES, user=request.user)
        if form.is_valid():
            data = form.cleaned_data

            def run() -> str:
                ticket = services.ticket_create(
                    actor=request.user,
                    source=Source.PATROL,
                    region=data["region"],
                    category=data["category"],
                    description=data["description"],
                    address=data["address"],
                    latitude=data["latitude"],
                    longitude=data["longitude"],
                    photos=data["photos"],
                )
                return reverse("m:tickets:detail", args=[ticket.pk])

            response = run_form(
                request,
                scope="tickets:report",
                run=run,
                success_message=_(
                    "Reported; the street's centre will triage it. Number below."
                ),
            )
            if response is not None:
                return response
        status = 400
    else:
        form = ReportEventForm(user=request.user)
        status = 200
    return render(
        request, "tickets/m/report.html", _report_context(request, form), status=status
    )


@require_GET
@phone_login_required
def report_categories(request):
    """htmx partial: the category choices matching ``category_q``."""
    if not permissions.can_create(request.user):
        raise Http404
    search = request.GET.get("category_q", "").strip()[:50]
    return render(
        request,
        "tickets/m/_categories.html",
        {
            "categories": _category_choices(request.user, search),
            "chosen_category": parse_id(request.GET.get("category", "")),
        },
    )


@require_GET
@phone_login_required
def report_duplicates(request):
    """htmx partial: open tickets likely the same (same grid and category, near,
    recent), shown before the report is sent."""
    if not permissions.can_create(request.user):
        raise Http404
    form = ReportEventForm(request.GET, user=request.user)
    form.is_valid()  # only the place, category and location are used
    data = form.cleaned_data
    duplicates = []
    if data.get("region") is not None:
        probe = Ticket(
            region=data["region"],
            category=data.get("category"),
            latitude=data.get("latitude"),
            longitude=data.get("longitude"),
            received_at=timezone.now(),
        )
        likely = services.ticket_likely_duplicates(ticket=probe)
        visible = set(
            Ticket.objects.visible_to(request.user)
            .filter(pk__in=[t.pk for t in likely])
            .values_list("pk", flat=True)
        )
        duplicates = [t for t in likely if t.pk in visible][:5]
    return render(request, "tickets/m/_duplicates.html", {"duplicates": duplicates})
