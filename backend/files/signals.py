"""Deleting a file's row (itself, or with its conversation or account) deletes its stored bytes after commit."""

from __future__ import annotations

import logging
from typing import Any

from django.core.files.storage import storages
from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from .models import UploadedFile

logger = logging.getLogger(__name__)


def blob_delete(blob: str) -> None:
    try:
        storages["files"].delete(blob)
    except Exception:  # a storage outage must not undo the delete: logged, the blob stays behind
        logger.warning("could not delete stored file %s", blob, exc_info=True)


@receiver(post_delete, sender=UploadedFile)
def _delete_blob(sender: type[UploadedFile], instance: UploadedFile, **kwargs: Any) -> None:
    blob = instance.blob
    transaction.on_commit(lambda: blob_delete(blob))
