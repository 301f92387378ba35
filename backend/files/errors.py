"""The files app's errors, in the one error shape (common.errors)."""

from __future__ import annotations

from common.errors import ApplicationError, Conflict, RateLimited

from .kinds import SUPPORTED_HELP

MIB = 1024 * 1024

KIND_NAMES = {
    "pdf": "PDF",
    "docx": "Word",
    "pptx": "PowerPoint",
    "xlsx": "Excel",
    "epub": "EPUB",
    "text": "text",
    "image": "image",
    "zip": "Office",
}


def mib(size: int) -> str:
    return f"{size / MIB:.0f} MiB" if size >= MIB else f"{size // 1024} KiB"


class FileTooLarge(ApplicationError):
    status_code = 413
    code = "file_too_large"

    def __init__(self, *, kind: str, limit_bytes: int) -> None:
        name = KIND_NAMES.get(kind, "this kind of")
        super().__init__(
            f"The file is too large: {name} files may be at most {mib(limit_bytes)}.",
            extra={"limit": f"{kind}_bytes", "limit_value": limit_bytes},
        )


class UnsupportedType(ApplicationError):
    status_code = 415
    code = "unsupported_type"

    def __init__(self, *, mime: str) -> None:
        super().__init__(f"This type of file ({mime}) cannot be read. Whale reads {SUPPORTED_HELP}.")


class FileQuotaExceeded(RateLimited):
    """429 for the daily limits (files, bytes) with Retry-After to the next UTC day."""

    def __init__(self, *, limit: str, limit_value: int, retry_after: int) -> None:
        messages = {
            "files_per_day": f"You have uploaded today's allowance of {limit_value} files.",
            "file_bytes_per_day": f"You have uploaded today's allowance of {mib(limit_value)}.",
        }
        super().__init__(
            messages[limit],
            retry_after=retry_after,
            code=f"{limit}_exceeded",
            extra={"limit": limit, "limit_value": limit_value},
        )


class FileStorageFull(Conflict):
    code = "file_storage_exceeded"

    def __init__(self, *, limit_value: int) -> None:
        super().__init__(
            f"Your files take up all of your {mib(limit_value)} of storage. Delete some to upload more.",
            extra={"limit": "file_storage_bytes", "limit_value": limit_value},
        )
