"""An upload handler that sniffs the file's type from its first bytes and stops at the size limit while reading.

Django's multipart parser hands each chunk here as it reads the body; nothing is kept in memory,
and the upload stops at the first chunk past the limit (the kind's, or what the user's quotas leave).
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any

from django.core.files.uploadhandler import FileUploadHandler

from common.errors import ValidationFailed

from . import kinds
from .errors import FileTooLarge, UnsupportedType

FIELD = "file"
SNIFF_BYTES = 64 * 1024


@dataclass
class Received:
    """One file as it arrived: a private temporary file, what libmagic said it is, its size and digest."""

    name: str
    file: IO[bytes]
    size: int
    mime: str
    kind: str
    sha256: str

    def close(self) -> None:
        self.file.close()


class SniffingUploadHandler(FileUploadHandler):
    chunk_size = SNIFF_BYTES

    def __init__(self, *, quota_bytes: int | None = None, over_quota: Callable[[], Exception] | None = None) -> None:
        super().__init__()
        self.quota_bytes = quota_bytes
        self.over_quota = over_quota
        self.received: Received | None = None
        self._file: IO[bytes] | None = None
        self._size = 0
        self._limit = 0
        self._kind = ""
        self._mime = ""
        self._digest = hashlib.sha256()

    def new_file(self, field_name: str, file_name: str, *args: Any, **kwargs: Any) -> None:
        super().new_file(field_name, file_name, *args, **kwargs)
        if field_name != FIELD:
            raise ValidationFailed(fields={field_name: [f"Send the file in the field `{FIELD}`."]})
        if self._file is not None:
            raise ValidationFailed(fields={FIELD: ["Send one file per request."]})
        self._file = tempfile.TemporaryFile(prefix="whale-upload-")  # noqa: SIM115 - closed by discard() or the service

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        assert self._file is not None
        if self._size == 0:
            self._sniff(raw_data)
        self._size += len(raw_data)
        if self.quota_bytes is not None and self._size > self.quota_bytes and self.over_quota is not None:
            raise self.over_quota()
        if self._size > self._limit:
            raise FileTooLarge(kind=self._kind, limit_bytes=self._limit)
        self._file.write(raw_data)
        self._digest.update(raw_data)
        return None

    def _sniff(self, head: bytes) -> None:
        self._mime = kinds.sniff_mime(head)
        kind = kinds.kind_for_mime(self._mime)
        if kind is None:
            raise UnsupportedType(mime=self._mime)
        self._kind = kind
        self._limit = kinds.limit_for_kind(kind)

    def file_complete(self, file_size: int) -> Received | None:  # type: ignore[override]
        if self._file is None:
            return None
        if self._size == 0:
            raise ValidationFailed(fields={FIELD: ["The file is empty."]})
        self._file.seek(0)
        self.received = Received(
            name=self.file_name or "",
            file=self._file,
            size=self._size,
            mime=self._mime,
            kind=self._kind,
            sha256=self._digest.hexdigest(),
        )
        return self.received

    def discard(self) -> None:
        if self._file is not None:
            self._file.close()
