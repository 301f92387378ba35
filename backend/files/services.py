"""Writes: accepting an upload (limits, sniffing, storage), reading it on the files worker, deleting files."""

from __future__ import annotations

import datetime as dt
import logging
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Any

from celery import current_app
from django.conf import settings
from django.core.files import File
from django.core.files.storage import storages
from django.db import transaction
from django.utils import timezone

from common import events
from ratelimits.selectors import limits_for_user
from ratelimits.services import usage_record

from . import clamd, kinds, metrics, runner, selectors
from .errors import FileQuotaExceeded, FileStorageFull, FileTooLarge, UnsupportedType
from .extractor import Options
from .models import UploadedFile
from .names import sanitize_name
from .uploads import Received, SniffingUploadHandler

logger = logging.getLogger(__name__)

FAILURE_MESSAGE_MAX = 300


def _seconds_to_next_utc_day() -> int:
    now = timezone.now()
    tomorrow = (now + dt.timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return max(1, int((tomorrow - now).total_seconds()))


def upload_handler_for(*, user: Any) -> SniffingUploadHandler:
    """Checks the limits an upload cannot pass whatever its size, then gives the handler the bytes left."""
    limits = limits_for_user(user=user)
    files_today, bytes_today = selectors.uploads_today(user=user)
    if limits.files_per_day is not None and files_today >= limits.files_per_day:
        raise FileQuotaExceeded(
            limit="files_per_day", limit_value=limits.files_per_day, retry_after=_seconds_to_next_utc_day()
        )
    left: list[tuple[int, Any]] = []
    if limits.file_bytes_per_day is not None:
        day_limit = limits.file_bytes_per_day
        left.append(
            (
                day_limit - bytes_today,
                lambda: FileQuotaExceeded(
                    limit="file_bytes_per_day", limit_value=day_limit, retry_after=_seconds_to_next_utc_day()
                ),
            )
        )
    if limits.file_storage_bytes is not None:
        storage_limit = limits.file_storage_bytes
        left.append(
            (storage_limit - selectors.storage_used(user=user), lambda: FileStorageFull(limit_value=storage_limit))
        )
    if not left:
        return SniffingUploadHandler()
    quota_bytes, over_quota = min(left, key=lambda item: item[0])
    if quota_bytes <= 0:
        raise over_quota()
    return SniffingUploadHandler(quota_bytes=quota_bytes, over_quota=over_quota)


def _refine(received: Received) -> tuple[str, str]:
    """The kind and MIME type once the whole file is here: a zip is Word, PowerPoint, Excel, EPUB or refused."""
    kind, mime = received.kind, received.mime
    if kind in (kinds.ZIP, kinds.DOCX, kinds.PPTX, kinds.XLSX, kinds.EPUB):
        received.file.seek(0)
        found = kinds.zip_kind(received.file)
        received.file.seek(0)
        if found is None:
            if kind == kinds.ZIP:
                raise UnsupportedType(mime=mime)
            found = kind  # libmagic named it; the extractor finds out whether it is damaged
        kind, mime = found, kinds.KIND_MIMES[found]
    limit = kinds.limit_for_kind(kind)
    if received.size > limit:
        raise FileTooLarge(kind=kind, limit_bytes=limit)
    return kind, mime


def file_create(*, user: Any, received: Received, purpose: str = "") -> UploadedFile:
    """Stores an upload that passed the handler and queues its reading on the files worker (`purpose`: the
    partner API's upload, see UploadedFile.purpose)."""
    kind, mime = _refine(received)
    file_id = uuid.uuid4()
    blob = f"{user.pk}/{file_id}"
    name = sanitize_name(received.name)
    stored = storages["files"].save(blob, File(received.file, name=blob))
    try:
        with transaction.atomic():
            file = UploadedFile.objects.create(
                id=file_id,
                owner=user,
                name=name,
                size=received.size,
                mime=mime,
                kind=kind,
                sha256=received.sha256,
                blob=stored,
                status=UploadedFile.Status.READING,
                purpose=purpose,
            )
            usage_record(
                user_id=str(user.pk), api_key_id=None, date=timezone.now().date(), files=1, file_bytes=received.size
            )
            transaction.on_commit(lambda: _queue_extraction(file_id))
            _publish(file)
    except Exception:
        storages["files"].delete(stored)
        raise
    metrics.FILES_UPLOADED.labels(kind=kind).inc()
    return file


# The files worker's task (files/tasks.py), sent by name: tasks import services, not the reverse.
TASK_EXTRACT = "whale.files.extract"


def _queue_extraction(file_id: uuid.UUID) -> None:
    current_app.send_task(TASK_EXTRACT, args=(str(file_id),), queue=settings.WHALE_FILES_QUEUE)


def _publish(file: UploadedFile) -> None:
    from .serializers import file_event_payload

    events.user_event_publish(user_id=file.owner_id, event_type=events.FILE_UPDATED, payload=file_event_payload(file))


def extraction_options() -> Options:
    return Options(
        max_pages=settings.WHALE_FILES_MAX_PAGES,
        max_decompressed_bytes=settings.WHALE_FILES_MAX_DECOMPRESSED_BYTES,
        max_text_chars=settings.WHALE_FILES_MAX_TEXT_CHARS,
        ocr_languages=settings.WHALE_FILES_OCR_LANGUAGES,
        ocr_pdf=settings.WHALE_FILES_OCR_PDF,
        ocr_max_pages=settings.WHALE_FILES_OCR_MAX_PAGES,
    )


def extraction_limits() -> runner.Limits:
    return runner.Limits(
        seconds=float(settings.WHALE_FILES_EXTRACT_SECONDS),
        memory_bytes=int(settings.WHALE_FILES_EXTRACT_MEMORY_MB) * 1024 * 1024,
    )


def _fail(file: UploadedFile, *, code: str, message: str) -> None:
    file.status = UploadedFile.Status.FAILED
    file.failure_code = code
    file.failure_message = message[:FAILURE_MESSAGE_MAX]


def file_extract(*, file_id: uuid.UUID | str) -> UploadedFile | None:
    """Reads a file's text in a bounded child process and records the outcome (once: a ready or failed
    file is left as it is, so a redelivered task does nothing)."""
    file = UploadedFile.objects.filter(id=file_id, status=UploadedFile.Status.READING).first()
    if file is None:
        return None
    with tempfile.TemporaryDirectory(prefix="whale-file-") as workdir:
        local = Path(workdir) / "original"
        try:
            with storages["files"].open(file.blob, "rb") as source, local.open("wb") as target:
                shutil.copyfileobj(source, target, 1024 * 1024)
        except FileNotFoundError:
            logger.warning("stored file %s is gone", file.blob)
            _fail(file, code="damaged", message="The stored file is missing.")
            return _settle(file, seconds=0.0)
        if settings.WHALE_CLAMD_URL:
            with local.open("rb") as handle:
                virus = clamd.scan(handle, url=settings.WHALE_CLAMD_URL)  # unavailable: the task retries
            if virus:
                _fail(file, code="infected", message="This file contains a virus, so it is not read.")
                return _settle(file, seconds=0.0)
        result = runner.run(
            path=local, kind=file.kind, mime=file.mime, options=extraction_options(), limits=extraction_limits()
        )
    outcome = result.outcome
    if outcome.status == "ready":
        file.status = UploadedFile.Status.READY
        file.text = result.text
        file.text_chars = len(result.text)
    else:
        _fail(file, code=outcome.reason or "damaged", message=outcome.message)
    file.pages, file.pages_read = outcome.pages, outcome.pages_read
    file.ocr_pages, file.truncated = outcome.ocr_pages, outcome.truncated
    return _settle(file, seconds=result.seconds)


def file_fail(*, file: UploadedFile, code: str, message: str) -> UploadedFile | None:
    """Marks a file being read as failed (the worker's time limit ran out)."""
    _fail(file, code=code, message=message)
    return _settle(file, seconds=float(settings.WHALE_FILES_EXTRACT_SECONDS))


def _settle(file: UploadedFile, *, seconds: float) -> UploadedFile | None:
    file.extraction_seconds = seconds
    file.updated_at = timezone.now()
    fields = (
        "status",
        "failure_code",
        "failure_message",
        "text",
        "text_chars",
        "pages",
        "pages_read",
        "ocr_pages",
        "truncated",
        "extraction_seconds",
        "updated_at",
    )
    with transaction.atomic():
        # Deleted while being read: nothing to record. Read twice at once: the first to settle wins.
        values = {name: getattr(file, name) for name in fields}
        if not UploadedFile.objects.filter(id=file.id, status=UploadedFile.Status.READING).update(**values):
            return None
        _publish(file)
    metrics.extraction_observed(kind=file.kind, seconds=seconds, reason=file.failure_code or None)
    return file


def file_delete(*, file: UploadedFile) -> None:
    """Deletes the row; its stored bytes go after commit (files.signals), as with a conversation or account."""
    with transaction.atomic():
        file_id, owner_id = str(file.id), file.owner_id
        file.delete()
        events.user_event_publish(user_id=owner_id, event_type=events.FILE_DELETED, payload={"file_id": file_id})


def files_delete_orphans(*, now: dt.datetime | None = None) -> int:
    """Deletes uploads never attached to a message once WHALE_FILES_ORPHAN_HOURS have passed."""
    cutoff = (now or timezone.now()) - dt.timedelta(hours=settings.WHALE_FILES_ORPHAN_HOURS)
    deleted = 0
    for file in selectors.orphans(older_than=cutoff).iterator():
        file_delete(file=file)
        deleted += 1
    return deleted
