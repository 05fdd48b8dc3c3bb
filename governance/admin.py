"""Admin fixes for third-party apps the project installs, and the admin of the
monthly grid rating (rule sets, ratings, publications, appeals)."""

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django_celery_beat.admin import PeriodicTaskAdmin, PeriodicTaskForm
from django_celery_beat.models import PeriodicTask

from grids.admin_mixins import (
    ReadOnlyMixin,
    SafeActionSelectionMixin,
    ScopedAdminMixin,
    ServiceErrorMixin,
)
from grids.errors import DomainError
from grids.models import Region

from . import permissions, services
from .appraisal import workers_appraise
from .models import (
    GridRating,
    RatingAppeal,
    RatingAppealDecision,
    RatingClassChange,
    RatingPublication,
    RatingRuleSet,
    RatingState,
)


class SafePeriodicTaskForm(PeriodicTaskForm):
    """django-celery-beat's form reads ``cleaned_data['task']`` after the field
    itself may have failed (an overlong or malformed name), which is a 500; a
    task name that did not validate is the form error it should be."""

    def clean(self):
        if not self.cleaned_data.get("task") and not self.cleaned_data.get("regtask"):
            self.cleaned_data["task"] = ""
            if "task" not in self.errors:
                self.add_error("task", _("Name the task to run."))
            return self.cleaned_data
        return super().clean()


admin.site.unregister(PeriodicTask)


@admin.register(PeriodicTask)
class GridworkPeriodicTaskAdmin(SafeActionSelectionMixin, PeriodicTaskAdmin):
    form = SafePeriodicTaskForm


def check_action_selections(site) -> None:
    """The admins of the third-party apps (auth groups, django-axes, TOTP devices,
    django-celery-beat's schedules) get the selection check of ours: a tampered
    ``_selected_action`` is a message, not a 500. Each is registered again as a
    subclass with ``SafeActionSelectionMixin``; this module is imported last
    (``governance`` is the last installed app), after every other admin.
    ``tests/security/test_admin_actions.py`` fails on any admin left without it."""
    for model, model_admin in list(site._registry.items()):
        if isinstance(model_admin, SafeActionSelectionMixin):
            continue
        admin_class = type(model_admin)
        safe_class = type(
            admin_class.__name__,
            (SafeActionSelectionMixin, admin_class),
            {"__module__": admin_class.__module__},
        )
        site.unregister(model)
        site.register(model, safe_class)


# --- the monthly grid rating (月评比) -------------------------------------------


class RatingRuleSetForm(forms.ModelForm):
    class Meta:
        model = RatingRuleSet
        fields = ("region", *services.RULE_FIELDS)


@admin.register(RatingRuleSet)
class RatingRuleSetAdmin(ServiceErrorMixin, ScopedAdminMixin, admin.ModelAdmin):
    """评比细则: street staff save a new version (a saved one never changes)."""

    form = RatingRuleSetForm
    write_permission = staticmethod(permissions.can_keep_rules)
    list_display = ("__str__", "method", "min_tickets", "created_by", "created_at")
    list_filter = ("method",)
    readonly_fields = ("version", "created_by", "created_at")

    def has_change_permission(self, request, obj=None):
        # Viewing a version is allowed; a new version is added, never edited.
        return False

    def get_changeform_initial_data(self, request):
        """A new version starts from the newest one the user can see."""
        initial = super().get_changeform_initial_data(request)
        latest = self.get_queryset(request).order_by("-created_at", "-pk").first()
        if latest is not None:
            for name in services.RULE_FIELDS:
                initial.setdefault(name, getattr(latest, name))
            initial.setdefault("region", latest.region_id)
        return initial

    def save_model(self, request, obj, form, change):
        values = {name: form.cleaned_data[name] for name in services.RULE_FIELDS}
        saved = services.ruleset_save_version(
            actor=request.user, region=form.cleaned_data["region"], **values
        )
        obj.pk = saved.pk
        obj.refresh_from_db()


@admin.action(description=_("Re-run the rating of these months (drafts only)"))
def rerun_months(modeladmin, request, queryset):
    months = sorted(set(queryset.values_list("month", flat=True)))
    for month in months:
        try:
            count = services.rate_grids(month=month, actor=request.user)
            # The five-star appraisal reads the month's ratings: recompute it.
            workers_appraise(month=month)
        except DomainError as exc:
            modeladmin.message_user(request, exc.message, level=messages.ERROR)
            continue
        modeladmin.message_user(
            request,
            _("%(month)s: %(count)s grids rated.")
            % {"month": f"{month:%Y-%m}", "count": count},
        )


