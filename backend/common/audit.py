"""Staff actions that the audit log keeps: an app announces one here, the dashboard (dashboard/apps.py) records it.

Receivers run in the sender's transaction, and an error in one propagates: an action whose trace
cannot be written does not happen.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.dispatch import Signal

# Actions (dashboard.AuditEvent.Action keeps the same values with their labels).
CONVERSATION_VIEWED = "conversation.viewed"
MESSAGE_VIEWED = "message.viewed"
USER_SUSPENDED = "user.suspended"
USER_REINSTATED = "user.reinstated"

# Sent with sender=the object's model, and actor, action, obj, detail.
staff_acted = Signal()


def staff_action_record(*, actor: Any, action: str, obj: models.Model, detail: dict[str, Any] | None = None) -> None:
    staff_acted.send(sender=type(obj), actor=actor, action=action, obj=obj, detail=detail or {})
