# ruff: noqa: RUF001 - Chinese text and full-width punctuation are meant here
"""A fake internet on 127.0.0.1: a SearXNG JSON API and real-looking pages (navigation, ads, scripts).

The research tests start it in-process (`serve()`); the browser end-to-end run (scripts/e2e.sh), which
has no internet either, runs it as its SearXNG: `python -m research.tests.fake_internet --port N`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

SKY_ARTICLE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Why is the sky blue? | Science Weekly</title>
<meta property="og:site_name" content="Science Weekly">
<script>window.dataLayer=[];function track(){dataLayer.push(arguments)}track('page');</script>
<style>.ad{color:red}</style></head>
<body>
<header><nav><a href="/">Home</a> <a href="/news">News</a> <a href="/subscribe">Subscribe now</a></nav></header>
<div class="ad-banner">ADVERTISEMENT: Buy the Sky-o-Matic 3000, half price today only!</div>
<main><article>
<h1>Why is the sky blue?</h1>
<p>Sunlight looks white, but it is a mix of every colour. When it enters the atmosphere it meets
molecules of nitrogen and oxygen that are much smaller than the wavelength of visible light.</p>
<p>Those molecules scatter short wavelengths far more strongly than long ones. This is Rayleigh
scattering: its strength grows with the inverse fourth power of the wavelength, so blue light is
scattered about five times more than red light.</p>
<p>Blue light scattered in every direction reaches our eyes from all over the sky, which is why the
whole sky looks blue on a clear day, and not only the part around the Sun.</p>
<p>At sunset, light crosses much more air before it reaches us. Most of the blue is scattered away
on the long path, and the reds and oranges that remain colour the sky near the horizon.</p>
</article></main>
<aside class="sidebar"><h3>Trending</h3><ul><li>Ten cats that look like bread</li><li>Win a cruise</li></ul></aside>
<footer>Copyright 2026 Science Weekly. All rights reserved. Cookie settings. Privacy.</footer>
<script>document.write('<div>tracking pixel</div>')</script>
</body></html>"""