@admin.action(description=_("Publish these streets' months"))
def publish_months(modeladmin, request, queryset):
    pairs = sorted(
        set(
            queryset.filter(state=RatingState.DRAFT)
            .exclude(street=None)
            .values_list("street_id", "month")
        )
    )
    streets = {r.pk: r for r in Region.objects.filter(pk__in=[s for s, _m in pairs])}
    for street_id, month in pairs:
        try:
            count = services.ratings_publish(
                actor=request.user, street=streets[street_id], month=month
            )
        except DomainError as exc:
            modeladmin.message_user(request, exc.message, level=messages.ERROR)
            continue
        modeladmin.message_user(
            request,
            _("%(street)s %(month)s: %(count)s ratings published.")
            % {
                "street": streets[street_id].name,
                "month": f"{month:%Y-%m}",
                "count": count,
            },
        )


@admin.register(GridRating)
class GridRatingAdmin(ReadOnlyMixin, ScopedAdminMixin, admin.ModelAdmin):
    """Each grid's rating of a month; written by the job only."""

    scope_path = "grid"
    list_display = (
        "grid",
        "month",
        "score",
        "rating_class",
        "computed_class",
        "rank_in_street",
        "is_smoothed",
        "state",
    )
    list_filter = ("month", "state", "rating_class", "is_smoothed")
    list_select_related = ("grid",)
    search_fields = ("grid__name",)
    actions = (rerun_months, publish_months)

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not permissions.can_publish(request.user):
            actions.pop("rerun_months", None)
            actions.pop("publish_months", None)
        return actions


class RatingAppealForm(forms.ModelForm):
    class Meta:
        model = RatingAppeal
        fields = ("rating", "reason")


@admin.register(RatingAppeal)
class RatingAppealAdmin(ServiceErrorMixin, ScopedAdminMixin, admin.ModelAdmin):
    """申诉: a community's staff appeal a published class."""

    scope_path = "rating__grid"
    form = RatingAppealForm
    write_permission = staticmethod(permissions.can_appeal)
    list_display = ("rating", "filed_by", "filed_at")
    list_select_related = ("rating__grid",)
    raw_id_fields = ("rating",)

    def has_change_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        saved = services.rating_appeal_file(
            actor=request.user,
            rating_id=form.cleaned_data["rating"].pk,
            reason=form.cleaned_data["reason"],
        )
        obj.pk = saved.pk
        obj.refresh_from_db()


class RatingAppealDecisionForm(forms.ModelForm):
    class Meta:
        model = RatingAppealDecision
        fields = ("appeal", "upheld", "new_class", "note")


@admin.register(RatingAppealDecision)
class RatingAppealDecisionAdmin(ServiceErrorMixin, ScopedAdminMixin, admin.ModelAdmin):
    """The street's decision on an appeal (recorded once, never changed)."""

    scope_path = "appeal__rating__grid"
    form = RatingAppealDecisionForm
    write_permission = staticmethod(permissions.can_publish)
    list_display = ("appeal", "upheld", "new_class", "decided_by", "decided_at")
    list_select_related = ("appeal__rating__grid",)
    raw_id_fields = ("appeal",)

    def has_change_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        saved = services.rating_appeal_decide(
            actor=request.user,
            appeal_id=form.cleaned_data["appeal"].pk,
            upheld=form.cleaned_data["upheld"],
            new_class=form.cleaned_data["new_class"],
            note=form.cleaned_data["note"],
        )
        obj.pk = saved.pk
        obj.refresh_from_db()


@admin.register(RatingClassChange)
class RatingClassChangeAdmin(ReadOnlyMixin, ScopedAdminMixin, admin.ModelAdmin):
    """动态调整: the history of class changes made by appeals."""

    scope_path = "rating__grid"
    list_display = ("rating", "from_class", "to_class", "at")
    list_select_related = ("rating__grid",)


@admin.register(RatingPublication)
class RatingPublicationAdmin(ReadOnlyMixin, ScopedAdminMixin, admin.ModelAdmin):
    scope_path = "street"
    list_display = ("street", "month", "published_by", "published_at")


# The residents' survey and the five-star appraisal (and the roster's stars).
from . import admin_appraisal  # noqa: E402, F401

# Last, after every admin above is registered.
check_action_selections(admin.site)
