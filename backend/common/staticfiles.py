"""WhiteNoise for Django's static files and the web build at /, staying on the event loop for everything else.

WhiteNoise's middleware is synchronous only, so under ASGI Django would run every request's
outer middleware in a thread and hop back to the loop for the inner ones: two extra waits on a
loop that is also serving every open stream. Here a miss (every API request) costs a dictionary
lookup on the loop; a hit is served from a thread as before.

The web build (WEB_BUILD_DIR, the Expo export) is served from / too: its hashed bundles and
assets (a content hash in the name) are cached for a year, and `index.html` and the other
unhashed entry files are revalidated on every visit. Each process compresses what the build
lacks once, when it starts (WhiteNoise's compressor: `.br` and `.gz` beside each file), and
WhiteNoise then serves the smallest the client accepts.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from whitenoise.compress import Compressor
from whitenoise.middleware import WhiteNoiseMiddleware

from .middleware import SyncAndAsyncMiddleware

logger = logging.getLogger(__name__)

WEB_INDEX = "index.html"
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
# Expo's export names bundles `_expo/static/js/web/entry-<md5>.js` and assets `assets/.../icon.<md5>.png`.
HASHED_WEB_FILE = re.compile(r"^/(?:_expo/static|assets)/.+[.-][0-9a-f]{16,}\.[A-Za-z0-9]+$")


def _write_atomically(path: Path, data: bytes, *, like: os.stat_result) -> None:
    """Another process starting at the same time never serves half a file."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.utime(temporary, ns=(like.st_atime_ns, like.st_mtime_ns))
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _fresh(variant: Path, source: os.stat_result) -> bool:
    """A compressed copy carries its source's mtime (WhiteNoise's CLI sets it as a float: allow 1 ms)."""
    try:
        return abs(variant.stat().st_mtime_ns - source.st_mtime_ns) < 1_000_000
    except FileNotFoundError:
        return False


def compress_web_build(root: Path) -> int:
    """Writes `.br` and `.gz` beside every compressible file of the build whose copies are missing or
    older than it (WhiteNoise's compressor and rules); returns how many files it compressed."""
    compressor = Compressor(quiet=True)
    done = 0
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.name.startswith(".") or not compressor.should_compress(path.name):
            continue
        source = path.stat()
        variants = [path.with_name(path.name + suffix) for suffix in (".br", ".gz")]
        if all(_fresh(variant, source) for variant in variants):
            continue
        data = path.read_bytes()
        for variant, compress in zip(variants, (compressor.compress_brotli, compressor.compress_gzip), strict=True):
            compressed = compress(data)
            if compressor.is_compressed_effectively(variant.suffix, str(path), len(data), compressed):
                _write_atomically(variant, compressed, like=source)
            else:  # not worth it: WhiteNoise serves the file itself
                variant.unlink(missing_ok=True)
        done += 1
    return done


class AsyncWhiteNoiseMiddleware(SyncAndAsyncMiddleware, WhiteNoiseMiddleware):
    web_root: str | None = None  # set once the web build is added

    def __init__(self, get_response: Any = None) -> None:
        WhiteNoiseMiddleware.__init__(self, get_response)
        self._set_mode(get_response)
        web_root = Path(settings.WEB_BUILD_DIR)
        if (web_root / WEB_INDEX).is_file():
            self._add_web_build(web_root)

    def _add_web_build(self, root: Path) -> None:
        try:
            compressed = compress_web_build(root)
            if compressed:
                logger.info("compressed %d files of the web build in %s", compressed, root)
        except OSError as exc:  # a read-only build: served uncompressed rather than not at all
            logger.warning("could not compress the web build in %s: %s", root, exc)
        # As WhiteNoise names the files it adds (abspath, not realpath: a symlinked build still matches).
        self.web_root = os.path.abspath(root).rstrip(os.path.sep) + os.path.sep
        self.index_file = WEB_INDEX  # "/" is index.html
        self.add_files(str(root))

    def _in_web_build(self, path: str) -> bool:
        return self.web_root is not None and os.path.abspath(path).startswith(self.web_root)

    def immutable_file_test(self, path: str, url: str) -> bool:
        if self._in_web_build(path):
            return bool(HASHED_WEB_FILE.match(url))
        return bool(WhiteNoiseMiddleware.immutable_file_test(self, path, url))

    def add_cache_headers(self, headers: Any, path: str, url: str) -> None:
        if self._in_web_build(path):
            headers["Cache-Control"] = IMMUTABLE if self.immutable_file_test(path, url) else REVALIDATE
            return
        WhiteNoiseMiddleware.add_cache_headers(self, headers, path, url)

    def _call(self, request: HttpRequest) -> Any:
        return WhiteNoiseMiddleware.__call__(self, request)

    async def _acall(self, request: HttpRequest) -> HttpResponseBase:
        if self.autorefresh:  # development: looks on disk for every request
            static_file = await sync_to_async(self.find_file)(request.path_info)
        else:
            static_file = self.files.get(request.path_info)
        if static_file is not None:
            return await sync_to_async(self.serve)(static_file, request)  # type: ignore[no-any-return]
        return await self.get_response(request)  # type: ignore[no-any-return]
