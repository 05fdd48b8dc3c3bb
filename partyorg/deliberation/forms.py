"""Forms of community deliberation (the phone pages and the admin)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from grids.models import Region
from grids.selectors import region_list

from ..models import PartyOrg
from .choices import TopicKind, TopicSource, Vote
from .models import Council
from .services import TOPIC_LEVELS


class TopicRaiseForm(forms.Form):
    region = forms.ModelChoiceField(
        label=_("community or grid"), queryset=Region.objects.none()
    )
    title = forms.CharField(label=_("topic"), max_length=200)
    description = forms.CharField(
        label=_("description"), widget=forms.Textarea, required=False, max_length=5000
    )
    source = forms.ChoiceField(
        label=_("raised by"),
        choices=[c for c in TopicSource.choices if c[0] != TopicSource.TICKET],
    )
    party_org = forms.ModelChoiceField(
        label=_("party branch that raised it"),
        queryset=PartyOrg.objects.none(),
        required=False,
        help_text=_("Only when a party branch raised it."),
    )
    raising_council = forms.ModelChoiceField(
        label=_("council that raised it"),
        queryset=Council.objects.none(),
        required=False,
        help_text=_("Only when a council raised it."),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = region_list(
            actor=user, levels=TOPIC_LEVELS
        ).filter(is_active=True)
        self.fields["party_org"].queryset = (
            PartyOrg.objects.visible_to(user).active().order_by("name")
        )
        self.fields["raising_council"].queryset = (
            Council.objects.visible_to(user).filter(is_active=True).order_by("name")
        )


class ScreenForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("kind of matter (五议五不议)"), choices=TopicKind.choices
    )
    council = forms.ModelChoiceField(
        label=_("deliberating council"), queryset=Council.objects.none(), required=False
    )
    note = forms.CharField(
        label=_("note"), widget=forms.Textarea, required=False, max_length=2000
    )

    def __init__(self, *args, councils, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["council"].queryset = councils


class StepRecordForm(forms.Form):
    owner = forms.CharField(label=_("owner"), max_length=100)
    participants = forms.CharField(
        label=_("participants"), widget=forms.Textarea, max_length=5000
    )
    minutes = forms.CharField(
        label=_("minutes"), widget=forms.Textarea, max_length=20000
    )
    started_on = forms.DateField(
        label=_("started on"), widget=forms.DateInput(attrs={"type": "date"})
    )
    completed_on = forms.DateField(
        label=_("completed on"), widget=forms.DateInput(attrs={"type": "date"})
    )
    attachment = forms.ImageField(label=_("attachment (photo)"), required=False)


class VoteOpenForm(forms.Form):
    text = forms.CharField(label=_("matter put to the vote"), max_length=300)


class BallotForm(forms.Form):
    vote = forms.ChoiceField(
        label=_("vote"), choices=Vote.choices, widget=forms.RadioSelect
    )
