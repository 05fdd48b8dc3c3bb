"""Background imports and exports (后台导入导出): ``grids.DataJob``.

An import stores the uploaded file, makes one job per submission (the same
bytes submitted twice by the same user while the first waits, runs or has
succeeded are one job), and runs it after commit: in the request when the file
is small (``DATA_JOB_INLINE_ROWS``), otherwise on a Celery worker. The run
checks and writes every row through the resources of ``grids.resources`` (the
services, as the submitter, inside the submitter's scope) in ONE transaction:
any refused row rolls every row back. While it runs, the counters are written
on a second database connection, so the progress page sees them although the
import's own transaction is still open.

An export writes the rows of one area (the whole scope, a district, a street or
a community) to a CSV or xlsx file, one row at a time, through the same
resource hooks as the admin's export (masking and formula-safe cells included).
Files live under ``DATA_JOBS_DIR``; ``data_jobs_cleanup`` removes them after
``DATA_JOB_RETENTION_HOURS`` and fails jobs a dead worker left running.
"""

import csv
import hashlib
import io
import json
import logging
import os
import uuid
from datetime import timedelta
from pathlib import Path

import tablib
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from .. import permissions
from ..choices import DataJobFormat, DataJobKind, DataJobState
from ..errors import DomainError
from ..exports import safe_row
from ..models import DataJob
from ..querysets import subtree_q
from .personal_data import personal_data_export, personal_data_export_check

# The job option holding an export's personal-data choice (masked or not, and
# the reason), kept apart from the options the resource's export receives.
PERSONAL_DATA_OPTION = "personal_data"

logger = logging.getLogger(__name__)

ACTIVE_STATES = (DataJobState.QUEUED, DataJobState.RUNNING)


class _Refused(Exception):
    """Raised inside the import's transaction to roll every row back."""


def _job_resource_spec(resource: str):
    from ..resources import JOB_RESOURCES

    spec = JOB_RESOURCES.get(resource)
    if spec is None:
        raise DomainError(_("Unknown kind of data."), code="unknown_resource")
    return spec


