"""Files' writes: per-tier limits on upload, events, the extractor's bounds, and the orphan sweep."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from common import events
from common.tests.test_events import Listener
from files import runner, services
from files.extractor import Options
from files.models import UploadedFile
from files.tasks import delete_orphans
from ratelimits.models import Tier, UsageDay, UserLimit

from . import samples
from .conftest import upload


@pytest.fixture
def small_tier(user: User) -> Tier:
    tier = Tier.objects.create(
        slug="tiny", name="Tiny", files_per_day=2, file_bytes_per_day=10_000, file_storage_bytes=None
    )
    UserLimit.objects.create(user=user, tier=tier)
    return tier


def test_uploads_count_towards_todays_usage(api: APIClient, user: User) -> None:
    upload(api, b"x" * 100, "a.txt")
    upload(api, b"y" * 50, "b.txt")
    row = UsageDay.objects.get(user=user, date=timezone.now().date(), api_key_id=None)
    assert (row.files, row.file_bytes) == (2, 150)


def test_files_per_day_is_enforced(api: APIClient, small_tier: Tier) -> None:
    assert upload(api, b"one", "1.txt").status_code == 201
    assert upload(api, b"two", "2.txt").status_code == 201
    response = upload(api, b"three", "3.txt")
    assert response.status_code == 429
    error = response.json()["error"]
    assert (error["code"], error["limit"], error["limit_value"]) == ("files_per_day_exceeded", "files_per_day", 2)
    assert int(response["Retry-After"]) > 0


def test_bytes_per_day_stops_the_upload_at_what_is_left(api: APIClient, small_tier: Tier) -> None:
    assert upload(api, b"a" * 6_000, "a.txt").status_code == 201
    response = upload(api, b"b" * 6_000, "b.txt")
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "file_bytes_per_day_exceeded"
    assert UploadedFile.objects.count() == 1


def test_storage_per_user_is_enforced_and_freed_by_deleting(api: APIClient, user: User) -> None:
    tier = Tier.objects.create(slug="small-store", name="Small store", file_storage_bytes=5_000)
    UserLimit.objects.create(user=user, tier=tier)
    first = upload(api, b"a" * 4_000, "a.txt").json()
    response = upload(api, b"b" * 2_000, "b.txt")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "file_storage_exceeded"
    api.delete(f"/api/v1/files/{first['id']}")
    assert upload(api, b"b" * 2_000, "b.txt").status_code == 201


def test_status_changes_reach_the_users_event_stream(
    api: APIClient, user: User, django_capture_on_commit_callbacks: Any
) -> None:
    with Listener(user.pk) as listener:
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            created = upload(api, b"hello events", "e.txt").json()
        callbacks.clear()
        with django_capture_on_commit_callbacks(execute=True):
            services.file_extract(file_id=created["id"])
        assert events.publisher.flush()
        received = [message["event"] for message in listener.take(2)]
    assert [event["type"] for event in received] == ["file.updated", "file.updated"]
    assert [event["file"]["status"] for event in received] == ["reading", "ready"]
    assert received[1]["file"]["id"] == created["id"]


def test_a_file_read_twice_is_settled_once(api: APIClient) -> None:
    created = upload(api, b"once", "once.txt").json()
    assert services.file_extract(file_id=created["id"]) is not None
    assert services.file_extract(file_id=created["id"]) is None


def test_the_extractor_is_bounded_in_memory(tmp_path: Path) -> None:
    import io

    from PIL import Image

    # A few kilobytes on disk, 192 MB of pixels once decoded.
    out = io.BytesIO()
    Image.new("RGB", (8000, 8000), "white").save(out, format="PNG")
    path = tmp_path / "huge.png"
    path.write_bytes(out.getvalue())
    assert path.stat().st_size < 1024 * 1024
    result = runner.run(
        path=path, kind="image", mime="image/png", options=Options(), limits=runner.Limits(60, 150 * 1024 * 1024)
    )
    assert (result.outcome.status, result.outcome.reason) == ("failed", "too_large")


def test_the_extractor_is_bounded_in_time(tmp_path: Path) -> None:
    path = tmp_path / "photo.png"
    path.write_bytes(samples.text_image(["slow to read"] * 12))
    result = runner.run(path=path, kind="image", mime="image/png", options=Options(), limits=runner.Limits(0.3, 2**31))
    assert (result.outcome.status, result.outcome.reason) == ("failed", "timeout")


def test_the_extractor_reports_its_peak_memory(tmp_path: Path) -> None:
    path = tmp_path / "doc.pdf"
    path.write_bytes(samples.text_pdf(["hello"]))
    result = runner.run(
        path=path, kind="pdf", mime="application/pdf", options=Options(), limits=runner.Limits(30, 2**31)
    )
    assert result.outcome.status == "ready"
    assert 5 * 1024 * 1024 < result.peak_rss_bytes < 512 * 1024 * 1024


def test_orphaned_uploads_are_deleted_after_a_day(
    api: APIClient, _private_storage: Path, django_capture_on_commit_callbacks: Any
) -> None:
    old = upload(api, b"old", "old.txt").json()
    new = upload(api, b"new", "new.txt").json()
    UploadedFile.objects.filter(id=old["id"]).update(created_at=timezone.now() - dt.timedelta(hours=25))
    blob = _private_storage / UploadedFile.objects.get(id=old["id"]).blob
    with django_capture_on_commit_callbacks(execute=True):
        assert delete_orphans() == 1
    assert not blob.exists()
    assert list(UploadedFile.objects.values_list("id", flat=True)) == [UploadedFile.objects.get(id=new["id"]).id]
