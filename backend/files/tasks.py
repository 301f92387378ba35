"""Celery tasks of files: reading a file (on the files queue, never a GPU worker's) and sweeping orphans."""

from __future__ import annotations

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings

from . import services
from .clamd import ScanUnavailable
from .models import UploadedFile

# The child process stops at WHALE_FILES_EXTRACT_SECONDS; the soft limit is the worker's own backstop.
EXTRACT_SOFT_LIMIT = settings.WHALE_FILES_EXTRACT_SECONDS + 30


@shared_task(
    name=services.TASK_EXTRACT,
    soft_time_limit=EXTRACT_SOFT_LIMIT,
    time_limit=EXTRACT_SOFT_LIMIT + 30,
    autoretry_for=(ScanUnavailable,),
    retry_backoff=True,
    max_retries=5,
)
def extract_file(file_id: str) -> str | None:
    try:
        file = services.file_extract(file_id=file_id)
    except SoftTimeLimitExceeded:
        stuck = UploadedFile.objects.filter(id=file_id, status=UploadedFile.Status.READING).first()
        if stuck is not None:
            services.file_fail(file=stuck, code="timeout", message="Reading this file took too long.")
        return "timeout"
    return file.status if file else None


@shared_task(name="whale.files.delete_orphans")
def delete_orphans() -> int:
    return services.files_delete_orphans()