def _jobs_dir() -> Path:
    folder = Path(settings.DATA_JOBS_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _format_of(filename: str) -> str:
    extension = Path(filename or "").suffix.lower().lstrip(".")
    if extension not in DataJobFormat.values:
        raise DomainError(
            _("Upload a CSV or an Excel (.xlsx) file."), code="unsupported_format"
        )
    return extension


def load_dataset(content: bytes, file_format: str) -> tablib.Dataset:
    """The rows of an uploaded CSV (UTF-8, with or without BOM, or GB18030 as
    Chinese Excel saves it) or xlsx file; a DomainError for a file that is not."""
    try:
        if file_format == DataJobFormat.CSV:
            try:
                text = content.decode("utf-8-sig")
            except UnicodeDecodeError:
                text = content.decode("gb18030")
            return tablib.Dataset().load(text, format="csv")
        return tablib.Dataset().load(io.BytesIO(content), format="xlsx")
    except DomainError:
        raise
    except Exception:  # tablib, csv and openpyxl raise many kinds for a bad file
        raise DomainError(
            _("The file could not be read as %(format)s.")
            % {"format": file_format.upper()},
            code="unreadable_file",
        ) from None


def _same_submission(*, actor, kind, resource, digest):
    return DataJob.objects.filter(
        actor=actor, kind=kind, resource=resource, digest=digest
    ).filter(
        Q(state__in=ACTIVE_STATES)
        | Q(
            kind=DataJobKind.IMPORT,
            state=DataJobState.SUCCEEDED,
            files_removed_at__isnull=True,
        )
    )


def _create_once(job: DataJob, *, file_to_remove: Path | None = None) -> DataJob:
    """Insert ``job``, or return the job of the same submission that won."""
    try:
        with transaction.atomic():
            job.save(force_insert=True)
    except IntegrityError:
        if file_to_remove is not None:
            file_to_remove.unlink(missing_ok=True)
        existing = _same_submission(
            actor=job.actor, kind=job.kind, resource=job.resource, digest=job.digest
        ).first()
        if existing is None:
            raise
        return existing
    return job


def data_job_import_submit(
    *, actor, resource: str, upload, language: str | None = None
) -> DataJob:
    """Store ``upload`` (a Django UploadedFile) and queue its import as ``actor``.

    Returns the job; the same file submitted again while its job waits or runs,
    or after it succeeded, returns that job instead of a second one.
    """
    spec = _job_resource_spec(resource)
    permissions.require(permissions.can_view(actor) and spec.may_import(actor))
    file_format = _format_of(upload.name)
    if upload.size > settings.DATA_JOB_MAX_UPLOAD_BYTES:
        raise DomainError(
            _("The file is larger than %(size)d MB.")
            % {"size": settings.DATA_JOB_MAX_UPLOAD_BYTES // (1024 * 1024)},
            code="file_too_large",
        )
    content = upload.read()
    dataset = load_dataset(content, file_format)
    if not dataset.headers:
        raise DomainError(_("The file has no header row."), code="no_header")
    if len(dataset) > settings.DATA_JOB_MAX_ROWS:
        raise DomainError(
            _("The file has more than %(rows)d rows; split it.")
            % {"rows": settings.DATA_JOB_MAX_ROWS},
            code="too_many_rows",
        )
    digest = hashlib.sha256(content).hexdigest()
    existing = _same_submission(
        actor=actor, kind=DataJobKind.IMPORT, resource=resource, digest=digest
    ).first()
    if existing is not None:
        return existing
    path = _jobs_dir() / f"import-{uuid.uuid4().hex}.{file_format}"
    path.write_bytes(content)
    job = DataJob(
        kind=DataJobKind.IMPORT,
        resource=resource,
        file_format=file_format,
        actor=actor,
        region=None if actor.is_superuser else actor.region,
        language=language or translation.get_language() or settings.LANGUAGE_CODE,
        digest=digest,
        source_name=Path(upload.name).name[:255],
        source_path=path.name,
        rows_total=len(dataset),
    )
    with transaction.atomic():
        saved = _create_once(job, file_to_remove=path)
        if saved is job:
            inline = job.rows_total <= settings.DATA_JOB_INLINE_ROWS
            transaction.on_commit(lambda: _start(job.pk, inline=inline))
    return saved


def data_job_export_submit(
    *,
    actor,
    resource: str,
    file_format: str = DataJobFormat.XLSX,
    region=None,
    options: dict | None = None,
    language: str | None = None,
    unmasked: bool = False,
    reason: str = "",
) -> DataJob:
    """Queue an export of ``resource`` in ``region``'s subtree (default: the
    actor's whole scope) to a ``file_format`` file. ``options`` go to the
    resource's export unchanged, as the admin's export passes them.

    Personal data is exported masked unless ``unmasked``; an unmasked export, or
    one over ``PII_EXPORT_REASON_ROWS`` rows, needs a ``reason`` and is written
    to the access log when the file is built (``personal_data_export``, the
    rule every export follows). Both are checked here too, so a refusal is told
    at once instead of as a failed job."""
    spec = _job_resource_spec(resource)  # an unknown kind of data is refused here
    permissions.require(permissions.can_view(actor))
    if file_format not in DataJobFormat.values:
        raise DomainError(_("Unknown file format."), code="unsupported_format")
    if region is None:
        region = None if actor.is_superuser else actor.region
    else:
        permissions.require_in_scope(actor, region)
    options = dict(options or {})
    if spec.resource_class.personal_fields:
        reason = (reason or "").strip()
        rows = spec.resource_class(user=actor).get_queryset()
        if region is not None:
            rows = rows.filter(subtree_q(region, spec.scope_path))
        personal_data_export_check(
            actor=actor, row_count=rows.count(), unmasked=unmasked, reason=reason
        )
        options[PERSONAL_DATA_OPTION] = {"unmasked": bool(unmasked), "reason": reason}
    digest = hashlib.sha256(
        json.dumps(
            [resource, region.pk if region else None, file_format, options],
            sort_keys=True,
            default=str,
        ).encode()
    ).hexdigest()
    job = DataJob(
        kind=DataJobKind.EXPORT,
        resource=resource,
        file_format=file_format,
        actor=actor,
        region=region,
        language=language or translation.get_language() or settings.LANGUAGE_CODE,
        digest=digest,
        options=options,
    )
    with transaction.atomic():
        saved = _create_once(job)
        if saved is job:
            transaction.on_commit(lambda: _start(job.pk, inline=False))
    return saved


def _start(job_id: int, *, inline: bool) -> None:
    if inline:
        data_job_run(job_id=job_id)
        return
    from ..broker import enqueue
    from ..tasks import run_data_job

    # With the broker down the job stays queued: data_jobs_requeue sends it.
    enqueue(run_data_job, job_id)


def data_jobs_requeue(*, now=None) -> int:
    """The periodic sweep: announce again the jobs still queued after
    ``DATA_JOB_REQUEUE_MINUTES`` (their first announcement was lost, e.g. while
    Redis was down). A job runs once however often it is announced: the run
    claims it with a conditional update. Returns how many were announced."""
    now = now or timezone.now()
    waiting = DataJob.objects.filter(
        state=DataJobState.QUEUED,
        created_at__lt=now - timedelta(minutes=settings.DATA_JOB_REQUEUE_MINUTES),
    ).values_list("pk", flat=True)[:500]
    job_ids = list(waiting)
    for job_id in job_ids:
        _start(job_id, inline=False)
    return len(job_ids)


class _Progress:
    """Writes a running job's counters where other sessions see them at once.

    On PostgreSQL: a second connection in autocommit, so the counters commit
    while the import's own transaction stays open. The UPDATE skips a locked row
    rather than wait, so it never blocks on the caller's own transaction. On
    other databases the counters are only written when the job ends."""

    def __init__(self, job_id: int):
        self.job_id = job_id
        self.connection = (
            connection.copy() if connection.vendor == "postgresql" else None
        )

    def report(self, **counters) -> None:
        if self.connection is None or not counters:
            return
        table = DataJob._meta.db_table
        columns = ", ".join(f"{name} = %s" for name in counters)
        with self.connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET {columns} WHERE id = ("
                f"SELECT id FROM {table} WHERE id = %s AND state = %s "
                "FOR UPDATE SKIP LOCKED)",
                [*counters.values(), self.job_id, DataJobState.RUNNING],
            )

    def counters(self, *, checked=None, written=None, errors=None) -> None:
        """A bulk import's counters so far (``report_progress``): rows checked,
        rows written, refused rows; those not given are left as they are."""
        self.report(
            **{
                column: value
                for column, value in (
                    ("rows_checked", checked),
                    ("rows_written", written),
                    ("error_count", errors),
                )
                if value is not None
            }
        )

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()


def data_job_run(*, job_id: int) -> str | None:
    """Run a queued job to its end; returns its final state, or None when the
    job is not queued (already taken by another worker, or finished)."""
    now = timezone.now()
    claimed = DataJob.objects.filter(pk=job_id, state=DataJobState.QUEUED).update(
        state=DataJobState.RUNNING, started_at=now
    )
    if not claimed:
        return None
    job = DataJob.objects.select_related("actor", "region").get(pk=job_id)
    progress = _Progress(job.pk)
    try:
        with translation.override(job.language):
            if job.kind == DataJobKind.IMPORT:
                outcome = _run_import(job, progress)
            else:
                outcome = _run_export(job, progress)
    except Exception:
        logger.exception("data job %s stopped on an error", job_id)
        with translation.override(job.language):
            outcome = {
                "state": DataJobState.FAILED,
                "rows_written": 0,
                "message": _(
                    "The job stopped on an unexpected error; nothing was written."
                ),
            }
    finally:
        progress.close()
    DataJob.objects.filter(pk=job_id, state=DataJobState.RUNNING).update(
        finished_at=timezone.now(), **outcome
    )
    return outcome["state"]


def _result_errors(result, offset: int) -> list[dict]:
    """Row errors of one chunk's import Result, numbered as rows of the file."""
    if result.base_errors:  # the file itself (a missing column): no row counts
        return [
            {"row": 0, "field": "", "message": str(error.error)}
            for error in result.base_errors
        ]
    errors = []
    for number, row_errors in result.row_errors():
        for error in row_errors:
            errors.append(
                {"row": offset + number, "field": "", "message": str(error.error)}
            )
    for invalid in result.invalid_rows:
        errors.extend(row_field_errors(offset + invalid.number, invalid.error_dict))
    return sorted(errors, key=lambda e: e["row"])


def row_field_errors(row: int, error_dict: dict) -> list[dict]:
    """A row's field errors (a ``ValidationError``'s ``message_dict``) in the
    job's form, one entry a message; a whole-row error has no field."""
    return [
        {
            "row": row,
            "field": "" if field == "__all__" else field,
            "message": str(message),
        }
        for field, messages in error_dict.items()
        for message in messages
    ]


def _run_import(job: DataJob, progress: _Progress) -> dict:
    spec = _job_resource_spec(job.resource)
    actor = job.actor
    if not (permissions.can_view(actor) and spec.may_import(actor)):
        return {
            "state": DataJobState.FAILED,
            "message": _(
                "Your role no longer allows this import; nothing was written."
            ),
        }
    content = (_jobs_dir() / job.source_path).read_bytes()
    dataset = load_dataset(content, job.file_format)
    total = len(dataset)
    if spec.bulk_import is not None:
        return _run_bulk_import(spec, actor, dataset, progress)
    chunk_rows = settings.DATA_JOB_CHUNK_ROWS
    max_errors = settings.DATA_JOB_MAX_ERRORS
    resource = spec.job_resource(actor)
    errors: list[dict] = []
    refused_rows = set()
    checked = written = 0
    progress.report(rows_total=total)
    try:
        with transaction.atomic():
            for start in range(0, total, chunk_rows):
                part = tablib.Dataset(
                    *dataset[start : start + chunk_rows], headers=dataset.headers
                )
                # import_data_inner: each row in its own savepoint, inside this
                # one transaction (import_data would roll back a whole chunk).
                result = resource.import_data_inner(
                    part, False, False, True, False, user=actor
                )
                chunk_errors = _result_errors(result, start)
                refused_rows.update(e["row"] for e in chunk_errors)
                errors.extend(chunk_errors[: max(0, max_errors - len(errors))])
                checked += len(part)
                written = checked - len(refused_rows - {0})
                progress.report(
                    rows_checked=checked,
                    rows_written=written if not refused_rows else 0,
                    error_count=len(refused_rows),
                )
                if result.base_errors:
                    break  # a missing column: no row can be read
            if refused_rows:
                raise _Refused
    except _Refused:
        return _refused_outcome(total, checked, len(refused_rows), errors)
    return _written_outcome(total, written)


def _refused_outcome(total, checked, refused, errors) -> dict:
    return {
        "state": DataJobState.FAILED,
        "rows_total": total,
        "rows_checked": checked,
        "rows_written": 0,
        "error_count": refused,
        "row_errors": errors,
        "message": _(
            "%(count)d rows were refused; nothing of the file was written. "
            "Correct them and upload the file again."
        )
        % {"count": refused},
    }


def _written_outcome(total, written) -> dict:
    return {
        "state": DataJobState.SUCCEEDED,
        "rows_total": total,
        "rows_checked": total,
        "rows_written": written,
        "error_count": 0,
        "row_errors": [],
        "message": _("All %(count)d rows were written.") % {"count": written},
    }


def _run_bulk_import(spec, actor, dataset, progress: _Progress) -> dict:
    """The whole file through the resource's set-based import
    (``JobResource.bulk_import``): the same checks and all-or-nothing
    outcome as the row-by-row import, a few statements instead of several a row.
    The counters move while it runs: rows checked and refused rows every
    ``PROGRESS_EVERY`` rows, rows written after each chunk (``_Progress``'s own
    connection, so the page sees them before the transaction commits)."""
    total = len(dataset)
    progress.report(rows_total=total)
    try:
        with transaction.atomic():
            errors = spec.bulk_import(actor, dataset, progress=progress.counters)
            refused = {e["row"] for e in errors}
            progress.report(
                rows_checked=total,
                rows_written=0 if errors else total,
                error_count=len(refused),
            )
            if errors:
                raise _Refused
    except _Refused:
        return _refused_outcome(
            total, total, len(refused), errors[: settings.DATA_JOB_MAX_ERRORS]
        )
    return _written_outcome(total, total)


def export_queryset(job: DataJob, resource, spec):
    """The rows an export job writes: the resource's scoped rows (the
    submitter's scope), within the job's area."""
    queryset = resource.get_queryset()
    if job.region is not None:
        queryset = queryset.filter(subtree_q(job.region, spec.scope_path))
    return queryset.select_related(*spec.export_related).order_by("pk")


def _run_export(job: DataJob, progress: _Progress) -> dict:
    from ..resources import export_rows

    spec = _job_resource_spec(job.resource)
    actor = job.actor
    if not permissions.can_view(actor) or (
        job.region is not None and not actor.can_see_region(job.region)
    ):
        return {
            "state": DataJobState.FAILED,
            "message": _(
                "This area lies outside your scope now; nothing was exported."
            ),
        }
    options = dict(job.options)
    personal = options.pop(PERSONAL_DATA_OPTION, {"unmasked": False, "reason": ""})
    resource = spec.job_resource(actor, **personal)
    queryset = export_queryset(job, resource, spec)
    total = queryset.count()
    progress.report(rows_total=total)
    if not resource.personal_fields:
        return _write_export(
            job, spec, export_rows(resource, queryset, **options), progress
        )
    try:
        return personal_data_export(
            actor=actor,
            model=resource._meta.model,
            row_count=total,
            fields=list(resource.personal_fields),
            build=lambda: _write_export(
                job, spec, export_rows(resource, queryset, **options), progress
            ),
            **personal,
        )
    except DomainError as exc:
        return {"state": DataJobState.FAILED, "message": exc.message}


def _write_export(job: DataJob, spec, rows, progress: _Progress) -> dict:
    """Write the export's ``rows`` (the header first) to the job's file."""
    name = f"export-{uuid.uuid4().hex}.{job.file_format}"
    final = _jobs_dir() / name
    partial = final.with_suffix(final.suffix + ".part")
    written = 0
    every = settings.DATA_JOB_CHUNK_ROWS * 4
    try:
        if job.file_format == DataJobFormat.CSV:
            # A BOM so Excel opens the UTF-8 file as UTF-8 (Chinese text).
            with partial.open("w", newline="", encoding="utf-8-sig") as out:
                writer = csv.writer(out)
                writer.writerow(safe_row(next(rows)))
                for row in rows:
                    writer.writerow(safe_row(row))
                    written += 1
                    if written % every == 0:
                        progress.report(rows_checked=written, rows_written=written)
        else:
            from openpyxl import Workbook

            workbook = Workbook(write_only=True)
            sheet = workbook.create_sheet(title=str(spec.label)[:31])
            sheet.append(safe_row(next(rows)))
            for row in rows:
                sheet.append(safe_row(row))
                written += 1
                if written % every == 0:
                    progress.report(rows_checked=written, rows_written=written)
            workbook.save(partial)
        os.replace(partial, final)
    finally:
        partial.unlink(missing_ok=True)
    return {
        "state": DataJobState.SUCCEEDED,
        "rows_total": written,
        "rows_checked": written,
        "rows_written": written,
        "result_path": name,
        "message": _("%(count)d rows exported.") % {"count": written},
    }


def data_job_file(job: DataJob) -> Path | None:
    """The finished export's file, while it is kept; None otherwise."""
    if (
        job.kind != DataJobKind.EXPORT
        or job.state != DataJobState.SUCCEEDED
        or not job.result_path
        or job.files_removed_at is not None
    ):
        return None
    path = _jobs_dir() / job.result_path
    return path if path.is_file() else None


def data_jobs_cleanup(*, now=None) -> dict:
    """The periodic pass: fail jobs left running past the task time limit (a
    worker died; their transaction was rolled back, nothing was written), and
    remove the files of jobs finished more than DATA_JOB_RETENTION_HOURS ago.
    Running it twice changes nothing the second time."""
    now = now or timezone.now()
    stale_before = now - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 300)
    with transaction.atomic():
        stale = list(
            DataJob.objects.select_for_update(skip_locked=True)
            .filter(state=DataJobState.RUNNING, started_at__lt=stale_before)
            .values_list("pk", "language")
        )
        for pk, language in stale:
            with translation.override(language):
                message = _(
                    "The job was interrupted; nothing was written. "
                    "Submit the file again."
                )
            DataJob.objects.filter(pk=pk, state=DataJobState.RUNNING).update(
                state=DataJobState.FAILED,
                rows_written=0,
                finished_at=now,
                message=message,
            )
    removed = 0
    expired_before = now - timedelta(hours=settings.DATA_JOB_RETENTION_HOURS)
    with transaction.atomic():
        expired = list(
            DataJob.objects.select_for_update(skip_locked=True)
            .filter(
                state__in=(DataJobState.SUCCEEDED, DataJobState.FAILED),
                finished_at__lt=expired_before,
                files_removed_at__isnull=True,
            )
            .values_list("pk", "source_path", "result_path")
        )
        folder = _jobs_dir()
        for _pk, *names in expired:
            for name in names:
                if name:
                    (folder / name).unlink(missing_ok=True)
                    removed += 1
        DataJob.objects.filter(pk__in=[e[0] for e in expired]).update(
            files_removed_at=now, source_path="", result_path=""
        )
    return {"interrupted": len(stale), "files_removed": removed}
