"""Writes of the operators' side: the audit trail, and the staff actions that must leave one."""

from __future__ import annotations

from typing import Any

from django.contrib.admin.models import CHANGE, LogEntry
from django.db import models, transaction

from accounts import services as account_services
from accounts.models import User

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


def _admin_log(*, actor: User, obj: models.Model, message: str) -> None:
    """Also in Django's own admin history of the object (its "History" page)."""
    LogEntry.objects.log_actions(
        user_id=actor.pk,
        queryset=[obj],
        action_flag=CHANGE,
        change_message=message,
        single_object=True,
    )


@transaction.atomic
def user_suspend_by_staff(*, actor: User, user: User, reason: str = "") -> User:
    account_services.user_suspend(user=user, reason=reason)
    audit_record(
        actor=actor, action=AuditEvent.Action.USER_SUSPENDED, obj=user, detail={"reason": user.suspended_reason}
    )
    _admin_log(actor=actor, obj=user, message=f"Suspended: {user.suspended_reason or 'no reason given'}")
    return user


@transaction.atomic
def user_reinstate_by_staff(*, actor: User, user: User) -> User:
    account_services.user_reinstate(user=user)
    audit_record(actor=actor, action=AuditEvent.Action.USER_REINSTATED, obj=user)
    _admin_log(actor=actor, obj=user, message="Reinstated")
    return user


def private_read_record(*, actor: Any, obj: models.Model) -> AuditEvent:
    """Staff opened a private conversation or message: who, when, which."""
    action = (
        AuditEvent.Action.CONVERSATION_VIEWED
        if obj._meta.model_name == "conversation"
        else AuditEvent.Action.MESSAGE_VIEWED
    )
    return audit_record(actor=actor, action=action, obj=obj)
