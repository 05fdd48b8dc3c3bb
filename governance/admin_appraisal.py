"""Admin of the residents' survey (以下评上) and the five-star appraisal of grid
workers (五星级网格员): the answers and sendings (read-only), the appraisals per
street and month (read-only, written by the job), the manual scores staff
enter, and the stars on the roster.

The roster (grids' ``GridWorkerAdmin``) shows each worker's latest stars: grids
never imports governance, so this module, which may read every app, registers
the roster again as a subclass with one more column (the same way
``governance.admin.check_action_selections`` re-registers the third-party
admins). The roster's own code stays in grids, unchanged."""

from django import forms
from django.contrib import admin
from django.db.models import OuterRef, Subquery
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from grids.admin import GridWorkerAdmin
from grids.admin_mixins import ReadOnlyMixin, ScopedAdminMixin, ServiceErrorMixin
from grids.choices import RegionLevel
from grids.models import GridWorker, Region

from . import appraisal
from .models import SurveyAnswer, SurveySending, WorkerAppraisal, WorkerAppraisalInput


def star_text(stars) -> str:
    if not stars:
        return "—"
    return "★" * stars + "☆" * (5 - stars)


@admin.register(SurveyAnswer)
class SurveyAnswerAdmin(ReadOnlyMixin, ScopedAdminMixin, admin.ModelAdmin):
    """以下评上: the residents' answers, per grid and period."""

    scope_path = "grid"
    list_display = (
        "grid",
        "period_start",
        "period_kind",
        "attitude",
        "conduct",
        "effect",
        "answered_at",
    )
    list_filter = ("period_kind", "period_start")
    list_select_related = ("grid",)
    search_fields = ("grid__name",)
    exclude = ("respondent",)


@admin.register(SurveySending)
class SurveySendingAdmin(ReadOnlyMixin, ScopedAdminMixin, admin.ModelAdmin):
    scope_path = "grid"
    list_display = ("grid", "household", "period_start", "masked_to", "sent_at")
    list_filter = ("period_kind", "period_start")
    list_select_related = ("grid", "household")


class StreetFilter(admin.SimpleListFilter):
    """The streets of the user's area (a street's list of its workers)."""

    title = _("street")
    parameter_name = "street"

    def lookups(self, request, model_admin):
        streets = Region.objects.visible_to(request.user).filter(
            level=RegionLevel.STREET
        )
        return [(str(pk), name) for pk, name in streets.values_list("pk", "name")[:200]]

    def queryset(self, request, queryset):
        value = self.value()
        if value and value.isdigit():
            return queryset.filter(street_id=int(value))
        return queryset


@admin.register(WorkerAppraisal)
class WorkerAppraisalAdmin(ReadOnlyMixin, ScopedAdminMixin, admin.ModelAdmin):
    """五星级网格员: each worker's stars of a month, per street."""

    scope_path = "grid"
    list_display = (
        "worker",
        "month",
        "street",
        "star_display",
        "total",
        "grid_score",
        "survey_score",
        "survey_answers",
        "manual_score",
    )
    list_filter = ("month", StreetFilter, "stars")
    list_select_related = ("worker", "street")
    search_fields = ("worker__name",)
    ordering = ("-month", "street_id", "-total", "worker_id")

    @admin.display(description=_("stars"), ordering="stars")
    def star_display(self, obj):
        return star_text(obj.stars)


class WorkerAppraisalInputForm(forms.ModelForm):
    class Meta:
        model = WorkerAppraisalInput
        fields = ("worker", "month", "score", "reason")


@admin.register(WorkerAppraisalInput)
class WorkerAppraisalInputAdmin(ServiceErrorMixin, ScopedAdminMixin, admin.ModelAdmin):
    """The manual component of the appraisal (考评打分): added, never changed;
    the newest entry of a worker and month counts, the older ones are history."""

    scope_path = ""
    form = WorkerAppraisalInputForm
    write_permission = staticmethod(appraisal.can_appraise)
    list_display = ("worker", "month", "score", "reason", "entered_by", "entered_at")
    list_select_related = ("worker", "entered_by")
    raw_id_fields = ("worker",)
    readonly_fields = ("entered_by", "entered_at")

    def get_queryset(self, request):
        # Entries about workers the user sees on their roster.
        workers = GridWorker.objects.visible_to(request.user).values("pk")
        return (
            super(ScopedAdminMixin, self)
            .get_queryset(request)
            .filter(worker__in=workers)
        )

    def has_change_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        saved = appraisal.appraisal_input_record(
            actor=request.user,
            worker_id=data["worker"].pk,
            month=data["month"],
            score=data["score"],
            reason=data["reason"],
        )
        obj.pk = saved.pk
        obj.refresh_from_db()


class RosterWithStarsAdmin(GridWorkerAdmin):
    """The roster with each worker's latest five-star appraisal (one subquery
    on the page's query, no query per row)."""

    list_display = (*GridWorkerAdmin.list_display, "latest_stars")

    def get_queryset(self, request):
        latest = WorkerAppraisal.objects.filter(worker=OuterRef("pk")).order_by(
            "-month"
        )
        return (
            super()
            .get_queryset(request)
            .annotate(
                latest_stars=Subquery(latest.values("stars")[:1]),
                latest_appraisal_month=Subquery(latest.values("month")[:1]),
            )
        )

    @admin.display(description=_("five-star appraisal"))
    def latest_stars(self, obj):
        if obj.latest_appraisal_month is None:
            return "—"
        return format_html(
            "{} <small>{}</small>",
            star_text(obj.latest_stars),
            f"{obj.latest_appraisal_month:%Y-%m}",
        )


admin.site.unregister(GridWorker)
admin.site.register(GridWorker, RosterWithStarsAdmin)
