"""Sanitised file names: what a user's file is called in Whale, whatever the client sent."""

from __future__ import annotations

import re
import unicodedata

from .models import NAME_MAX_LENGTH

_UNSAFE = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*\u200b-\u200f\u202a-\u202e\u2066-\u2069]')


def sanitize_name(raw: str) -> str:
    """The last path part, NFC, without control, bidi or reserved characters, at most 255 characters."""
    name = unicodedata.normalize("NFC", raw or "")
    name = re.split(r"[/\\]", name)[-1]
    name = _UNSAFE.sub("", name).strip().lstrip(".").strip()
    if not name:
        return "file"
    if len(name) > NAME_MAX_LENGTH:
        stem, dot, ext = name.rpartition(".")
        if dot and 0 < len(ext) <= 16:
            name = stem[: NAME_MAX_LENGTH - len(ext) - 1] + "." + ext
        else:
            name = name[:NAME_MAX_LENGTH]
    return name
