"""What the prepare step's tests share: the fake internet on 127.0.0.1, private queues and storage, real files
read by the real extractor, and the tasks a test run published (what the GPU task received)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from celery.signals import before_task_publish
from django.core.files.uploadedfile import SimpleUploadedFile
from files.models import UploadedFile
from files.services import file_extract
from research.tests.fake_internet import FakeInternet, serve
from rest_framework.test import APIClient

from inference import protocol


@pytest.fixture(scope="session")
def _internet() -> Iterator[FakeInternet]:
    yield from serve()


@pytest.fixture
def fake_internet(_internet: FakeInternet, settings: Any) -> FakeInternet:
    """SearXNG answering normally on 127.0.0.1, and settings that search it and may fetch from it."""
    _internet.search_mode = "ok"
    _internet.results = []
    _internet.requests.clear()
    settings.WHALE_SEARCH_PROVIDER = "searxng"
    settings.WHALE_SEARXNG_URL = _internet.url
    settings.WHALE_FETCH_ALLOW_LOOPBACK = True
    settings.WHALE_SEARCH_TIMEOUT_SECONDS = 1.0
    settings.WHALE_FETCH_TOTAL_TIMEOUT_SECONDS = 3.0
    settings.WHALE_SEARCH_TOKENIZER = ""
    return _internet


@pytest.fixture
def prepare_settings(settings: Any, tmp_path: Path) -> None:
    """This run's research and files queues (other runs share Redis), and a folder of its own for uploads."""
    settings.WHALE_RESEARCH_QUEUE = f"{settings.WHALE_REDIS_PREFIX}:research"
    settings.WHALE_FILES_QUEUE = f"{settings.WHALE_REDIS_PREFIX}:files"
    settings.STORAGES = {
        **settings.STORAGES,
        "files": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "uploads")},
        },
    }


class Published:
    """Tasks published while the fixture is active (this process: the send, the prepare step's worker)."""

    def __init__(self) -> None:
        self.tasks: list[tuple[str, list[Any], str]] = []

    def __call__(self, sender: str | None = None, body: Any = None, routing_key: str = "", **_: Any) -> None:
        args = body[0] if isinstance(body, tuple | list) and body else []
        self.tasks.append((str(sender), list(args), routing_key))

    def payloads(self, name: str) -> list[dict[str, Any]]:
        return [args[0] for sender, args, _ in self.tasks if sender == name and args]

    @property
    def gpu_tasks(self) -> list[dict[str, Any]]:
        return self.payloads(protocol.TASK_GENERATE_TURN)

    @property
    def prepare_tasks(self) -> list[dict[str, Any]]:
        return self.payloads("whale.prepare_turn")


@pytest.fixture
def published() -> Iterator[Published]:
    recorder = Published()
    before_task_publish.connect(recorder, weak=False)
    try:
        yield recorder
    finally:
        before_task_publish.disconnect(recorder)


def upload(api: APIClient, data: bytes, name: str) -> dict[str, Any]:
    response = api.post("/api/v1/files", {"file": SimpleUploadedFile(name, data)}, format="multipart")
    assert response.status_code == 201, response.content
    return dict(response.json())


def ready_file(api: APIClient, data: bytes, name: str) -> UploadedFile:
    """Uploads a real file and reads it with the real extractor (the files worker's step, run here)."""
    file_id = upload(api, data, name)["id"]
    file = file_extract(file_id=file_id)
    assert file is not None and file.status == UploadedFile.Status.READY, file and file.failure_message
    return file
