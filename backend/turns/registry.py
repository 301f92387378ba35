"""The model registry: which names clients may pick, which GPU queue serves each, and which reason."""

from __future__ import annotations

from dataclasses import dataclass

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


def model_list() -> list[ModelSpec]:
    specs = []
    for name, raw in settings.WHALE_MODELS.items():
        specs.append(
            ModelSpec(
                name=name,
                display_name=str(raw.get("display_name", name)),
                description=str(raw.get("description", "")),
                queue=str(raw["queue"]),
                reasoning=bool(raw.get("reasoning", False)),
                enabled=bool(raw.get("enabled", True)),
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
