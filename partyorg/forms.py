"""Forms of the partyorg app: the wish action form used on the admin wish page."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .choices import WishState
from .models import PartyMember

# Action name → the state it starts from (what the form offers for a wish).
WISH_ACTIONS = {
    "claim": ({WishState.POSTED}, _("Claim for a party member")),
    "release": ({WishState.CLAIMED}, _("Release the claim")),
    "fulfil": ({WishState.CLAIMED}, _("Report fulfilled (note and photo)")),
    "confirm": ({WishState.FULFILLED}, _("Confirm with the resident")),
    "reject": ({WishState.FULFILLED}, _("Refuse the fulfilment")),
    "withdraw": ({WishState.POSTED, WishState.CLAIMED}, _("Withdrawn by resident")),
    "cancel": ({WishState.POSTED, WishState.CLAIMED}, _("Cancel")),
}


class WishActionForm(forms.Form):
    action = forms.ChoiceField(label=_("action"))
    member = forms.ModelChoiceField(
        label=_("party member"),
        queryset=PartyMember.objects.none(),
        required=False,
        help_text=_(
            "Only for a claim: the member who takes the wish (members who may "
            "claim it are listed)."
        ),
    )
    note = forms.CharField(label=_("note"), widget=forms.Textarea, required=False)
    photo = forms.ImageField(label=_("photo"), required=False)

    def __init__(self, *args, wish, members, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["action"].choices = [
            (name, label)
            for name, (states, label) in WISH_ACTIONS.items()
            if wish.state in states
        ]
        self.fields["member"].queryset = members
