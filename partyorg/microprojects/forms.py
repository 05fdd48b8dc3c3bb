"""Forms of the 民生微实事 phone pages: the choices offered are only what the
user may pick; the services check everything again."""

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from grids.choices import GRID_LEVELS, RegionLevel
from grids.selectors import region_list

from ..deliberation.choices import PUBLIC_STEPS
from ..deliberation.selectors import topic_list
from .choices import ProjectAction


class ProposeForm(forms.Form):
    region = forms.ModelChoiceField(label=_("community or grid"), queryset=None)
    title = forms.CharField(label=_("project"), max_length=200)
    description = forms.CharField(
        label=_("description"), max_length=5000, widget=forms.Textarea
    )
    proposed_by_name = forms.CharField(
        label=_("resident who ordered it"), max_length=50, required=False
    )
    # Proposed from a topic's published outcome (``?topic=``): a topic of the
    # user's area with a public step recorded.
    topic = forms.ModelChoiceField(
        label=_("topic"), queryset=None, required=False, widget=forms.HiddenInput
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = region_list(
            actor=user, levels=(*GRID_LEVELS, RegionLevel.COMMUNITY)
        ).filter(is_active=True)
        self.fields["topic"].queryset = (
            topic_list(actor=user).filter(records__step__in=PUBLIC_STEPS).distinct()
        )


class MilestoneForm(forms.Form):
    note = forms.CharField(label=_("progress"), max_length=2000, widget=forms.Textarea)
    photo = forms.ImageField(label=_("photo"), required=False)


# The step forms of the project page: the services check the amounts (a
# budget above zero, money spent within it), the state and the right.
class ScreenStepForm(forms.Form):
    title = pgettext_lazy("micro-project step", "Screen the project")
    button = pgettext_lazy("micro-project step", "Screen")
    note = forms.CharField(
        label=_("note"), max_length=2000, required=False, widget=forms.Textarea
    )


class RejectStepForm(forms.Form):
    title = pgettext_lazy("micro-project step", "Refuse the project")
    button = pgettext_lazy("micro-project step", "Refuse")
    reason = forms.CharField(
        label=_("reason refused"), max_length=2000, widget=forms.Textarea
    )


class ApproveStepForm(forms.Form):
    title = pgettext_lazy("micro-project step", "Approve the budget")
    button = pgettext_lazy("micro-project step", "Approve")
    budget = forms.DecimalField(
        label=_("budget (yuan)"),
        max_digits=12,
        decimal_places=2,
    )


class StartStepForm(forms.Form):
    title = pgettext_lazy("micro-project step", "Start the work")
    button = pgettext_lazy("micro-project step", "Start")
    pass


class AcceptStepForm(forms.Form):
    title = pgettext_lazy("micro-project step", "Accept the work")
    button = pgettext_lazy("micro-project step", "Accept")
    spent = forms.DecimalField(
        label=_("money spent (yuan)"),
        max_digits=12,
        decimal_places=2,
    )
    result = forms.CharField(
        label=pgettext_lazy("micro-project", "result"),
        max_length=5000,
        widget=forms.Textarea,
    )


STEP_FORMS = {
    ProjectAction.SCREEN: ScreenStepForm,
    ProjectAction.REJECT: RejectStepForm,
    ProjectAction.APPROVE: ApproveStepForm,
    ProjectAction.START: StartStepForm,
    ProjectAction.ACCEPT: AcceptStepForm,
}
