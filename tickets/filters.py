"""The ticket filters, once, for every list: the admin lists, the phone "my
tickets" page and the API all filter through ``TicketFilterSet``.

Scope comes first: the FilterSet only narrows a queryset already scoped by
``Ticket.objects.visible_to(actor)``. A malformed value is a form error; through
``filter_tickets`` it gives an empty list, never a 500 and never the unfiltered
list.
"""

import datetime as dt

import django_filters
from django.db.models import Q
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from grids.filters import IdChoiceField
from grids.models import Region
from grids.querysets import subtree_q

from .choices import Source, Stage, Verdict
from .models import Category, Ticket
from .places import PLACE_COLUMNS

YES, NO = "yes", "no"
YES_NO = [(YES, _("yes")), (NO, _("no"))]


class SubtreeFilter(django_filters.ModelChoiceFilter):
    """A node and everything under it (MPTT range on ``field_name``); on the
    place, a node of a scope level is its scope column (``tickets.places``: one
    indexed equality, the same rows)."""

    field_class = IdChoiceField

    def filter(self, qs, value):
        if value is None:
            return qs
        if self.field_name == "region" and value.level in PLACE_COLUMNS:
            return qs.filter(**{PLACE_COLUMNS[value.level]: value.pk})
        return qs.filter(subtree_q(value, self.field_name))


class YesNoFilter(django_filters.ChoiceFilter):
    """``yes`` keeps the rows matching ``condition(filterset)``, ``no`` the others."""

    def __init__(self, *args, condition, **kwargs):
        kwargs.setdefault("choices", YES_NO)
        super().__init__(*args, **kwargs)
        self.condition = condition

    def filter(self, qs, value):
        if value == YES:
            return qs.filter(self.condition(self.parent))
        if value == NO:
            return qs.exclude(self.condition(self.parent))
        return qs


def _today_bounds():
    today = timezone.localdate()
    start = timezone.make_aware(dt.datetime.combine(today, dt.time.min))
    return start, start + dt.timedelta(days=1)


def _due_today_q(filterset) -> Q:
    from .querysets import open_deadline_q

    start, end = _today_bounds()
    return open_deadline_q() & Q(stage_deadline__gte=start, stage_deadline__lt=end)


def _due_soon_q(filterset) -> Q:
    """Reminded of (``tickets_send_reminders``) and not yet past the deadline:
    the list a reminder digest links to."""
    from django.db.models import F

    from .querysets import open_deadline_q

    return open_deadline_q() & Q(
        reminded_for_deadline=F("stage_deadline"), stage_deadline__gte=timezone.now()
    )


def _overdue_q(filterset) -> Q:
    from .querysets import overdue_q

    return overdue_q()


class TicketFilterSet(django_filters.FilterSet):
    mine = YesNoFilter(
        label=_("handled by me"), condition=lambda fs: Q(handler=fs.actor)
    )
    to_dispatch_by_me = YesNoFilter(
        label=_("to dispatch by me"),
        condition=lambda fs: Q(stage=Stage.TRIAGED, responsible_leader=fs.actor),
    )
    region = SubtreeFilter(
        field_name="region",
        label=_("region (with everything under it)"),
        queryset=Region.objects.none(),
    )
    holder_region = SubtreeFilter(
        field_name="holder_region",
        label=_("held at (with everything under it)"),
        queryset=Region.objects.none(),
    )
    due_today = YesNoFilter(label=_("due today"), condition=_due_today_q)
    due_soon = YesNoFilter(label=_("due soon (reminded)"), condition=_due_soon_q)
    overdue = YesNoFilter(label=_("overdue"), condition=_overdue_q)
    escalated = YesNoFilter(
        label=_("escalated"), condition=lambda fs: Q(escalation_level__gt=0)
    )
    # A column of the ticket: no join, so no duplicate rows, so no DISTINCT
    # (django-filter's default, which made PostgreSQL sort the whole match).
    stage = django_filters.MultipleChoiceFilter(
        label=_("stage"), choices=Stage.choices, distinct=False
    )
    category = SubtreeFilter(
        field_name="category",
        label=_("category"),
        queryset=Category.objects.all(),
    )
    source = django_filters.ChoiceFilter(label=_("source"), choices=Source.choices)
    verdict = django_filters.ChoiceFilter(label=_("verdict"), choices=Verdict.choices)
    q = django_filters.CharFilter(label=_("search"), method="search", max_length=100)

    class Meta:
        model = Ticket
        fields = []

    def __init__(self, data=None, queryset=None, *, actor, request=None, prefix=None):
        if queryset is None:
            queryset = Ticket.objects.visible_to(actor)
        super().__init__(data, queryset, request=request, prefix=prefix)
        self.actor = actor
        regions = Region.objects.visible_to(actor)
        for name in ("region", "holder_region"):
            self.filters[name].queryset = regions

    def search(self, qs, name, value):
        """Our number, the 12345 number, the description, the address."""
        value = value.strip()
        if not value:
            return qs
        return qs.filter(
            Q(number__icontains=value)
            | Q(hotline_number__icontains=value)
            | Q(description__icontains=value)
            | Q(address__icontains=value)
        )


def as_query(filters) -> QueryDict | None:
    """``filters`` as form data: a QueryDict as is; a dict of Python values
    (True/False for yes/no, ids, lists for several stages) converted."""
    if filters is None or isinstance(filters, QueryDict):
        return filters or None
    data = QueryDict(mutable=True)
    for key, value in filters.items():
        if value is None or value == "":
            continue
        if isinstance(value, bool):
            value = YES if value else NO
        values = value if isinstance(value, list | tuple | set) else [value]
        data.setlist(key, [str(getattr(v, "pk", v)) for v in values])
    return data or None


def filter_tickets(*, actor, filters=None, queryset=None):
    """The tickets in ``queryset`` (default: all the actor may see) that pass
    ``filters``; nothing when a filter value is malformed."""
    filterset = TicketFilterSet(as_query(filters), queryset, actor=actor)
    if filterset.is_bound and not filterset.is_valid():
        return filterset.queryset.none()
    return filterset.qs
