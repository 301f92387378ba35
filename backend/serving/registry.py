"""The model registry: which names clients may pick, which GPU queue serves each, and which reason."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import DatabaseError

from common.errors import ValidationFailed


@dataclass(frozen=True)
class ModelSpec:
    name: str
    display_name: str
    description: str
    queue: str
    reasoning: bool
    enabled: bool = True


# Staff's switches (enabled, display name, description) live in the dashboard's ModelSetting table. The
# dashboard hands its reader over when it starts (dashboard/apps.py), so serving imports nothing of it.
# Every turn looks the registry up and staff change it rarely: a process keeps what it read for this
# long, and forgets it at once when a ModelSetting is saved or deleted in this process (dashboard/apps.py).
OverridesReader = Callable[[], dict[str, dict[str, Any]]]
OVERRIDES_TTL_SECONDS = 2.0
_overrides_reader: OverridesReader | None = None
_overrides_lock = threading.Lock()
_overrides_cache: tuple[float, dict[str, dict[str, Any]]] | None = None


def staff_overrides_reader_set(reader: OverridesReader | None) -> None:
    global _overrides_reader
    _overrides_reader = reader
    forget_staff_overrides()


def forget_staff_overrides() -> None:
    global _overrides_cache
    with _overrides_lock:
        _overrides_cache = None


def _staff_overrides() -> dict[str, dict[str, Any]]:
    """Staff's overrides by model name; none without a reader, before the table exists, or while the
    database is unreachable (then the settings alone decide, and the next call asks again)."""
    global _overrides_cache
    cached = _overrides_cache
    if cached is not None and time.monotonic() - cached[0] < OVERRIDES_TTL_SECONDS:
        return cached[1]
    reader = _overrides_reader
    if reader is None:
        return {}
    try:
        overrides = reader()
    except DatabaseError:
        return {}
    with _overrides_lock:
        _overrides_cache = (time.monotonic(), overrides)
    return overrides


def model_list() -> list[ModelSpec]:
    specs = []
    overrides = _staff_overrides()
    for name, raw in settings.WHALE_MODELS.items():
        staff = overrides.get(name, {})
        specs.append(
            ModelSpec(
                name=name,
                display_name=str(staff.get("display_name") or raw.get("display_name", name)),
                description=str(staff.get("description") or raw.get("description", "")),
                queue=str(raw["queue"]),
                reasoning=bool(raw.get("reasoning", False)),
                enabled=bool(raw.get("enabled", True)) and bool(staff.get("enabled", True)),
            )
        )
    return specs


def model_get(name: str) -> ModelSpec:
    for spec in model_list():
        if spec.name == name and spec.enabled:
            return spec
    raise ValidationFailed(f"Unknown or disabled model {name!r}.", code="unknown_model", fields={"model": ["Unknown."]})


def model_for_turn(*, deepthink: bool) -> ModelSpec:
    """DeepThink on picks the reasoning model (R1); off picks the chat model."""
    return model_get(settings.WHALE_REASONING_MODEL if deepthink else settings.WHALE_CHAT_MODEL)
