"""Real files made on the spot for the tests and the benchmark: PDFs, Office files, an EPUB, images of text."""

from __future__ import annotations

import io
import subprocess
import sys
import zipfile
from pathlib import Path

CJK_FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
)


def cjk_font_path() -> str:
    for candidate in CJK_FONT_CANDIDATES:
        if Path(candidate).exists():
            return candidate
    found = subprocess.run(
        ["fc-list", ":lang=zh", "file"],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split(":")[0]
    if not found:
        raise RuntimeError("no CJK font: run scripts/setup.sh (it installs fonts-wqy-zenhei)")
    return found.strip()


def text_pdf(pages: list[str]) -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=12)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 8, text)
    return bytes(pdf.output())


def encrypted_pdf(text: str, *, user_password: str = "secret") -> bytes:  # noqa: S107 - a test file
    from fpdf import FPDF
    from fpdf.enums import EncryptionMethod

    pdf = FPDF()
    pdf.set_encryption(owner_password="owner-pass", user_password=user_password, encryption_method=EncryptionMethod.RC4)
    pdf.set_font("Helvetica", size=12)
    pdf.add_page()
    pdf.multi_cell(0, 8, text)
    return bytes(pdf.output())


def text_image(lines: list[str], *, width: int = 1400, font_size: int = 48, fmt: str = "PNG") -> bytes:
    """Black printed text on white, in a font that has both Latin and Chinese glyphs."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(cjk_font_path(), font_size)
    line_height = int(font_size * 1.6)
    image = Image.new("RGB", (width, line_height * len(lines) + 2 * font_size), "white")
    draw = ImageDraw.Draw(image)
    for number, line in enumerate(lines):
        draw.text((font_size, font_size + number * line_height), line, fill="black", font=font)
    out = io.BytesIO()
    image.save(out, format=fmt)
    return out.getvalue()


def scanned_pdf(lines: list[str]) -> bytes:
    """A PDF whose only page is a picture of text: no text layer at all."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.image(io.BytesIO(text_image(lines, width=1700, font_size=44)), x=10, y=10, w=190)
    return bytes(pdf.output())


def docx_file(paragraphs: list[str], table: list[list[str]] | None = None) -> bytes:
    import docx

    document = docx.Document()
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                grid.cell(r, c).text = value
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def pptx_file(slides: list[tuple[str, str]]) -> bytes:
    from pptx import Presentation

    presentation = Presentation()
    for title, body in slides:
        slide = presentation.slides.add_slide(presentation.slide_layouts[1])
        slide.shapes.title.text = title
        slide.placeholders[1].text = body
    out = io.BytesIO()
    presentation.save(out)
    return out.getvalue()


def xlsx_file(rows: list[list[object]], *, title: str = "Sales") -> bytes:
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = title
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def epub_file(chapters: list[tuple[str, str]]) -> bytes:
    from ebooklib import epub

    book = epub.EpubBook()
    book.set_identifier("whale-test-book")
    book.set_title("A Test Book")
    book.set_language("en")
    items = []
    for number, (title, body) in enumerate(chapters, start=1):
        chapter = epub.EpubHtml(title=title, file_name=f"chap_{number}.xhtml", lang="en")
        chapter.content = f"<html><body><h1>{title}</h1><p>{body}</p></body></html>"
        book.add_item(chapter)
        items.append(chapter)
    book.toc = items
    book.add_item(epub.EpubNcx())
    book.add_item(epub.EpubNav())
    book.spine = ["nav", *items]
    out = io.BytesIO()
    epub.write_epub(out, book)
    return out.getvalue()


def zip_bomb_docx(unpacked_bytes: int) -> bytes:
    """A .docx in name and container whose document part unpacks to `unpacked_bytes` of nothing."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>',
        )
        with archive.open("word/document.xml", "w", force_zip64=True) as part:
            chunk = b"\0" * (1024 * 1024)
            left = unpacked_bytes
            while left > 0:
                part.write(chunk[: min(left, len(chunk))])
                left -= len(chunk)
    return out.getvalue()


def executable_bytes() -> bytes:
    """The start of a real executable (this Python interpreter)."""
    with open(sys.executable, "rb") as binary:
        return binary.read(256 * 1024)
