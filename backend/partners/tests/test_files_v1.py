"""/v1/files (partners/files_v1.py): upload, list, retrieve, content and delete, in OpenAI's shapes, on the
app's files service; owned by the key's user, another's a 404 on every path. Real Postgres, Redis, storage."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from files.models import UploadedFile
from files.selectors import orphans
from files.tests.samples import text_pdf

from ratelimits.tests.factories import make_user

from .factories import make_key

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("prepare_settings")]


def auth(secret: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def upload(secret: str, data: bytes, name: str, purpose: str = "user_data") -> Any:
    return Client().post("/v1/files", {"file": SimpleUploadedFile(name, data), "purpose": purpose}, **auth(secret))


def test_an_upload_is_an_openai_file_object_the_owner_can_list_retrieve_download_and_delete(user) -> None:
    key = make_key(user)
    data = text_pdf(["Whale quarterly report."])
    response = upload(key.secret, data, "report.pdf")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["object"] == "file" and body["filename"] == "report.pdf" and body["bytes"] == len(data)
    assert body["purpose"] == "user_data" and body["status"] == "uploaded" and body["whale_status"] == "reading"
    file = UploadedFile.objects.get(id=body["id"])
    assert file.owner == user and not orphans(older_than=file.created_at.replace(year=3000)).filter(id=file.id)

    listed = Client().get("/v1/files", **auth(key.secret)).json()
    assert listed["object"] == "list" and [row["id"] for row in listed["data"]] == [body["id"]]
    assert listed["has_more"] is False
    assert Client().get(f"/v1/files/{body['id']}", **auth(key.secret)).json()["id"] == body["id"]
    content = Client().get(f"/v1/files/{body['id']}/content", **auth(key.secret))
    assert content.status_code == 200 and b"".join(content.streaming_content) == data
    assert content["X-Content-Type-Options"] == "nosniff"

    deleted = Client().delete(f"/v1/files/{body['id']}", **auth(key.secret))
    assert deleted.json() == {"id": body["id"], "object": "file", "deleted": True}
    assert not UploadedFile.objects.filter(id=body["id"]).exists()


def test_another_users_file_is_a_404_on_every_path(user) -> None:
    theirs = upload(make_key(make_user("other@example.com")).secret, b"their notes\n", "notes.txt").json()
    mine = make_key(user).secret
    client = Client()

    for response in (
        client.get(f"/v1/files/{theirs['id']}", **auth(mine)),
        client.get(f"/v1/files/{theirs['id']}/content", **auth(mine)),
        client.delete(f"/v1/files/{theirs['id']}", **auth(mine)),
    ):
        assert response.status_code == 404, response.content
        assert set(response.json()["error"]) == {"message", "type", "param", "code"}
    assert client.get("/v1/files", **auth(mine)).json()["data"] == []
    assert UploadedFile.objects.filter(id=theirs["id"]).exists()


def test_a_missing_key_an_unknown_purpose_and_a_bad_type_are_refused_in_openais_shape(user) -> None:
    key = make_key(user)
    assert Client().get("/v1/files").status_code == 401
    wrong = upload(key.secret, b"notes\n", "notes.txt", purpose="fine-tune")
    assert wrong.status_code == 400 and wrong.json()["error"]["param"] == "purpose"
    program = upload(key.secret, b"\x7fELF\x02\x01\x01" + b"\0" * 200, "report.pdf")
    assert program.status_code == 415, program.content
    assert not UploadedFile.objects.filter(owner=user).exists()
