"""Forms for the staff pages. Each action form only collects input; the service
it feeds checks stage, role and scope and writes."""

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from grids.choices import GRID_LEVELS, RegionLevel
from grids.selectors import region_list

from .choices import RESIDENT_VERDICTS, Verdict
from .models import (
    Category,
    Department,
    HandlingLimit,
    Ticket,
    WorkCalendarDay,
    WorkCalendarYear,
)
from .permissions import can_lead, department_serves, leader_choices
from .services.calendar import calendar_year_error


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several photos at once; each is checked by content in the service."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/*"}))
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, list | tuple):
            return [super(MultipleFileField, self).clean(d, initial) for d in data]
        return [super().clean(data, initial)] if data else []


def _departments(user):
    """Active departments that serve (part of) the user's area; the service
    checks each ticket's place."""
    return Department.objects.active().dispatchable_by(user)


class TicketIntakeForm(forms.ModelForm):
    """受理: a ticket received by staff (a 12345 push comes through the API)."""

    photos = MultipleFileField(label=_("photos"))

    class Meta:
        model = Ticket
        fields = [
            "source",
            "hotline_number",
            "category",
            "region",
            "address",
            "latitude",
            "longitude",
            "reporter_name",
            "reporter_phone",
            "description",
        ]


def _dispatch_fields(form, user) -> None:
    """The fields of 派单: a community or a department, and instructions."""
    form.fields["handling_region"] = forms.ModelChoiceField(
        label=_("handling community"),
        queryset=region_list(actor=user, levels=[RegionLevel.COMMUNITY]),
        required=False,
    )
    form.fields["handling_department"] = forms.ModelChoiceField(
        label=_("handling department"),
        queryset=_departments(user),
        required=False,
        help_text=_("Either a community or a department."),
    )
    form.fields["instructions"] = forms.CharField(
        label=_("handling instructions"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
    )


def _check_unit(form, data, place) -> None:
    region, department = data.get("handling_region"), data.get("handling_department")
    if region and department:
        form.add_error("handling_department", _("Either a community or a department."))
    if department and place and not department_serves(department, place):
        form.add_error(
            "handling_department",
            _("%(department)s does not serve the ticket's place.")
            % {"department": department.name},
        )


class TriageForm(forms.Form):
    """制单: category, place and the responsible leader. A triager who may lead
    also sees the fields of 派单, used only when they name themself leader."""

    category = forms.ModelChoiceField(
        label=_("category"), queryset=Category.objects.filter(is_active=True)
    )
    region = forms.ModelChoiceField(label=_("place (grid / building)"), queryset=None)
    responsible_leader = forms.ModelChoiceField(
        label=_("responsible leader"), queryset=None
    )
    deadline_class = forms.ChoiceField(
        label=_("deadline class"),
        choices=[],
        required=False,
    )

    def __init__(self, *args, user, ticket=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["region"].queryset = region_list(actor=user, levels=GRID_LEVELS)
        self.fields["responsible_leader"].queryset = leader_choices(user)
        # The classes the user's area may use (shared ones and its street's own);
        # the service checks the ticket's place against the chosen one.
        self.fields["deadline_class"].choices = [
            ("", _("from the category")),
            *(
                (limit.pk, str(limit))
                for limit in HandlingLimit.objects.visible_to(user).active()
            ),
        ]
        self.offers_dispatch = user.is_superuser or can_lead(user)
        if self.offers_dispatch:
            _dispatch_fields(self, user)
            self.fields["handling_region"].help_text = _(
                "Only if you are the responsible leader: dispatch at once."
            )
        if ticket is not None:
            self.initial.setdefault("category", ticket.category_id)
            if ticket.region.level in GRID_LEVELS:
                self.initial.setdefault("region", ticket.region_id)
            self.initial.setdefault(
                "responsible_leader", ticket.responsible_leader_id or user.pk
            )

    @property
    def dispatches(self) -> bool:
        """The triager asked to dispatch in the same step."""
        data = getattr(self, "cleaned_data", {})
        return bool(data.get("handling_region") or data.get("handling_department"))

    def clean(self):
        data = super().clean()
        if not self.offers_dispatch:
            return data
        _check_unit(self, data, data.get("region"))
        leader = data.get("responsible_leader")
        if (
            self.dispatches
            and leader is not None
            and not self.user.is_superuser
            and leader.pk != self.user.pk
        ):
            self.add_error(
                "responsible_leader",
                _(
                    "Only the responsible leader dispatches: leave the "
                    "handling unit empty, or name yourself."
                ),
            )
        return data


# The name other modules used for the triage form.
TriageDispatchForm = TriageForm


class DispatchForm(forms.Form):
    """派单 by the responsible leader: one ticket, or several (bulk action)."""

    def __init__(self, *args, user, ticket=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.ticket = ticket
        _dispatch_fields(self, user)
        if ticket is not None and ticket.category_id:
            department = ticket.category.default_department
            if department is not None:
                self.initial.setdefault("handling_department", department.pk)

    def clean(self):
        data = super().clean()
        if not (data.get("handling_region") or data.get("handling_department")):
            raise forms.ValidationError(
                _("Dispatch to either a community or a department.")
            )
        _check_unit(self, data, getattr(self.ticket, "region", None))
        return data


class AcceptForm(forms.Form):
    handler = forms.ModelChoiceField(label=_("handler"), queryset=None)
    note = forms.CharField(label=_("note"), required=False)

    def __init__(self, *args, user, ticket, **kwargs):
        from .services import handler_choices

        super().__init__(*args, **kwargs)
        self.fields["handler"].queryset = handler_choices(ticket)


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("reason"), widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, user=None, ticket=None, **kwargs):
        super().__init__(*args, **kwargs)


class HandleForm(forms.Form):
    cause = forms.CharField(
        label=_("cause"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    crux = forms.CharField(
        label=_("crux"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    measures = forms.CharField(
        label=_("measures"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    result = forms.CharField(
        label=_("result"), widget=forms.Textarea(attrs={"rows": 2})
    )
    photos = MultipleFileField(label=_("photos"))

    def __init__(self, *args, user=None, ticket=None, **kwargs):
        super().__init__(*args, **kwargs)


class PhoneVerdictForm(forms.Form):
    verdict = forms.ChoiceField(
        label=_("verdict"),
        choices=[(v, Verdict(v).label) for v in RESIDENT_VERDICTS],
        widget=forms.RadioSelect,
    )
    call_note = forms.CharField(
        label=_("call note"),
        max_length=200,
        help_text=_("When you called, which number, who answered."),
    )
    reporter_phone = forms.CharField(
        label=_("reporter phone"),
        required=False,
        help_text=_("Leave empty for the ticket's reporter."),
    )
    comment = forms.CharField(
        label=_("comment"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=1000,
    )

    def __init__(self, *args, user=None, ticket=None, **kwargs):
        super().__init__(*args, **kwargs)


class AssessForm(forms.Form):
    satisfaction_score = forms.IntegerField(
        label=_("satisfaction"), min_value=0, max_value=100
    )
    timeliness_score = forms.IntegerField(
        label=_("timeliness"), min_value=0, max_value=100
    )
    effect_score = forms.IntegerField(label=_("effect"), min_value=0, max_value=100)
    note = forms.CharField(
        label=_("note"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )

    def __init__(self, *args, user=None, ticket=None, **kwargs):
        from .services import suggested_scores

        super().__init__(*args, **kwargs)
        if ticket is not None:
            for key, value in suggested_scores(ticket).items():
                self.initial.setdefault(key, value)


class MergeForm(forms.Form):
    into = forms.CharField(
        label=_("merge into ticket number"),
        max_length=40,
        help_text=_("e.g. 2026-000123"),
    )
    note = forms.CharField(label=_("note"), required=False)

    def __init__(self, *args, user=None, ticket=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_into(self) -> int:
        """The readable number (or the 12345 number, or the bare id) as an id;
        the service checks the ticket it names."""
        value = self.cleaned_data["into"].strip().lstrip("#")
        found = (
            Ticket.objects.visible_to(self.user)
            .filter(Q(number=value) | Q(hotline_number=value))
            .values_list("pk", flat=True)
            .first()
        )
        if found is None and value.isascii() and value.isdigit():
            found = int(value)
        if found is None:
            raise forms.ValidationError(_("No ticket has this number."))
        return found


class WorkCalendarYearForm(forms.ModelForm):
    """The admin's "add a year": only years the calendar is kept for (a year 0
    or 10000 is a form error, not a failed page)."""

    class Meta:
        model = WorkCalendarYear
        fields = ("year",)

    def clean_year(self):
        year = self.cleaned_data["year"]
        error = calendar_year_error(year)
        if error:
            raise forms.ValidationError(error, code="calendar_year_out_of_range")
        return year


class WorkCalendarDayForm(forms.ModelForm):
    """The admin's calendar day: a date in a year the calendar is kept for."""

    class Meta:
        model = WorkCalendarDay
        fields = ("date", "is_workday", "note")

    def clean_date(self):
        date = self.cleaned_data["date"]
        error = calendar_year_error(date.year) if date else None
        if error:
            raise forms.ValidationError(error, code="calendar_year_out_of_range")
        return date
