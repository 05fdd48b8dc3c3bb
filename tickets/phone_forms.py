"""The phone's own ticket form: reporting an event found on patrol (制单 entry
point). The action forms (接单, 做单 …) are the shared ones of ``actions``."""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from grids.choices import GRID_LEVELS
from grids.selectors import region_list

from .forms import MultipleFileField
from .models import Category

# Mainland China, roughly (with Hainan and Heilongjiang): a location outside this
# box is a phone's wrong fix or a spoofed one, refused with a message.
CHINA_LATITUDE = (Decimal("18"), Decimal("54"))
CHINA_LONGITUDE = (Decimal("73"), Decimal("135"))


def in_china(latitude, longitude) -> bool:
    return (
        CHINA_LATITUDE[0] <= latitude <= CHINA_LATITUDE[1]
        and CHINA_LONGITUDE[0] <= longitude <= CHINA_LONGITUDE[1]
    )


class ReportEventForm(forms.Form):
    """An event a grid worker found: category, place (grid or building),
    description, at least one photo, and the phone's location when allowed."""

    category = forms.ModelChoiceField(
        label=_("category"),
        queryset=Category.objects.filter(is_active=True),
        widget=forms.RadioSelect,
    )
    region = forms.ModelChoiceField(label=_("place (grid / building)"), queryset=None)
    address = forms.CharField(
        label=_("address or landmark"), max_length=200, required=False
    )
    description = forms.CharField(
        label=_("what did you find"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    photos = MultipleFileField(label=_("photos"), required=True)
    latitude = forms.DecimalField(
        max_digits=9, decimal_places=6, required=False, widget=forms.HiddenInput
    )
    longitude = forms.DecimalField(
        max_digits=9, decimal_places=6, required=False, widget=forms.HiddenInput
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        regions = region_list(actor=user, levels=GRID_LEVELS)
        self.fields["region"].queryset = regions
        if user.region_id and not self.is_bound:
            self.initial.setdefault("region", user.region_id)
        self.fields["photos"].error_messages["required"] = _(
            "Add at least one photo of what you found."
        )
        self.fields["photos"].widget.attrs["capture"] = "environment"
        self.fields["latitude"].widget.attrs["data-geo"] = "lat"
        self.fields["longitude"].widget.attrs["data-geo"] = "lng"

    def clean_photos(self):
        photos = self.cleaned_data.get("photos") or []
        if not photos:
            raise forms.ValidationError(
                self.fields["photos"].error_messages["required"]
            )
        return photos

    def clean(self):
        data = super().clean()
        latitude, longitude = data.get("latitude"), data.get("longitude")
        if (latitude is None) != (longitude is None):
            raise forms.ValidationError(_("The location is incomplete."))
        if latitude is not None and not in_china(latitude, longitude):
            raise forms.ValidationError(
                _(
                    "The phone's location is outside China; turn location off "
                    "or try again outdoors."
                )
            )
        return data
