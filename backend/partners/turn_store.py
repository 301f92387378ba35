"""The partner API's turns as turns/services settle, cancel and reap them: a Completion and its Turn.

Registered in partners.apps. A completion has no `streaming` status: the reaper learns from its stream
that a worker started it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from turns import streams
from turns.models import Turn
from turns.stores import ActiveTurn, Id, SettledTurn

from common.errors import ValidationFailed
from inference import protocol
from serving.registry import model_get

from .end_users import end_user_settle
from .models import Completion


def _completion_fields(outcome: streams.TurnOutcome) -> dict[str, Any]:
    """The completion's turn as its stream says it ended."""
    data = outcome.terminal
    fields: dict[str, Any] = {"finished_at": timezone.now()}
    if outcome.terminal_type == protocol.EVENT_ERROR:
        fields.update(status=Turn.Status.FAILED, error_code=str(data.get("code", "turn_failed"))[:64])
    else:
        fields.update(
            status=Turn.Status.CANCELLED if data.get("status") == "cancelled" else Turn.Status.DONE,
            finish_reason=str(data.get("finish_reason") or "")[:32],
            cached_tokens=max(int((data.get("usage") or {}).get("cached_tokens") or 0), 0),
            **streams.usage_counts(data),  # an error event has none: 0
        )
    return fields


def _reasoning(model: str) -> bool:
    try:
        return model_get(model).reasoning
    except ValidationFailed:  # the model left the registry since
        return False


class CompletionStore:
    origin = "partner"

    def exists(self, turn_id: Id) -> bool:
        return Completion.objects.filter(id=turn_id).exists()

    def active(self, *, user_id: Id | None = None) -> list[ActiveTurn]:
        # A completion is queued when it is created: its own created_at is the turn's queued time.
        rows = Completion.objects.filter(turn__status=Turn.Status.QUEUED)
        if user_id is not None:
            rows = rows.filter(user_id=user_id)
        return [ActiveTurn(id=row["id"], queued_at=row["created_at"]) for row in rows.values("id", "created_at")]

    def mark_started(self, turn_id: Id, started_at: dt.datetime) -> bool:
        return False  # a completion stays `queued` until it is settled

    def sources_save(self, turn_id: Id, sources: list[dict[str, Any]], notices: list[dict[str, Any]]) -> bool | None:
        return None  # a completion's stream carries them (partners/relay.py): nothing to save on its row

    def saved(self, turn_id: Id) -> Any | None:
        return None  # a partner reads its completion's stream only (partners/relay.py)

    def settle(self, turn_id: Id, outcome: streams.TurnOutcome) -> SettledTurn | bool | None:
        # A completion's Turn has the completion's id and the partner source: by id, no join to the completion.
        unsettled = Turn.objects.filter(id=turn_id, source=Turn.Source.PARTNER, status=Turn.Status.QUEUED)
        if not unsettled.update(**_completion_fields(outcome)):
            return False if Completion.objects.filter(id=turn_id).exists() else None
        completion = Completion.objects.select_related("turn").filter(id=turn_id).first()
        if completion is None:  # a turn left behind by its deleted completion (its key deleted meanwhile)
            return None
        turn = completion.turn
        if completion.end_user:
            # The end user's reserved tokens, replaced by the used. Safe to repeat: a retry after the
            # transaction failed finds that reservation gone and changes nothing.
            end_user_settle(turn_id=turn_id, used_tokens=turn.prompt_tokens + turn.completion_tokens)
        return SettledTurn(
            id=turn.id,
            model=turn.model,
            status=turn.status,
            error_code=turn.error_code,
            queued_at=completion.created_at,
            first_token_at=None,
            finished_at=turn.finished_at,
            prompt_tokens=turn.prompt_tokens,
            completion_tokens=turn.completion_tokens,
            user_id=str(turn.user_id),
            api_key_id=str(completion.api_key_id),
            admitted_on=completion.created_at.astimezone(dt.UTC).date(),
            reasoning=_reasoning(turn.model),
        )
