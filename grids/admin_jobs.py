"""Admin pages of background imports and exports (后台导入导出, ``grids.DataJob``).

The list shows the user's own jobs; a job's page is its progress bar while it
runs (``grids/datajob_progress.js`` polls the status URL; no inline script) and
its outcome with the refused rows when it ends. "Import a file" stores the
upload and queues the job; "Export" queues an export of an area; the finished
file is downloaded through the job's page, by its submitter only. Every page
reads through ``DataJob.objects.visible_to``: another user's job is a 404.
"""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.http import FileResponse, Http404, HttpResponseRedirect, JsonResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.cache import patch_cache_control
from django.utils.http import content_disposition_header
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_safe

from . import permissions, selectors, services
from .choices import DataJobFormat, DataJobKind, RegionLevel
from .errors import DomainError
from .models import DataJob, Region
from .params import parse_id
from .resources import JOB_RESOURCES

EXPORT_AREA_LEVELS = (RegionLevel.DISTRICT, RegionLevel.STREET, RegionLevel.COMMUNITY)


class DataJobImportForm(forms.Form):
    resource = forms.ChoiceField(label=_("data"))
    upload = forms.FileField(
        label=_("file"),
        help_text=_(
            "CSV (UTF-8 or GB18030) or Excel .xlsx with the same columns as the "
            "list's import; the first row names the columns."
        ),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["resource"].choices = [
            (name, spec.label)
            for name, spec in JOB_RESOURCES.items()
            if spec.may_import(user)
        ]


class DataJobExportForm(forms.Form):
    resource = forms.ChoiceField(label=_("data"))
    region = forms.ModelChoiceField(
        label=_("area"),
        queryset=Region.objects.none(),
        required=False,
        help_text=_("Empty: your whole area."),
    )
    file_format = forms.ChoiceField(
        label=_("file format"), choices=DataJobFormat.choices
    )
    # Personal data is exported masked; see grids.services.personal_data.
    unmasked = forms.BooleanField(
        label=_("Export ID numbers and phones unmasked"), required=False
    )
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["resource"].choices = [
            (name, spec.label) for name, spec in JOB_RESOURCES.items()
        ]
        self.fields["reason"].help_text = _(
            "Needed for an unmasked export, or for more than %(rows)d rows of "
            "personal data; written to the personal data access log."
        ) % {"rows": settings.PII_EXPORT_REASON_ROWS}
        self.fields["region"].queryset = (
            Region.objects.visible_to(user)
            .filter(level__in=EXPORT_AREA_LEVELS)
            .order_by("tree_id", "lft")
        )


@admin.register(DataJob)
class DataJobAdmin(admin.ModelAdmin):
    list_display = (
        "created_at",
        "kind",
        "resource_label",
        "state",
        "progress",
        "source_name",
    )
    list_filter = ("kind", "state")
    list_display_links = ("created_at",)
    change_list_template = "admin/grids/datajob/change_list.html"

    def get_queryset(self, request):
        return DataJob.objects.visible_to(request.user).select_related("region")

    def has_module_permission(self, request):
        return permissions.can_view(request.user)

    def has_view_permission(self, request, obj=None):
        return permissions.can_view(request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("data"))
    def resource_label(self, obj):
        spec = JOB_RESOURCES.get(obj.resource)
        return spec.label if spec else obj.resource

    @admin.display(description=_("progress"))
    def progress(self, obj):
        return f"{obj.rows_checked} / {obj.rows_total}"

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("import/", wrap(self.import_view), name="grids_datajob_import"),
            path("export/", wrap(self.export_view), name="grids_datajob_export"),
            path(
                "<path:object_id>/status/",
                wrap(self.status_view),
                name="grids_datajob_status",
            ),
            path(
                "<path:object_id>/download/",
                wrap(self.download_view),
                name="grids_datajob_download",
            ),
            *super().get_urls(),
        ]

    def _job(self, request, object_id) -> DataJob:
        job_id = parse_id(object_id)
        if job_id is None or not self.has_view_permission(request):
            raise Http404
        try:
            return selectors.data_job_detail(actor=request.user, job_id=job_id)
        except DomainError:
            raise Http404 from None

    def change_view(self, request, object_id, form_url="", extra_context=None):
        job = self._job(request, object_id)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"{job.get_kind_display()} · {self.resource_label(job)} #{job.pk}",
            "job": job,
            "status": selectors.data_job_status(job),
            "resource_label": self.resource_label(job),
            "download_url": reverse("admin:grids_datajob_download", args=[job.pk])
            if services.data_job_file(job)
            else "",
            "status_url": reverse("admin:grids_datajob_status", args=[job.pk]),
        }
        return TemplateResponse(request, "admin/grids/datajob/progress.html", context)

    def status_view(self, request, object_id):
        job = self._job(request, object_id)
        response = JsonResponse(selectors.data_job_status(job))
        patch_cache_control(response, private=True, no_store=True)
        return response

    @staticmethod
    def _language(request) -> str:
        return getattr(request, "LANGUAGE_CODE", "") or ""

    def _submit_page(self, request, form, title, template):
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": title,
            "form": form,
        }
        return TemplateResponse(request, template, context)

    def import_view(self, request):
        if not self.has_view_permission(request):
            raise Http404
        data = request.POST if request.method == "POST" else None
        files = request.FILES if request.method == "POST" else None
        initial = {"resource": request.GET.get("resource", "")}
        form = DataJobImportForm(data, files, user=request.user, initial=initial)
        if request.method == "POST" and form.is_valid():
            try:
                job = services.data_job_import_submit(
                    actor=request.user,
                    resource=form.cleaned_data["resource"],
                    upload=form.cleaned_data["upload"],
                    language=self._language(request),
                )
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                return HttpResponseRedirect(
                    reverse("admin:grids_datajob_change", args=[job.pk])
                )
        return self._submit_page(
            request,
            form,
            _("Import a file in the background"),
            "admin/grids/datajob/submit.html",
        )

    def export_view(self, request):
        if not self.has_view_permission(request):
            raise Http404
        data = request.POST if request.method == "POST" else None
        initial = {
            "resource": request.GET.get("resource", ""),
            "file_format": DataJobFormat.XLSX,
        }
        form = DataJobExportForm(data, user=request.user, initial=initial)
        if request.method == "POST" and form.is_valid():
            try:
                job = services.data_job_export_submit(
                    actor=request.user,
                    resource=form.cleaned_data["resource"],
                    region=form.cleaned_data["region"],
                    file_format=form.cleaned_data["file_format"],
                    language=self._language(request),
                    unmasked=form.cleaned_data["unmasked"],
                    reason=form.cleaned_data["reason"],
                )
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                self.message_user(
                    request, _("The export was queued."), level=messages.SUCCESS
                )
                return HttpResponseRedirect(
                    reverse("admin:grids_datajob_change", args=[job.pk])
                )
        return self._submit_page(
            request,
            form,
            _("Export in the background"),
            "admin/grids/datajob/submit.html",
        )

    @staticmethod
    def _download_name(job) -> str:
        return f"{job.resource}-{job.created_at:%Y%m%d-%H%M}-{job.pk}.{job.file_format}"

    def download_view(self, request, object_id):
        return _download(request, self._job(request, object_id), self._download_name)


@require_safe
def _download(request, job, name_of):
    if job.kind != DataJobKind.EXPORT:
        raise Http404
    path = services.data_job_file(job)
    if path is None:
        raise Http404
    content_type = (
        "text/csv; charset=utf-8"
        if job.file_format == DataJobFormat.CSV
        else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response = FileResponse(path.open("rb"), content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=name_of(job)
    )
    response["X-Content-Type-Options"] = "nosniff"
    patch_cache_control(response, private=True, no_store=True)
    return response
