"""Writes of import records: upload, check (dry run), confirm — run in the background with progress.

A browser import is two runs of the same importer on the same stored file: first a dry run whose summary and errors
the user reads, then, after confirmation, the real run. Each importer writes in one transaction, so a failed run
writes nothing and the record says why.
"""

from __future__ import annotations

import contextvars
import logging
import threading
import traceback
import uuid
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import close_old_connections, connection, transaction
from django.utils import timezone

from samverkan.accounts.models import User
from samverkan.audit import services as audit
from samverkan.imports.base import ImportFailed, RowError
from samverkan.imports.models import ImportRecord, ImportStatus
from samverkan.imports.registry import importer_for

logger = logging.getLogger(__name__)

# Progress is written to the record at most this often (items), so the database is not hammered by a big import.
PROGRESS_EVERY = 500


def upload_dir() -> Path:
    path = Path(settings.VAR_DIR) / "uploads"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _store(upload: UploadedFile, prefix: str) -> Path:
    safe = Path(upload.name or "fil").name.replace(" ", "_")[-100:]
    target = upload_dir() / f"{prefix}-{safe}"
    with target.open("wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    return target


def import_record_create(
    *, user: User, kind: str, upload: UploadedFile, options: dict, attachments: dict[str, UploadedFile] | None = None
) -> ImportRecord:
    """Store the uploaded file (and any attachment such as a mapping file) and create a pending record."""
    prefix = uuid.uuid4().hex[:12]
    path = _store(upload, prefix)
    stored_options = dict(options)
    for name, attachment in (attachments or {}).items():
        stored_options[name] = str(_store(attachment, f"{prefix}-{name}"))
    return ImportRecord.objects.create(
        kind=kind,
        filename=Path(upload.name or "fil").name,
        stored_path=str(path),
        options=stored_options,
        user=user,
        dry_run=True,
        status=ImportStatus.PENDING,
    )


def import_record_start(*, record: ImportRecord, dry_run: bool) -> None:
    """Run the record's import in the background (or at once when ``SAMVERKAN_IMPORTS_SYNC`` is set, as in tests)."""
    ImportRecord.objects.filter(pk=record.pk).update(
        dry_run=dry_run, status=ImportStatus.PENDING, processed=0, total=None, errors=[], summary={}
    )
    if getattr(settings, "SAMVERKAN_IMPORTS_SYNC", False):
        import_record_run(record.pk)
        return
    # In the request's context, so the audit log knows where the confirmation came from.
    context = contextvars.copy_context()
    threading.Thread(
        target=context.run, args=(_run_in_thread, record.pk), daemon=True, name=f"import-{record.pk}"
    ).start()


def _run_in_thread(record_id: int) -> None:
    close_old_connections()
    try:
        import_record_run(record_id)
    finally:
        connection.close()


def import_record_run(record_id: int) -> ImportRecord:
    record = ImportRecord.objects.select_related("user").get(pk=record_id)
    importer = importer_for(record.kind)
    record.status = ImportStatus.RUNNING
    record.started_at = timezone.now()
    record.finished_at = None
    record.save(update_fields=["status", "started_at", "finished_at"])
    last = [0]

    def progress(done: int, total: int | None) -> None:
        if done - last[0] >= PROGRESS_EVERY or (total is not None and done >= total):
            last[0] = done
            ImportRecord.objects.filter(pk=record_id).update(processed=done, total=total)

    try:
        if not record.stored_path or not Path(record.stored_path).exists():
            # Gallring deletes an upload's file after its period; a check older than that cannot be confirmed.
            raise ImportFailed(
                [RowError(None, None, "Filen finns inte längre (gallrad). Ladda upp den igen och kontrollera den.")]
            )
        summary = importer.run(
            Path(record.stored_path),
            user=record.user,
            options=record.options,
            dry_run=record.dry_run,
            progress=progress,
        )
    except ImportFailed as exc:
        record.status = ImportStatus.FAILED
        record.errors = [{"row": e.row, "field": e.field, "message": e.message} for e in exc.errors]
        record.summary = exc.summary.as_dict() if exc.summary else {}
    except Exception:
        logger.exception("import %s crashed", record_id)
        record.status = ImportStatus.FAILED
        record.errors = [{"row": None, "field": None, "message": "Ett oväntat fel inträffade. Inget sparades."}]
        record.summary = {"traceback": traceback.format_exc(limit=3)}
    else:
        record.status = ImportStatus.CHECKED if record.dry_run else ImportStatus.DONE
        record.summary = summary.as_dict()
        record.errors = [{"row": e.row, "field": e.field, "message": e.message} for e in summary.errors]
        record.processed = summary.total
        record.total = summary.total
    record.finished_at = timezone.now()
    with transaction.atomic():
        record.save()
        if record.status == ImportStatus.DONE:
            audit.record_import(kind=record.kind, counts=record.summary, via="web", obj=record, actor=record.user)
    return record
