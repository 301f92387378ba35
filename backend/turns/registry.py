"""The model registry: which names clients may pick, which GPU queue serves each, and which reason."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.conf import settings

from common.errors import ValidationFailed


@dataclass(frozen=True)
class ModelSpec:
    name: str
    display_name: str
    description: str
    queue: str
    reasoning: bool
    enabled: bool = True


def _staff_overrides() -> dict[str, dict[str, Any]]:
    """What staff changed in the admin (dashboard.ModelSetting): enabled, display name, description."""
    try:
        setting = apps.get_model("dashboard", "ModelSetting")
        rows = setting.objects.values("name", "enabled", "display_name", "description")
        return {row["name"]: row for row in rows}
    except Exception:  # noqa: BLE001 - no table yet (migrations) or no database here: the settings alone decide
        return {}


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
