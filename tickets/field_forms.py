"""Forms of the field pages: the visit / patrol check-in of a grid worker, and
the residents' report form of a grid's QR poster (码上办). They only collect
input; the services check and write. The report form's own spam checks (a
honeypot field a person never sees, and a minimum fill time carried in a signed
field) are input checks, made here before the service is called."""

import time

from django import forms
from django.conf import settings
from django.core import signing
from django.utils.translation import gettext_lazy as _

from grids.choices import PatrolKind
from grids.selectors import household_list, patrol_places

from .forms import MultipleFileField, MultipleFileInput
from .services.selfreport import self_report_categories

STARTED_SALT = "tickets.self-report-started"
MAX_PHOTOS = 3


def _camera_input(multiple: bool = False):
    attrs = {"accept": "image/*", "capture": "environment"}
    return MultipleFileInput(attrs=attrs) if multiple else forms.FileInput(attrs=attrs)


class CategoryChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return ("· " * obj.level) + obj.name


class VisitForm(forms.Form):
    """日巡查 / 入户走访 / 民情日记, with an optional event found on the way."""

    kind = forms.ChoiceField(
        label=_("What are you recording?"),
        choices=PatrolKind.choices,
        widget=forms.RadioSelect,
        initial=PatrolKind.PATROL,
    )
    region = forms.ModelChoiceField(label=_("Grid or building"), queryset=None)
    household = forms.ModelChoiceField(
        queryset=None, required=False, widget=forms.HiddenInput
    )
    notes = forms.CharField(
        label=_("Notes"), max_length=2000, widget=forms.Textarea(attrs={"rows": 4})
    )
    photo = forms.FileField(label=_("Photo"), required=False, widget=_camera_input())
    raise_event = forms.BooleanField(
        label=_("Also report an event found here"), required=False
    )
    event_category = CategoryChoiceField(
        label=_("Event category"),
        queryset=self_report_categories(),
        required=False,
    )
    event_description = forms.CharField(
        label=_("Describe the event"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = patrol_places(actor=actor)
        self.fields["household"].queryset = household_list(actor=actor)
        self.fields["event_category"].queryset = self_report_categories()

    def clean(self):
        data = super().clean()
        if (
            data.get("raise_event")
            and not (data.get("event_description") or "").strip()
        ):
            self.add_error("event_description", _("Describe the event to report it."))
        if data.get("kind") == PatrolKind.VISIT and not data.get("household"):
            self.add_error(None, _("Pick the household you visited."))
        return data


def started_token() -> str:
    return signing.dumps(int(time.time()), salt=STARTED_SALT)


class SelfReportForm(forms.Form):
    """A resident's report from the poster: no account; a phone number to call
    back."""

    category = CategoryChoiceField(
        label=_("What kind of matter is it? (optional)"),
        queryset=None,
        required=False,
        empty_label=_("I am not sure"),
    )
    description = forms.CharField(
        label=_("What is the matter?"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    address = forms.CharField(
        label=_("Where exactly? (optional)"), max_length=200, required=False
    )
    phone = forms.CharField(
        label=_("Your phone number (for a call back; shown to nobody)"),
        max_length=20,
        widget=forms.TextInput(
            attrs={"type": "tel", "inputmode": "tel", "autocomplete": "tel"}
        ),
    )
    photos = MultipleFileField(
        label=_("Photos (optional, up to 3)"), widget=_camera_input(multiple=True)
    )
    latitude = forms.FloatField(
        required=False, widget=forms.HiddenInput(attrs={"data-geo": "lat"})
    )
    longitude = forms.FloatField(
        required=False, widget=forms.HiddenInput(attrs={"data-geo": "lng"})
    )
    # The honeypot: hidden from people (and from screen readers), filled by bots.
    website = forms.CharField(
        label=_("Leave this field empty"),
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )
    started = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = self_report_categories()
        if not self.is_bound:
            self.initial["started"] = started_token()

    def clean_photos(self):
        photos = self.cleaned_data.get("photos") or []
        if len(photos) > MAX_PHOTOS:
            raise forms.ValidationError(
                _("Send at most %(max)d photos.") % {"max": MAX_PHOTOS}
            )
        return photos

    def clean(self):
        data = super().clean()
        refused = forms.ValidationError(
            _("The report could not be accepted. Please try again, or call 12345."),
            code="spam",
        )
        if data.get("website"):
            raise refused
        try:
            started = signing.loads(
                self.data.get("started", ""), salt=STARTED_SALT, max_age=86400
            )
        except signing.BadSignature:
            raise refused from None
        if time.time() - started < settings.TICKETS_SELF_REPORT_MIN_FILL_SECONDS:
            raise forms.ValidationError(
                _("That was very fast. Please check your report and send it again."),
                code="too_fast",
            )
        return data
