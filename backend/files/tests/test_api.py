"""The files API end to end with real files: upload, sniffing, limits, reading, content, download, delete."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from chat.tests.conftest import client_for
from files import services
from files.models import UploadedFile

from . import samples
from .conftest import upload


def read(response: Any) -> dict[str, Any]:
    """Runs the reading the upload queued (the files worker's task body) and returns the file as the API shows it."""
    assert response.status_code == 201, response.json()
    services.file_extract(file_id=response.json()["id"])
    return response.json() | {"after": UploadedFile.objects.get(id=response.json()["id"])}


def test_a_text_pdf_is_read_and_its_text_served(api: APIClient) -> None:
    created = upload(api, samples.text_pdf(["The whale swims north in spring.", "Page two says hello."]), "report.pdf")
    assert created.status_code == 201
    assert created.json()["status"] == "reading"
    assert created.json()["kind"] == "pdf"
    read(created)
    detail = api.get(f"/api/v1/files/{created.json()['id']}").json()
    assert detail["status"] == "ready"
    assert detail["pages"] == 2
    assert detail["failure"] is None
    assert "The whale swims north in spring." in detail["preview"]
    content = api.get(f"/api/v1/files/{created.json()['id']}/content").json()
    assert "Page two says hello." in content["text"]


@pytest.mark.parametrize(
    ("name", "make", "expected_kind", "expected_text"),
    [
        (
            "notes.docx",
            lambda: samples.docx_file(["Quarterly revenue grew."], [["Region", "Sales"], ["North", "12"]]),
            "docx",
            "North | 12",
        ),
        (
            "deck.pptx",
            lambda: samples.pptx_file([("Roadmap", "Ship attachments in May")]),
            "pptx",
            "Ship attachments in May",
        ),
        ("sheet.xlsx", lambda: samples.xlsx_file([["region", "sales"], ["north", 12]]), "xlsx", "north\t12"),
        (
            "book.epub",
            lambda: samples.epub_file([("Chapter One", "It was a dark and stormy night.")]),
            "epub",
            "It was a dark and stormy night.",
        ),
        ("plain.txt", lambda: "Hello, 世界. Plain text.\n".encode(), "text", "Hello, 世界. Plain text."),
    ],
)
def test_office_files_ebooks_and_text_are_read(
    api: APIClient, name: str, make: Any, expected_kind: str, expected_text: str
) -> None:
    result = read(upload(api, make(), name))
    file = result["after"]
    assert file.kind == expected_kind
    assert file.status == "ready", file.failure_message
    assert expected_text in file.text


def test_a_png_of_printed_english_and_chinese_is_read_by_tesseract(api: APIClient) -> None:
    image = samples.text_image(["Invoice number 4521", "发票号码四五二一 合计金额"], font_size=56)
    file = read(upload(api, image, "photo.png"))["after"]
    assert file.kind == "image" and file.mime == "image/png"
    assert file.status == "ready", file.failure_message
    assert "Invoice number 4521" in file.text
    assert "号码" in file.text and "金额" in file.text
    assert file.ocr_pages == 1


def test_a_pdf_that_is_only_an_image_is_read_by_ocr(api: APIClient) -> None:
    file = read(upload(api, samples.scanned_pdf(["The quick brown fox", "jumps over the lazy dog"]), "scan.pdf"))[
        "after"
    ]
    assert file.status == "ready", file.failure_message
    assert "quick brown fox" in file.text
    assert file.ocr_pages == 1


def test_a_scanned_pdf_with_ocr_off_fails_with_no_text(api: APIClient, settings: Any) -> None:
    settings.WHALE_FILES_OCR_PDF = False
    file = read(upload(api, samples.scanned_pdf(["The quick brown fox"]), "scan.pdf"))["after"]
    assert (file.status, file.failure_code) == ("failed", "no_text")
    detail = api.get(f"/api/v1/files/{file.id}").json()
    assert detail["failure"] == {"code": "no_text", "message": file.failure_message}
    assert "scan" in detail["failure"]["message"]
    assert api.get(f"/api/v1/files/{file.id}/content").json()["error"]["code"] == "file_not_ready"


def test_a_password_protected_pdf_fails_as_encrypted(api: APIClient) -> None:
    file = read(upload(api, samples.encrypted_pdf("Top secret plans"), "locked.pdf"))["after"]
    assert (file.status, file.failure_code) == ("failed", "encrypted")
    assert "password" in file.failure_message


def test_a_zip_bomb_disguised_as_docx_is_refused_before_unpacking(api: APIClient, settings: Any) -> None:
    settings.WHALE_FILES_MAX_DECOMPRESSED_BYTES = 16 * 1024 * 1024
    bomb = samples.zip_bomb_docx(64 * 1024 * 1024)
    assert len(bomb) < 200_000
    file = read(upload(api, bomb, "contract.docx"))["after"]
    assert (file.status, file.failure_code) == ("failed", "too_large")
    assert "16 MiB" in file.failure_message


def test_a_damaged_pdf_fails_as_damaged(api: APIClient) -> None:
    broken = samples.text_pdf(["Hello"])[:400]  # the header says PDF; the rest is cut off
    file = read(upload(api, broken, "broken.pdf"))["after"]
    assert (file.status, file.failure_code) == ("failed", "damaged")


def test_a_pdf_name_with_executable_bytes_is_refused_as_unsupported(api: APIClient) -> None:
    response = upload(api, samples.executable_bytes(), "invoice.pdf")
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_type"
    assert not UploadedFile.objects.exists()


def test_a_plain_zip_is_refused_as_unsupported(api: APIClient) -> None:
    import io
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("hello.txt", "hi")
    response = upload(api, out.getvalue(), "archive.docx")
    assert response.status_code == 415


def test_a_file_over_its_kinds_limit_is_refused_with_the_limit(
    api: APIClient, settings: Any, _private_storage: Path
) -> None:
    settings.WHALE_FILES_LIMIT_TEXT_BYTES = 100_000
    response = upload(api, b"a line of text\n" * 10_000, "big.txt")
    assert response.status_code == 413
    error = response.json()["error"]
    assert error["code"] == "file_too_large"
    assert error["limit_value"] == 100_000
    assert "97 KiB" in error["message"]
    assert not UploadedFile.objects.exists()
    assert not any(_private_storage.rglob("*")) if _private_storage.exists() else True


def test_an_xlsx_is_held_to_the_sheet_limit_once_told_apart_from_other_zips(api: APIClient, settings: Any) -> None:
    sheet = samples.xlsx_file([[f"row {n}", n] for n in range(2000)])
    settings.WHALE_FILES_LIMIT_TEXT_BYTES = len(sheet) - 1  # sheets have the text limit, Word keeps its own
    response = upload(api, sheet, "sheet.xlsx")
    assert response.status_code == 413
    assert response.json()["error"]["limit_value"] == len(sheet) - 1


def test_an_empty_upload_or_no_file_is_a_400(api: APIClient) -> None:
    assert upload(api, b"", "empty.txt").status_code == 400
    response = api.post("/api/v1/files", {"other": "x"}, format="multipart")
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["file"]


def test_names_are_sanitised(api: APIClient) -> None:
    response = upload(api, b"hello", "../../etc/\u202epasswd\x07.txt")
    assert response.status_code == 201
    assert response.json()["name"] == "passwd.txt"


def test_another_users_file_is_404_on_every_path(api: APIClient, other_user: User) -> None:
    created = upload(api, b"private notes", "notes.txt").json()
    services.file_extract(file_id=created["id"])
    stranger = client_for(other_user)
    for path in ("", "/content", "/download"):
        response = stranger.get(f"/api/v1/files/{created['id']}{path}")
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == "not_found"
    assert stranger.delete(f"/api/v1/files/{created['id']}").status_code == 404
    assert UploadedFile.objects.filter(id=created["id"]).exists()
    assert APIClient().get(f"/api/v1/files/{created['id']}").status_code == 401


def test_download_is_an_attachment_never_sniffed(api: APIClient) -> None:
    markup = b"<html><body><script>alert(1)</script>hello</body></html>"
    created = upload(api, markup, "page.html").json()
    response = api.get(f"/api/v1/files/{created['id']}/download")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert 'filename="page.html"' in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    assert b"".join(response.streaming_content) == markup


def test_deleting_a_file_removes_its_stored_bytes(
    api: APIClient, _private_storage: Path, django_capture_on_commit_callbacks: Any
) -> None:
    created = upload(api, b"to be deleted", "gone.txt").json()
    blob = _private_storage / UploadedFile.objects.get(id=created["id"]).blob
    assert blob.read_bytes() == b"to be deleted"
    with django_capture_on_commit_callbacks(execute=True):
        assert api.delete(f"/api/v1/files/{created['id']}").status_code == 204
    assert not blob.exists()
    assert api.get(f"/api/v1/files/{created['id']}").status_code == 404


def test_deleting_the_account_removes_its_stored_files(
    user: User, api: APIClient, _private_storage: Path, django_capture_on_commit_callbacks: Any
) -> None:
    created = upload(api, b"mine", "mine.txt").json()
    blob = _private_storage / UploadedFile.objects.get(id=created["id"]).blob
    with django_capture_on_commit_callbacks(execute=True):
        user.delete()
    assert not blob.exists()


def test_an_upload_queues_its_reading_on_the_files_queue(
    api: APIClient, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    import json

    from common.redis import get_redis

    with django_capture_on_commit_callbacks(execute=True):
        created = upload(api, b"queue me", "q.txt").json()
    [raw] = get_redis().lrange(settings.WHALE_FILES_QUEUE, 0, -1)
    message = json.loads(raw)
    assert message["headers"]["task"] == "whale.files.extract"
    assert created["id"] in message["headers"]["argsrepr"]
    assert get_redis().llen(settings.WHALE_BACKEND_QUEUE) == 0  # never the backend's own queue, nor a GPU one
