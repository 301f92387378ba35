"""The web build at /: hashed assets compressed and cached for a year, entry files revalidated on every visit."""

from __future__ import annotations

import gzip
import os
from pathlib import Path
from typing import Any

import brotli
import pytest
from django.test import AsyncClient, Client

BUNDLE = "/_expo/static/js/web/entry-0f1e2d3c4b5a69788796a5b4c3d2e1f0.js"
ICON = "/assets/node_modules/expo-router/assets/error.563d5e64c0b5b8a3b2d4ee5f6a7b8c9d.png"
BUNDLE_SOURCE = b"".join(b"function component%d(){return 'hello world %d';}\n" % (n, n % 7) for n in range(4000))
INDEX = b'<!doctype html><html><head><script src="%s" defer></script></head><body></body></html>' % BUNDLE.encode()

IMMUTABLE = "public, max-age=31536000, immutable"


@pytest.fixture
def dist(tmp_path: Path, settings: Any) -> Path:
    """A small Expo web export: index.html, a hashed bundle, a hashed image, two unhashed files."""
    root = tmp_path / "dist"
    (root / "_expo/static/js/web").mkdir(parents=True)
    (root / "assets/node_modules/expo-router/assets").mkdir(parents=True)
    (root / "index.html").write_bytes(INDEX)
    (root / BUNDLE.lstrip("/")).write_bytes(BUNDLE_SOURCE)
    (root / ICON.lstrip("/")).write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(256))
    (root / "favicon.ico").write_bytes(b"\x00\x00\x01\x00" + b"\x00" * 2000)
    (root / "metadata.json").write_text('{"version": 0, "bundler": "metro", "fileMetadata": {}}' * 40)
    settings.WEB_BUILD_DIR = root
    return root


def _body(response: Any) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return bytes(response.content)


def _decoded(response: Any) -> bytes:
    body = _body(response)
    encoding = response.get("Content-Encoding")
    if encoding == "br":
        return bytes(brotli.decompress(body))
    if encoding == "gzip":
        return gzip.decompress(body)
    return body


@pytest.fixture(params=[False, True], ids=["debug-off", "debug-on"])
def debug(request: Any, settings: Any) -> bool:
    settings.DEBUG = request.param  # on: WhiteNoise looks on disk for every request (make run)
    return bool(request.param)


@pytest.mark.parametrize(("accept", "encoding"), [("gzip, deflate, br", "br"), ("gzip", "gzip"), ("", None)])
def test_a_hashed_bundle_is_served_compressed_and_cached_for_a_year(
    dist: Path, debug: bool, accept: str, encoding: str | None
) -> None:
    response = Client().get(BUNDLE, HTTP_ACCEPT_ENCODING=accept)

    assert response.status_code == 200
    assert response.get("Content-Encoding") == encoding
    assert response["Cache-Control"] == IMMUTABLE
    assert "Accept-Encoding" in response["Vary"]
    assert response["Content-Type"].startswith("text/javascript") or "javascript" in response["Content-Type"]
    assert _decoded(response) == BUNDLE_SOURCE
    if encoding:
        assert len(_body(response)) < len(BUNDLE_SOURCE) / 4


async def test_the_event_loop_stack_serves_the_same_compressed_bundle(dist: Path, settings: Any) -> None:
    settings.DEBUG = False
    response = await AsyncClient().get(BUNDLE, headers={"Accept-Encoding": "br"})

    assert response.status_code == 200
    assert response["Content-Encoding"] == "br"
    assert response["Cache-Control"] == IMMUTABLE
    assert brotli.decompress(_body(response)) == BUNDLE_SOURCE


def test_a_hashed_image_is_immutable_and_not_compressed(dist: Path, debug: bool) -> None:
    response = Client().get(ICON, HTTP_ACCEPT_ENCODING="gzip, br")
    assert response.status_code == 200
    assert response["Cache-Control"] == IMMUTABLE
    assert "Content-Encoding" not in response


@pytest.mark.parametrize("path", ["/", "/c/2b6f0c8e-4d5e-4f6a-9b7c-1d2e3f4a5b6c", "/settings"])
def test_index_html_and_app_routes_are_revalidated_on_every_visit(dist: Path, debug: bool, path: str) -> None:
    response = Client().get(path, HTTP_ACCEPT_ENCODING="gzip, br")

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-cache"
    assert _decoded(response) == INDEX


@pytest.mark.parametrize("path", ["/favicon.ico", "/metadata.json"])
def test_unhashed_files_are_revalidated_on_every_visit(dist: Path, debug: bool, path: str) -> None:
    response = Client().get(path)
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-cache"


def test_the_build_is_compressed_once_at_startup_not_per_request(dist: Path, settings: Any) -> None:
    settings.DEBUG = False
    bundle = dist / BUNDLE.lstrip("/")
    Client().get("/")  # the first request loads the middleware, which compresses what needs it

    assert (bundle.with_name(bundle.name + ".br")).is_file()
    assert (bundle.with_name(bundle.name + ".gz")).is_file()
    assert not (dist / ICON.lstrip("/")).with_suffix(".png.gz").exists(), "images are not worth compressing"
    written = (bundle.with_name(bundle.name + ".br")).stat().st_ino

    client = Client()
    for _ in range(3):
        client.get(BUNDLE, HTTP_ACCEPT_ENCODING="br")
    Client().get("/")  # another process starting finds them up to date

    assert (bundle.with_name(bundle.name + ".br")).stat().st_ino == written  # rewritten files get a new inode


def test_a_rebuilt_file_is_compressed_again_at_the_next_start(dist: Path, settings: Any) -> None:
    settings.DEBUG = False
    bundle = dist / BUNDLE.lstrip("/")
    Client().get("/")
    bundle.write_bytes(BUNDLE_SOURCE + b"// rebuilt\n")
    stamp = bundle.stat().st_mtime + 10
    os.utime(bundle, (stamp, stamp))

    response = Client().get(BUNDLE, HTTP_ACCEPT_ENCODING="gzip")

    assert _decoded(response) == BUNDLE_SOURCE + b"// rebuilt\n"


def test_api_paths_are_not_the_web_apps(dist: Path) -> None:
    response = Client().get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")


def test_the_image_compresses_the_build_at_build_time_with_the_same_rules(dist: Path, settings: Any) -> None:
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("compress_web_build", stdout=out)
    bundle = dist / BUNDLE.lstrip("/")
    written = bundle.with_name(bundle.name + ".br").stat().st_ino

    call_command("compress_web_build", stdout=out)

    assert bundle.with_name(bundle.name + ".br").stat().st_ino == written  # rewritten files get a new inode
    assert out.getvalue().splitlines()[-1] == f"compressed 0 files in {dist}"


def test_a_symlinked_build_gets_the_same_headers(dist: Path, settings: Any, tmp_path: Path) -> None:
    link = tmp_path / "linked-dist"
    link.symlink_to(dist, target_is_directory=True)
    settings.WEB_BUILD_DIR = link
    settings.DEBUG = False

    response = Client().get(BUNDLE, HTTP_ACCEPT_ENCODING="gzip")

    assert response["Cache-Control"] == IMMUTABLE
    assert response["Content-Encoding"] == "gzip"
