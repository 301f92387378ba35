"""Reads the text out of one file, in a child process of its own (no Django): `python -m files.extractor`.

The files worker runs this under an address-space limit and a timeout (files.runner), so a hostile
or broken file can exhaust only this process. It prints one JSON line (the outcome) and writes the
text to the output path. Reasons for failure: encrypted, no_text, damaged, too_large.
"""

from __future__ import annotations

import json
import re
import resource
import sys
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

MIB = 1024 * 1024
# Pixels Pillow opens at most (a decompression bomb stops here) and the longest side OCR sees.
MAX_IMAGE_PIXELS = 90_000_000
OCR_MAX_SIDE = 4000
PDF_OCR_DPI = 200
MAX_ZIP_ENTRIES = 20_000
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Tesseract's Chinese model spaces out the characters it reads: "发 票 号 码" is "发票号码".
_CJK = r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]"
_CJK_GAP = re.compile(rf"(?<={_CJK}) +(?={_CJK})")


@dataclass
class Options:
    max_pages: int = 1000
    max_decompressed_bytes: int = 512 * MIB
    max_text_chars: int = 4_000_000
    ocr_languages: str = "eng+chi_sim"
    ocr_pdf: bool = True
    ocr_max_pages: int = 50


@dataclass
class Outcome:
    status: str = "ready"  # ready | failed
    reason: str = ""
    message: str = ""
    pages: int | None = None
    pages_read: int | None = None
    ocr_pages: int = 0
    truncated: bool = False
    chars: int = 0
    peak_rss_kib: int = 0  # the larger of this process's and its children's (Tesseract) peak resident memory
    notes: list[str] = field(default_factory=list)


class Refused(Exception):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def clean(text: str) -> str:
    """No NULs or other control characters (Postgres cannot store NUL), no runs of blank lines."""
    text = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def ocr(image: Any, options: Options) -> str:
    import pytesseract

    if max(image.size) > OCR_MAX_SIDE:
        image = image.copy()
        image.thumbnail((OCR_MAX_SIDE, OCR_MAX_SIDE))
    if image.mode not in ("L", "RGB"):
        image = image.convert("RGB")
    return _CJK_GAP.sub("", str(pytesseract.image_to_string(image, lang=options.ocr_languages)))


# --- PDF (pdfium: text layer, and pages rendered for OCR when they have none) ---


def read_pdf(path: Path, options: Options, outcome: Outcome) -> str:
    import pypdfium2
    import pypdfium2.raw as pdfium_c

    try:
        document = pypdfium2.PdfDocument(str(path))
    except pypdfium2.PdfiumError as exc:
        if getattr(exc, "err_code", None) in (pdfium_c.FPDF_ERR_PASSWORD, pdfium_c.FPDF_ERR_SECURITY):
            raise Refused("encrypted", "This PDF is protected by a password, so it cannot be read.") from exc
        raise Refused("damaged", "This PDF is damaged and cannot be read.") from exc
    try:
        total = len(document)
        outcome.pages = total
        wanted = min(total, options.max_pages)
        parts: list[str] = []
        pages_without_text = 0
        for index in range(wanted):
            page = document[index]
            textpage = page.get_textpage()
            text = textpage.get_text_bounded()
            textpage.close()
            if not text.strip():
                pages_without_text += 1
                if options.ocr_pdf and outcome.ocr_pages < options.ocr_max_pages:
                    bitmap = page.render(scale=PDF_OCR_DPI / 72, grayscale=True)
                    text = ocr(bitmap.to_pil(), options)
                    bitmap.close()
                    outcome.ocr_pages += 1
            page.close()
            parts.append(text)
        outcome.pages_read = wanted
        if wanted < total:
            outcome.truncated = True
            outcome.notes.append(f"Only the first {wanted} of {total} pages were read.")
        text = "\n\n".join(part.strip() for part in parts if part.strip())
        if not text.strip() and pages_without_text and not options.ocr_pdf:
            raise Refused("no_text", "No text was found in this PDF. It looks scanned, and reading scans is off.")
        return text
    finally:
        document.close()


# --- zip-based formats: refuse bombs before any entry is unpacked ---


def check_zip(path: Path, options: Options) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise Refused("damaged", "This file is damaged and cannot be read.") from exc
    if len(infos) > MAX_ZIP_ENTRIES:
        raise Refused("damaged", "This file has too many parts to be a real document.")
    # zipfile stops each entry at its declared size, so the declared total bounds what reading can unpack.
    unpacked = sum(info.file_size for info in infos)
    if unpacked > options.max_decompressed_bytes:
        limit = options.max_decompressed_bytes // MIB
        raise Refused("too_large", f"This file unpacks to more than {limit} MiB, so it is not read.")


def read_docx(path: Path, options: Options, outcome: Outcome) -> str:
    import docx
    from docx.table import Table

    document = docx.Document(str(path))
    parts: list[str] = []
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            for row in block.rows:
                parts.append(" | ".join(cell.text.strip() for cell in row.cells))
        else:
            parts.append(block.text)
    return "\n".join(parts)


def read_pptx(path: Path, options: Options, outcome: Outcome) -> str:
    from pptx import Presentation

    presentation = Presentation(str(path))
    slides = list(presentation.slides)
    outcome.pages = len(slides)
    wanted = slides[: options.max_pages]
    outcome.pages_read = len(wanted)
    outcome.truncated = len(wanted) < len(slides)
    parts: list[str] = []
    for number, slide in enumerate(wanted, start=1):
        lines = [f"## Slide {number}"]
        for shape in slide.shapes:
            if getattr(shape, "has_text_frame", False) and shape.text_frame.text.strip():
                lines.append(shape.text_frame.text)
            if getattr(shape, "has_table", False):
                for row in shape.table.rows:
                    lines.append(" | ".join(cell.text.strip() for cell in row.cells))
        if slide.has_notes_slide and slide.notes_slide.notes_text_frame is not None:
            notes = slide.notes_slide.notes_text_frame.text.strip()
            if notes:
                lines.append(f"Notes: {notes}")
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


