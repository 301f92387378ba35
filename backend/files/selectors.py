"""Reads: one user's file (another user's is a 404), the bytes a user keeps, today's uploads."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.db.models import Sum
from django.utils import timezone

from common.errors import NotFound
from ratelimits.models import UsageDay

from .models import UploadedFile


def file_get(*, user: Any, file_id: object) -> UploadedFile:
    try:
        return UploadedFile.objects.get(id=uuid.UUID(str(file_id)), owner_id=user.pk)
    except (ValueError, UploadedFile.DoesNotExist) as exc:
        raise NotFound("No such file.") from exc


def storage_used(*, user: Any) -> int:
    return int(UploadedFile.objects.filter(owner_id=user.pk).aggregate(total=Sum("size"))["total"] or 0)


def uploads_today(*, user: Any, today: dt.date | None = None) -> tuple[int, int]:
    """(files, bytes) the user uploaded today (UTC), as the app's usage row counts them."""
    row = (
        UsageDay.objects.filter(user_id=user.pk, date=today or timezone.now().date(), api_key_id__isnull=True)
        .values("files", "file_bytes")
        .first()
    )
    return (int(row["files"]), int(row["file_bytes"])) if row else (0, 0)


def orphans(*, older_than: dt.datetime) -> Any:
    """Uploads never attached to a message, created before `older_than` (a partner's upload is none: it is
    referenced by id, and kept until deleted)."""
    return UploadedFile.objects.filter(message__isnull=True, created_at__lt=older_than, purpose="")


def files_export(user: Any) -> list[dict[str, Any]]:
    """The user's files for the account export, with the text read from each (not the original bytes)."""
    rows = UploadedFile.objects.filter(owner_id=user.pk).order_by("created_at", "id")
    return [
        {
            "id": str(file.id),
            "name": file.name,
            "size": file.size,
            "mime": file.mime,
            "kind": file.kind,
            "status": file.status,
            "pages": file.pages,
            "truncated": file.truncated,
            "conversation_id": str(file.conversation_id) if file.conversation_id else None,
            "message_id": str(file.message_id) if file.message_id else None,
            "created_at": file.created_at.isoformat(),
            "text": file.text,
        }
        for file in rows.iterator()
    ]