OCEAN_ARTICLE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Why the ocean looks blue - Sea Facts</title></head>
<body><nav><a href="/">Sea Facts home</a> | <a href="/shop">Shop</a></nav>
<div id="cookie-banner">We use cookies. Accept all?</div>
<article><h1>Why the ocean looks blue</h1>
<p>Water absorbs red light a little more strongly than blue light. Over metres of depth the red part
of sunlight is absorbed, and the light scattered back up out of the water is mostly blue.</p>
<p>The colour of the sky reflected on the surface adds to it on a calm day, but the water itself is
blue even under a grey sky when it is deep and clear.</p>
</article>
<div class="ad">Sponsored: Deep sea cruises from 99 euros</div>
<footer>Sea Facts 2026</footer></body></html>"""

CHINESE_ARTICLE = """<!doctype html>
<html lang="zh"><head><meta charset="utf-8"><title>天空为什么是蓝色的 - 科学网</title></head>
<body><nav><a href="/">首页</a> <a href="/news">新闻</a></nav>
<div class="ad">广告：特价商品，今日抢购！</div>
<article><h1>天空为什么是蓝色的</h1>
<p>太阳光看起来是白色的，其实包含了各种颜色的光。阳光进入大气层后，会遇到比可见光波长小得多的氮气和氧气分子。</p>
<p>这些分子对短波长的光散射得更强，这就是瑞利散射。蓝光被散射的程度大约是红光的五倍，所以天空看起来是蓝色的。</p>
</article><footer>版权所有 2026 科学网</footer></body></html>"""

PLAIN_TEXT = (
    "Notes on scattering.\n\nRayleigh scattering makes the daytime sky blue; Mie scattering makes clouds white.\n"
)


@dataclass
class FakeInternet:
    """The running server: `url` is its base; set `search_mode` to ok, slow, error, empty or not_json."""

    host: str
    port: int
    search_mode: str = "ok"
    search_delay: float = 3.0
    results: list[dict[str, Any]] = field(default_factory=list)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def page(self, path: str) -> str:
        return f"{self.url}{path}"

    def default_results(self) -> list[dict[str, Any]]:
        return [
            {"url": self.page("/articles/sky"), "title": "Why is the sky blue?", "content": "Rayleigh scattering..."},
            {"url": self.page("/articles/ocean"), "title": "Why the ocean looks blue", "content": "Water absorbs red"},
            {"url": self.page("/missing"), "title": "Gone", "content": "404"},
            {"url": self.page("/image.png"), "title": "A picture", "content": "png"},
        ]


def _handler(state: FakeInternet) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Set-Cookie", "tracker=abc123; Path=/")
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout)
                self.wfile.write(body)

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            state.requests.append((parts.path, {k.lower(): v for k, v in self.headers.items()}))
            query = parse_qs(parts.query)
            if parts.path == "/search":
                return self._search(query)
            if parts.path == "/brave/web/search":
                if self.headers.get("X-Subscription-Token") != "brave-key":
                    return self._send(401, b'{"error": "bad token"}', "application/json")
                results = [{"url": r["url"], "title": r["title"], "description": r["content"]} for r in self._results()]
                return self._send(200, json.dumps({"web": {"results": results}}).encode(), "application/json")
            pages = {
                "/articles/sky": (SKY_ARTICLE, "text/html; charset=utf-8"),
                "/articles/ocean": (OCEAN_ARTICLE, "text/html; charset=utf-8"),
                "/articles/zh-sky": (CHINESE_ARTICLE, "text/html; charset=utf-8"),
                "/notes.txt": (PLAIN_TEXT, "text/plain; charset=utf-8"),
            }
            if parts.path in pages:
                text, content_type = pages[parts.path]
                return self._send(200, text.encode(), content_type)
            if parts.path == "/image.png":
                return self._send(200, b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "image/png")
            if parts.path == "/redirect":
                return self._send(302, b"", "text/html", {"Location": query["to"][0]})
            if parts.path == "/loop":
                return self._send(302, b"", "text/html", {"Location": "/loop"})
            if parts.path == "/huge":
                return self._huge(int(query.get("mb", ["50"])[0]))
            if parts.path == "/drip":
                return self._drip()
            return self._send(404, b"<html><body>Not found</body></html>", "text/html")

        def do_POST(self) -> None:
            parts = urlsplit(self.path)
            state.requests.append((parts.path, {k.lower(): v for k, v in self.headers.items()}))
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"{}")
            if parts.path != "/tavily/search":
                return self._send(404, b"{}", "application/json")
            if self.headers.get("Authorization") != "Bearer tavily-key":
                return self._send(401, b'{"detail": "bad key"}', "application/json")
            results = self._results()[: int(body.get("max_results", 5))]
            return self._send(
                200, json.dumps({"query": body.get("query"), "results": results}).encode(), "application/json"
            )

        def _results(self) -> list[dict[str, Any]]:
            return state.results or state.default_results()

        def _search(self, query: dict[str, list[str]]) -> None:
            if query.get("format") != ["json"]:
                return self._send(403, b"json format is off", "text/plain")
            if state.search_mode == "slow":
                time.sleep(state.search_delay)
            if state.search_mode == "error":
                return self._send(500, b"<html>Internal Server Error</html>", "text/html")
            if state.search_mode == "not_json":
                return self._send(200, b"<html>rate limited</html>", "text/html")
            results = [] if state.search_mode == "empty" else self._results()
            body = {"query": query.get("q", [""])[0], "number_of_results": len(results), "results": results}
            return self._send(200, json.dumps(body).encode(), "application/json")

        def _huge(self, megabytes: int) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(megabytes * 1024 * 1024))
            self.end_headers()
            paragraph = b"<p>Rayleigh scattering makes the sky blue, a very long page indeed. " + b"x" * 940 + b"</p>\n"
            chunk = (paragraph * 64)[: 64 * 1024]
            try:
                self.wfile.write(b"<html><body><article>")
                for _ in range(megabytes * 16):
                    self.wfile.write(chunk)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def _drip(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", "100000")
            self.end_headers()
            try:
                for _ in range(100):
                    self.wfile.write(b"<p>slow</p>")
                    self.wfile.flush()
                    time.sleep(0.2)
            except (BrokenPipeError, ConnectionResetError):
                pass

    return Handler


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # the default 5 drops connections when 32 searches arrive at once

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients that hang up early (timeouts, cut bodies) are what the tests do on purpose


def serve() -> Iterator[FakeInternet]:
    """Starts the server on a free port of 127.0.0.1 for as long as the generator is open."""
    state = FakeInternet(host="127.0.0.1", port=0)
    server = _QuietServer(("127.0.0.1", 0), _handler(state))
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, name="fake-internet", daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def main(argv: list[str] | None = None) -> None:
    """Serves the fake internet on 127.0.0.1 until stopped; prints its base URL once it listens."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="the port to listen on (0: a free one)")
    parser.add_argument("--search-delay", type=float, default=0.0, help="seconds each search takes (a page can see it)")
    args = parser.parse_args(argv)
    state = FakeInternet(host="127.0.0.1", port=args.port)
    if args.search_delay > 0:
        state.search_mode, state.search_delay = "slow", args.search_delay
    server = _QuietServer(("127.0.0.1", args.port), _handler(state))
    state.port = server.server_address[1]
    print(state.url, flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    server.server_close()


if __name__ == "__main__":
    main()
