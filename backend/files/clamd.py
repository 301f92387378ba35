"""Optional virus scanning through a clamd daemon (its INSTREAM command), when WHALE_CLAMD_URL is set."""

from __future__ import annotations

import socket
import struct
from typing import IO
from urllib.parse import urlparse

CHUNK = 64 * 1024


class ScanUnavailable(Exception):
    pass


def _connect(url: str, timeout: float) -> socket.socket:
    parsed = urlparse(url)
    if parsed.scheme == "unix":
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        sock.connect(parsed.path)
        return sock
    if parsed.scheme == "tcp" and parsed.hostname:
        return socket.create_connection((parsed.hostname, parsed.port or 3310), timeout=timeout)
    raise ScanUnavailable(f"WHALE_CLAMD_URL must be tcp://host:port or unix:///path, not {url!r}")


def scan(fileobj: IO[bytes], *, url: str, timeout: float = 60.0) -> str | None:
    """The virus clamd found (e.g. "Eicar-Signature"), or None when the file is clean."""
    try:
        with _connect(url, timeout) as sock:
            sock.sendall(b"zINSTREAM\0")
            while chunk := fileobj.read(CHUNK):
                sock.sendall(struct.pack("!L", len(chunk)) + chunk)
            sock.sendall(struct.pack("!L", 0))
            reply = b""
            while not reply.endswith(b"\0") and (data := sock.recv(4096)):
                reply += data
    except OSError as exc:
        raise ScanUnavailable(str(exc)) from exc
    answer = reply.rstrip(b"\0").decode("utf-8", "replace").strip()
    if answer.endswith("FOUND"):
        return answer.removeprefix("stream:").removesuffix("FOUND").strip()
    if answer.endswith("OK"):
        return None
    raise ScanUnavailable(f"clamd answered {answer!r}")
