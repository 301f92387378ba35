"""What a file is, from its bytes: the kinds Whale reads, their MIME types (as libmagic names them) and size limits."""

from __future__ import annotations

import zipfile
from typing import IO

import magic
from django.conf import settings

PDF, DOCX, PPTX, XLSX, EPUB, TEXT, IMAGE = "pdf", "docx", "pptx", "xlsx", "epub", "text", "image"
# A zip container whose kind (Word, PowerPoint, Excel, EPUB) is known once its entries can be listed.
ZIP = "zip"
KINDS = (PDF, DOCX, PPTX, XLSX, EPUB, TEXT, IMAGE)

MIME_KINDS = {
    "application/pdf": PDF,
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": DOCX,
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": PPTX,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": XLSX,
    "application/epub+zip": EPUB,
    "application/zip": ZIP,
    "image/jpeg": IMAGE,
    "image/png": IMAGE,
    "image/gif": IMAGE,
    "image/webp": IMAGE,
    "application/json": TEXT,
    "application/csv": TEXT,
    "application/xml": TEXT,
    "application/x-ndjson": TEXT,
}
KIND_MIMES = {
    DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    PPTX: "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    EPUB: "application/epub+zip",
}
# Zip-based formats told apart by the entry each must have.
OOXML_PARTS = {"word/document.xml": DOCX, "ppt/presentation.xml": PPTX, "xl/workbook.xml": XLSX}
SUPPORTED_HELP = "PDF, Word (.docx), PowerPoint (.pptx), Excel (.xlsx), EPUB, plain text, JPEG, PNG, GIF and WebP"


def sniff_mime(head: bytes) -> str:
    """The MIME type libmagic reads from the first bytes; never the name or the client's header."""
    return str(magic.from_buffer(head, mime=True))


def kind_for_mime(mime: str) -> str | None:
    if mime in MIME_KINDS:
        return MIME_KINDS[mime]
    if mime.startswith("text/"):
        return TEXT
    return None


def limit_for_kind(kind: str) -> int:
    """The size limit in bytes: 100 MiB for PDF and Office (and zips until told apart), 32 MiB text, sheets
    and e-books, 64 MiB images (DeepSeek's published limits; settings)."""
    if kind in (PDF, DOCX, PPTX, ZIP):
        return int(settings.WHALE_FILES_LIMIT_DOCUMENT_BYTES)
    if kind == IMAGE:
        return int(settings.WHALE_FILES_LIMIT_IMAGE_BYTES)
    return int(settings.WHALE_FILES_LIMIT_TEXT_BYTES)


def largest_limit() -> int:
    return max(limit_for_kind(kind) for kind in (*KINDS, ZIP))


def zip_kind(fileobj: IO[bytes]) -> str | None:
    """Word, PowerPoint, Excel or EPUB from a zip's entries (without unpacking them); None for other zips."""
    try:
        with zipfile.ZipFile(fileobj) as archive:
            names = set(archive.namelist())
            if "mimetype" in names:
                info = archive.getinfo("mimetype")
                if info.file_size < 64 and archive.read(info).strip() == b"application/epub+zip":
                    return EPUB
            if "[Content_Types].xml" in names:
                for part, kind in OOXML_PARTS.items():
                    if part in names:
                        return kind
    except (zipfile.BadZipFile, OSError, KeyError, EOFError, NotImplementedError, RuntimeError):
        return None
    return None