def read_xlsx(path: Path, options: Options, outcome: Outcome) -> str:
    import openpyxl

    # A file object: openpyxl would refuse a path without an .xlsx suffix (the stored name is ours, not the user's).
    workbook = openpyxl.load_workbook(path.open("rb"), read_only=True, data_only=True)
    try:
        sheets = workbook.worksheets
        outcome.pages = len(sheets)
        outcome.pages_read = min(len(sheets), options.max_pages)
        outcome.truncated = outcome.pages_read < len(sheets)
        parts: list[str] = []
        budget = options.max_text_chars
        for sheet in sheets[: options.max_pages]:
            lines = [f"## Sheet: {sheet.title}"]
            for row in sheet.iter_rows(values_only=True):
                if any(value is not None for value in row):
                    line = "\t".join("" if value is None else str(value) for value in row).rstrip()
                    lines.append(line)
                    budget -= len(line) + 1
                    if budget < 0:
                        break
            parts.append("\n".join(lines))
            if budget < 0:
                outcome.truncated = True
                break
        return "\n\n".join(parts)
    finally:
        workbook.close()


def html_text(markup: bytes | str) -> str:
    import lxml.html

    if not markup.strip():
        return ""
    root = lxml.html.fromstring(markup)
    for element in list(root.iter("script", "style", "head", "title")):
        element.drop_tree()
    for element in root.iter("br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6"):
        element.tail = "\n" + (element.tail or "")
    lines = (" ".join(line.split()) for line in str(root.text_content()).splitlines())
    return "\n".join(line for line in lines if line)


def read_epub(path: Path, options: Options, outcome: Outcome) -> str:
    import ebooklib
    from ebooklib import epub

    book = epub.read_epub(str(path), options={"ignore_ncx": True})
    chapters = [book.get_item_with_id(item_id) for item_id, _ in book.spine]
    documents = [
        item
        for item in chapters
        if item is not None and item.get_type() == ebooklib.ITEM_DOCUMENT and not isinstance(item, epub.EpubNav)
    ]
    outcome.pages = len(documents)
    wanted = documents[: options.max_pages]
    outcome.pages_read = len(wanted)
    outcome.truncated = len(wanted) < len(documents)
    return "\n\n".join(html_text(item.get_content()) for item in wanted)


# --- text and images ---


def decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data[: 4 * MIB]).best()
    return data.decode(best.encoding if best else "latin-1", errors="replace")


def read_text(path: Path, options: Options, outcome: Outcome, *, mime: str = "text/plain") -> str:
    data = path.read_bytes()
    text = decode(data)
    return html_text(text) if mime in ("text/html", "application/xhtml+xml") else text


def read_image(path: Path, options: Options, outcome: Outcome) -> str:
    from PIL import Image, ImageSequence

    Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
    try:
        with Image.open(path) as image:
            first = next(ImageSequence.Iterator(image))  # a GIF or WebP animation: its first frame
            first.load()
            text = ocr(first, options)
    except Image.DecompressionBombError as exc:
        raise Refused("too_large", "This image has too many pixels to be read.") from exc
    outcome.ocr_pages = 1
    if not text.strip():
        raise Refused("no_text", "No text was found in this image.")
    return text


READERS = {
    "pdf": read_pdf,
    "docx": read_docx,
    "pptx": read_pptx,
    "xlsx": read_xlsx,
    "epub": read_epub,
    "image": read_image,
}
ZIP_KINDS = ("docx", "pptx", "xlsx", "epub")


def extract(path: Path, kind: str, options: Options, *, mime: str = "") -> tuple[Outcome, str]:
    outcome = Outcome()
    try:
        if kind in ZIP_KINDS:
            check_zip(path, options)
        if kind == "text":
            text = read_text(path, options, outcome, mime=mime)
        elif kind in READERS:
            text = READERS[kind](path, options, outcome)
        else:
            raise Refused("unsupported_type", "This type of file cannot be read.")
        text = clean(text)
        if len(text) > options.max_text_chars:
            text = text[: options.max_text_chars]
            outcome.truncated = True
            outcome.notes.append(f"Only the first {options.max_text_chars} characters were kept.")
        if not text:
            raise Refused("no_text", "No text was found in this file.")
    except Refused as refused:
        return Outcome(status="failed", reason=refused.reason, message=refused.message, pages=outcome.pages), ""
    except MemoryError:
        return Outcome(status="failed", reason="too_large", message="This file needs too much memory to read."), ""
    except Exception as exc:  # noqa: BLE001 - each library's own error for a broken file: damaged, never a crash
        return Outcome(
            status="failed",
            reason="damaged",
            message=f"This file is damaged and cannot be read ({type(exc).__name__}).",
        ), ""
    outcome.chars = len(text)
    return outcome, text


def _own_peak_kib() -> int:
    # VmHWM starts afresh at exec; getrusage's ru_maxrss would still count the worker we were forked from.
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def main(argv: list[str]) -> int:
    source, kind, mime, output, options_json = argv
    options = Options(**json.loads(options_json))
    outcome, text = extract(Path(source), kind, options, mime=mime)
    Path(output).write_text(text, encoding="utf-8")
    outcome.peak_rss_kib = max(_own_peak_kib(), resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    sys.stdout.write(json.dumps(asdict(outcome)) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
