"""Writes of the operators' side: the audit trail of what staff did (common.audit announces each action)."""

from __future__ import annotations

from typing import Any

from django.db import models

from .models import AuditEvent


def audit_record(*, actor: Any, action: str, obj: models.Model, detail: dict[str, Any] | None = None) -> AuditEvent:
    return AuditEvent.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        actor_email=str(getattr(actor, "email", "") or "")[:254],
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        object_repr=str(obj)[:200],
        detail=detail or {},
    )


def staff_action_recorded(*, actor: Any, action: str, obj: models.Model, detail: dict[str, Any], **_: Any) -> None:
    """The receiver of common.audit.staff_acted (connected in apps.py)."""
    audit_record(actor=actor, action=action, obj=obj, detail=detail)
