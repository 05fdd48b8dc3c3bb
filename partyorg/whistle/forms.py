"""Forms of 吹哨报到: the choices offered are only what the user may pick; the
service checks everything again (scope, serving departments, 双报到)."""

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from grids.choices import GRID_LEVELS, RegionLevel
from grids.querysets import ancestors_or_self_q, scope_q
from grids.selectors import region_list
from tickets.models import Department

from ..deliberation.choices import TopicState
from ..deliberation.selectors import topic_list
from ..models import PartyMember
from .services import MAX_REPORT_MINUTES, MIN_REPORT_MINUTES


def _registered_near(user) -> Q:
    """Members registered at a community in the user's area or above their
    node (a grid worker's community): the ones a whistle of theirs may call."""
    path = "registrations__community"
    if user.is_superuser or getattr(user, "scope_region", None) is None:
        return scope_q(user, path)
    return scope_q(user, path) | ancestors_or_self_q(user.scope_region, path)


class WhistleBlowForm(forms.Form):
    region = forms.ModelChoiceField(label=_("place (grid or community)"), queryset=None)
    title = forms.CharField(label=_("matter"), max_length=200)
    meeting_point = forms.CharField(label=_("meeting point"), max_length=200)
    report_within_minutes = forms.IntegerField(
        label=_("report on site within (minutes)"),
        min_value=MIN_REPORT_MINUTES,
        max_value=MAX_REPORT_MINUTES,
        initial=30,
    )
    departments = forms.ModelMultipleChoiceField(
        label=_("departments"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    members = forms.ModelMultipleChoiceField(
        label=_("in-service party members"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    note = forms.CharField(
        label=_("note"), required=False, max_length=2000, widget=forms.Textarea
    )
    # Blown from a deliberation topic's page (``?topic=``): an admitted topic of
    # the user's area; the service checks its community again.
    topic = forms.ModelChoiceField(
        label=_("topic"), queryset=None, required=False, widget=forms.HiddenInput
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["topic"].queryset = topic_list(actor=user).filter(
            state__in=(TopicState.IN_PROGRESS, TopicState.CONCLUDED)
        )
        self.fields["region"].queryset = region_list(
            actor=user, levels=(*GRID_LEVELS, RegionLevel.COMMUNITY)
        ).filter(is_active=True)
        self.fields["departments"].queryset = (
            Department.objects.active().dispatchable_by(user).order_by("name")
        )
        members = (
            PartyMember.objects.filter(
                _registered_near(user),
                is_active=True,
                is_in_service=True,
                registrations__is_active=True,
            )
            .distinct()
            .order_by("name", "id")
        )
        self.fields["members"].queryset = members
        # Names are personal data: masked in the choice labels.
        self.fields["members"].label_from_instance = lambda m: (
            f"{m.masked_name} · {m.employer}"
        )
