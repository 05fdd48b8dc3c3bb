"""Forms of the points app: the grid worker's proposal, the ledger export, the
reasons staff give when rejecting or cancelling."""

import uuid

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from grids.choices import RegionLevel
from grids.models import Region, Resident
from grids.selectors import region_list

from .models import RuleItem
from .services.awards import deed_date_window


class AwardProposalForm(forms.Form):
    """积分申报: a grid worker proposes points for a resident's deed."""

    # Picked by a search on the phone (name, building, room), not from a list of
    # every resident: ``phone_views.resident_search``.
    resident = forms.ModelChoiceField(
        label=_("Resident"), queryset=Resident.objects, widget=forms.RadioSelect
    )
    rule_item = forms.ModelChoiceField(label=_("Rule item"), queryset=RuleItem.objects)
    awarded_on = forms.DateField(
        label=_("Date of the deed"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    photo = forms.FileField(
        label=_("Photo"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/*"}),
    )
    # Generated when the form is shown: submitting the same form twice (a double
    # tap, a retry on a bad connection) makes one proposal.
    idempotency_key = forms.CharField(
        label=_("idempotency key"), widget=forms.HiddenInput, max_length=64
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        today = timezone.localdate()
        self.fields["resident"].queryset = (
            Resident.objects.visible_to(user)
            .active()
            .select_related("household")
            .order_by("household__address", "name")
        )
        self.fields["resident"].label_from_instance = lambda r: (
            f"{r.name} · {r.household.address}"
        )
        self.fields["rule_item"].queryset = (
            RuleItem.objects.active_on(today)
            .select_related("category")
            .order_by("category__sort_order", "code")
        )
        self.fields["rule_item"].label_from_instance = lambda i: (
            f"{i.category.name} · {i.name} (+{i.points})"
        )
        # The service refuses dates outside the window; the picker offers only those.
        earliest, latest = deed_date_window()
        self.fields["awarded_on"].widget.attrs.update(
            min=earliest.isoformat(), max=latest.isoformat()
        )
        if not self.is_bound:
            self.initial.setdefault("awarded_on", today)
            self.initial.setdefault("idempotency_key", uuid.uuid4().hex)


class LedgerExportForm(forms.Form):
    community = forms.ModelChoiceField(label=_("Community"), queryset=Region.objects)
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100)
    month = forms.IntegerField(label=_("Month"), min_value=1, max_value=12)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = region_list(
            actor=user, levels=[RegionLevel.COMMUNITY]
        )
        if not self.is_bound:
            today = timezone.localdate()
            self.initial.setdefault("year", today.year)
            self.initial.setdefault("month", today.month)


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=200)
