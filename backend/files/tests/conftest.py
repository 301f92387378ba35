from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from accounts.models import User
from chat.tests.conftest import client_for
from chat.tests.factories import UserFactory


@pytest.fixture(autouse=True)
def _private_storage(settings: Any, tmp_path: Path) -> Path:
    """Each test stores files in a folder of its own, and queues reading to a Redis list of its own."""
    location = tmp_path / "uploads"
    settings.STORAGES = {
        **settings.STORAGES,
        "files": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(location)}},
    }
    settings.WHALE_FILES_QUEUE = f"{settings.WHALE_REDIS_PREFIX}:files"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return location


@pytest.fixture
def user(db: None) -> User:
    return UserFactory.create()


@pytest.fixture
def other_user(db: None) -> User:
    return UserFactory.create()


@pytest.fixture
def api(user: User) -> APIClient:
    return client_for(user)


def upload(api: APIClient, data: bytes, name: str) -> Any:
    return api.post("/api/v1/files", {"file": SimpleUploadedFile(name, data)}, format="multipart")
