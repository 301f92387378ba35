"""The fake internet run as a program, as the browser end-to-end run starts it for its SearXNG."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx

BACKEND = Path(__file__).resolve().parents[2]


def test_run_as_a_module_it_answers_searxng_json_and_serves_the_pages_it_finds() -> None:
    server = subprocess.Popen(
        [sys.executable, "-m", "research.tests.fake_internet", "--search-delay", "0.3"],
        cwd=BACKEND,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        url = server.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        started = time.perf_counter()
        found = httpx.get(f"{url}/search", params={"q": "sky", "format": "json"}, timeout=5).json()
        assert time.perf_counter() - started >= 0.3  # the delay a page can see "Searching the web…" in
        assert found["query"] == "sky" and found["results"][0]["url"] == f"{url}/articles/sky"
        page = httpx.get(found["results"][0]["url"], timeout=5)
        assert page.status_code == 200 and "Rayleigh" in page.text and "<nav>" in page.text
    finally:
        server.terminate()
        server.wait(timeout=10)
