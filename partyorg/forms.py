"""Forms of the partyorg app: the wish action form (shared by the phone page and
the admin wish page, through ``wish_action_submit``), the wish post form and the
admin's member form."""

from django import forms
from django.contrib import messages
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from grids.choices import GRID_LEVELS, RegionLevel
from grids.errors import DomainError
from grids.idempotency import with_idempotency
from grids.models import Region
from grids.selectors import region_list

from . import permissions, selectors, services
from .choices import WishAction
from .models import PartyMember

# The label of each step on the form; which steps a user is offered comes from
# ``permissions.available_wish_actions`` (the services check it all again).
WISH_ACTION_LABELS = {
    WishAction.CLAIM: _("Claim for a party member"),
    WishAction.RELEASE: _("Release the claim"),
    WishAction.FULFIL: _("Report fulfilled (note and photo)"),
    WishAction.CONFIRM: _("Confirm with the resident"),
    WishAction.REJECT: _("Refuse the fulfilment"),
    WishAction.WITHDRAW: _("Withdrawn by resident"),
    WishAction.CANCEL: _("Cancel"),
}


def _run_claim(*, actor, wish, data):
    return services.wish_claim(
        actor=actor, wish_id=wish.pk, member=data.get("member"), note=data["note"]
    )


def _run_fulfil(*, actor, wish, data):
    return services.wish_fulfil(
        actor=actor, wish_id=wish.pk, note=data["note"], photo=data.get("photo")
    )


def _run_with_note(service):
    def run(*, actor, wish, data):
        return service(actor=actor, wish_id=wish.pk, note=data["note"])

    return run


# The service each step calls, with what the form collected.
WISH_ACTION_SERVICES = {
    WishAction.CLAIM: _run_claim,
    WishAction.RELEASE: _run_with_note(services.wish_release),
    WishAction.FULFIL: _run_fulfil,
    WishAction.CONFIRM: _run_with_note(services.wish_confirm),
    WishAction.REJECT: _run_with_note(services.wish_reject),
    WishAction.WITHDRAW: _run_with_note(services.wish_withdraw),
    WishAction.CANCEL: _run_with_note(services.wish_cancel),
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

    def __init__(self, *args, wish, members, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["action"].choices = [
            (action, WISH_ACTION_LABELS[action])
            for action in permissions.available_wish_actions(user, wish)
        ]
        self.fields["member"].queryset = members

    def run(self, *, actor, wish):
        """Call the service the chosen action stands for (raises DomainError)."""
        data = {**self.cleaned_data, "note": self.cleaned_data.get("note") or ""}
        return WISH_ACTION_SERVICES[data["action"]](actor=actor, wish=wish, data=data)


def wish_action_submit(request, *, wish) -> tuple[WishActionForm, bool]:
    """One step of a wish from a page (the phone page and the admin act page).

    Builds the action form for this wish and user; on a valid POST calls the
    service the action stands for and leaves the message: "Saved." or the
    service's refusal. Returns the form (to show again) and whether the step was
    saved (the caller then redirects to where it came from).
    """
    members = selectors.members_who_may_claim(
        actor=request.user, community=wish.community
    )
    form = WishActionForm(
        request.POST or None,
        request.FILES or None,
        wish=wish,
        members=members,
        user=request.user,
    )
    if request.method != "POST" or not form.is_valid():
        return form, False

    def run() -> str:
        form.run(actor=request.user, wish=wish)
        return request.get_full_path()

    try:
        # A phone form's idempotency key makes a resend a no-op (grids.idempotency).
        response = with_idempotency(request, f"partyorg:wish_step:{wish.pk}", run)
    except DomainError as exc:
        messages.error(request, exc.message)
        return form, False
    if not getattr(response, "replayed", False):
        messages.success(request, gettext("Saved."))
    return form, True


class WishPostForm(forms.Form):
    """A resident's wish, posted from the phone by a grid worker or staff."""

    region = forms.ModelChoiceField(label=_("grid"), queryset=Region.objects.none())
    title = forms.CharField(label=_("wish"), max_length=200)
    beneficiary = forms.CharField(
        label=_("for whom"),
        max_length=100,
        help_text=_("Who it is for, e.g. an elderly person living alone."),
    )
    estimated_value = forms.DecimalField(
        label=_("rough value (yuan)"),
        required=False,
        min_value=0.01,
        max_digits=8,
        decimal_places=2,
        help_text=_("Empty when the wish needs no money (a service, a visit)."),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = region_list(
            actor=user, levels=(*GRID_LEVELS, RegionLevel.COMMUNITY)
        ).filter(is_active=True)


class PartyMemberAdminForm(forms.ModelForm):
    """The admin's member form; on adding, an in-service member without a branch
    here names the community they register at (双报到)."""

    community = forms.ModelChoiceField(
        label=_("residence community"),
        queryset=Region.objects.none(),
        required=False,
        help_text=_(
            "For an in-service member whose branch is at their employer: the "
            "community they register at."
        ),
    )

    class Meta:
        model = PartyMember
        fields = (
            "name",
            "phone",
            "organisation",
            "is_active",
            "is_in_service",
            "employer",
            "is_grid_head",
            "is_building_head",
            "is_unit_head",
            "grid_worker",
        )
