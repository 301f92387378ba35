"""Writes for the partner API: key life cycle, starting and cancelling completions (turns settles them), usage CSV."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import json
import secrets
import uuid
from dataclasses import dataclass
from typing import Any, cast

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from redis.exceptions import RedisError
from turns import preparing
from turns.models import Turn

from common.errors import NotFound, ValidationFailed
from inference import protocol
from ratelimits.selectors import limits_for_api_key, usage_days
from ratelimits.services import Admitted, turn_admit, turn_release
from serving.registry import ModelSpec, model_get

from . import turn_options
from .end_users import END_USER_LIMIT_FIELDS, end_user_admit, end_user_settle
from .models import ApiKey, Completion
from .params import CompletionParams
from .selectors import PREFIX_LENGTH, SECRET_PREFIX, api_key_names, secret_hash

MAX_EXPORT_DAYS = 366


@dataclass
class CreatedKey:
    key: ApiKey
    secret: str  # shown once, never stored


def api_key_create(
    *,
    user: Any,
    name: str,
    expires_at: dt.datetime | None = None,
    tier: Any = None,
    end_user_requests_per_minute: int | None = None,
    end_user_tokens_per_day: int | None = None,
) -> CreatedKey:
    """A new key; the secret is returned here once and only its hash is kept."""
    name = " ".join(str(name or "").split())[:100]
    if not name:
        raise ValidationFailed(fields={"name": ["A key needs a name."]})
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationFailed(fields={"expires_at": ["The expiry must be in the future."]})
    live = ApiKey.objects.filter(user_id=user.pk, revoked_at__isnull=True).count()
    if live >= settings.WHALE_API_KEYS_PER_USER:
        raise ValidationFailed(
            f"You can have at most {settings.WHALE_API_KEYS_PER_USER} keys; revoke one first.", code="too_many_keys"
        )
    while True:
        prefix = secrets.token_hex(PREFIX_LENGTH // 2)
        if not ApiKey.objects.filter(prefix=prefix).exists():
            break
    secret = f"{SECRET_PREFIX}{prefix}{secrets.token_urlsafe(32)}"
    key = ApiKey.objects.create(
        user=user,
        name=name,
        prefix=prefix,
        secret_hash=secret_hash(secret),
        expires_at=expires_at,
        tier=tier,
        end_user_requests_per_minute=end_user_requests_per_minute,
        end_user_tokens_per_day=end_user_tokens_per_day,
    )
    return CreatedKey(key=key, secret=secret)


def api_key_update(*, user: Any, key_id: Any, **changes: Any) -> ApiKey:
    """Renames one of the user's keys or sets its end-user limits (None lifts a limit); 404 for anyone else's."""
    key = ApiKey.objects.filter(id=key_id, user_id=user.pk).first()
    if key is None:
        raise NotFound("API key not found.")
    if "name" in changes:
        changes["name"] = " ".join(str(changes["name"] or "").split())[:100]
        if not changes["name"]:
            raise ValidationFailed(fields={"name": ["A key needs a name."]})
    unknown = set(changes) - {"name", *END_USER_LIMIT_FIELDS}
    if unknown:
        raise ValidationFailed(fields={name: ["Cannot be changed."] for name in sorted(unknown)})
    for name, value in changes.items():
        setattr(key, name, value)
    if changes:
        key.save(update_fields=list(changes))
    return key


def api_key_revoke(*, user: Any, key_id: Any) -> ApiKey:
    """Revokes a key at once: the next request with it gets 401. Revoking twice is harmless."""
    key = ApiKey.objects.filter(id=key_id, user_id=user.pk).first()
    if key is None:
        raise NotFound("API key not found.")
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
    return key


def resolve_model(name: str) -> ModelSpec:
    """Our registry names, or DeepSeek's (deepseek-chat, deepseek-reasoner) through the aliases."""
    real = settings.WHALE_PARTNER_MODEL_ALIASES.get(name, name)
    try:
        return model_get(real)
    except ValidationFailed as exc:
        raise NotFound(f"The model `{name}` does not exist.", code="model_not_found") from exc


@dataclass
class StartedCompletion:
    completion: Completion
    admitted: Admitted
    position: int


def completion_start(*, api_key: ApiKey, params: CompletionParams) -> StartedCompletion:
    """Admits and queues one completion on the turn pipeline: the same task, stream and GPU worker."""
    from turns.services import turn_create, turn_enqueue

    spec = _model_for(params)
    limits = limits_for_api_key(api_key=api_key)
    options = turn_options.options_check(user=api_key.user, params=params)  # 400, 404, 409 before any write
    turn_id = uuid.uuid4()
    # The tools are part of the prompt: count them in the admission's estimate.
    sized = (
        [{"role": "system", "content": json.dumps(params.tools)}, *params.messages] if params.tools else params.messages
    )
    admitted = turn_admit(
        limits=limits, turn_id=turn_id, spec=spec, messages=sized, max_tokens=params.max_tokens, openai=True
    )
    try:
        end_user_admit(api_key=api_key, end_user=params.end_user, turn_id=turn_id, admitted=admitted)
        with transaction.atomic():
            now = timezone.now()
            turn = turn_create(
                turn_id=turn_id,
                source=Turn.Source.PARTNER,
                user_id=api_key.user_id,
                api_key_id=api_key.id,
                model=spec.name,
                queued_at=now,
            )
            completion = Completion.objects.create(
                id=turn_id,
                turn=turn,
                api_key=api_key,
                user_id=api_key.user_id,
                stream=params.stream,
                end_user=params.end_user,
                created_at=now,
            )
            ApiKey.objects.filter(id=api_key.id).update(last_used_at=timezone.now())
            sampling = _sampling(params, reasoning=spec.reasoning)
            if options is not None:  # the web or files are read first, as for an app turn
                position = preparing.prepare_step_queue(
                    turn_id=turn_id,
                    conversation_id=None,
                    user_id=api_key.user_id,
                    messages=cast(list[protocol.ChatMessage], params.messages),
                    question=str(params.messages[-1]["content"]),
                    search=bool(options.search),
                    file_ids=options.file_ids,
                    admitted=admitted,
                    read_urls=bool(options.search),  # a URL in the question is read with web search only
                    gpu_fields={"sampling": dataclasses.asdict(sampling), "task_fields": _task_fields(params)},
                )
            else:
                position = turn_enqueue(
                    turn_id=turn_id,
                    conversation_id=None,
                    user_id=api_key.user_id,
                    spec=spec,
                    # A raw prompt goes as it is (`prompt`), with no messages.
                    messages=cast(list[protocol.ChatMessage], params.messages if params.prompt is None else []),
                    admitted=admitted,
                    sampling=sampling,
                    task_fields=_task_fields(params),
                )
    except BaseException:
        turn_release(turn_id=turn_id)
        end_user_settle(turn_id=turn_id, used_tokens=0)
        raise
    return StartedCompletion(completion=completion, admitted=admitted, position=position)


def _model_for(params: CompletionParams) -> ModelSpec:
    """The model asked for; `thinking` enabled or disabled moves it to the reasoning or the chat model."""
    spec = resolve_model(params.model)
    if params.prompt is None and params.thinking is not None and params.thinking != spec.reasoning:
        spec = model_get(settings.WHALE_REASONING_MODEL if params.thinking else settings.WHALE_CHAT_MODEL)
    return spec


def _sampling(params: CompletionParams, *, reasoning: bool) -> protocol.SamplingSettings:
    """As DeepSeek's thinking mode does, a reasoning model ignores temperature, top_p and the penalties."""
    sampling = protocol.SamplingSettings()
    if not reasoning or params.prompt is not None:
        for name in ("temperature", "top_p", "presence_penalty", "frequency_penalty"):
            value = getattr(params, name)
            if value is not None:
                setattr(sampling, name, value)
    sampling.stop = list(params.stop)
    sampling.seed = params.seed
    sampling.guided = params.guided
    sampling.reasoning_effort = cast(protocol.ReasoningEffort, params.reasoning_effort) if reasoning else None
    return sampling


def _task_fields(params: CompletionParams) -> dict[str, Any]:
    # A completion stays `queued` until it is settled; its settle goes to the partners' store first.
    fields: dict[str, Any] = {"notify_started": False, "origin": "partner"}
    if params.tools:
        fields.update(
            tools=params.tools, tool_choice=params.tool_choice, parallel_tool_calls=params.parallel_tool_calls
        )
    if params.prompt is not None:
        fields["prompt"] = params.prompt
    return fields


def completion_cancel(*, turn_id: Any) -> None:
    """The partner went away: stop generating (nobody will read it), through the one cancel in turns."""
    from turns.services import turn_cancel_request

    try:
        turn_cancel_request(turn_id=turn_id)
    except RedisError:
        return  # the reaper or the worker's deadline ends it


USAGE_CSV_COLUMNS = [
    "date",
    "source",
    "key_prefix",
    "key_name",
    "turns",
    "reasoning_turns",
    "prompt_tokens",
    "completion_tokens",
    "reasoning_tokens",
    "total_tokens",
    "cached_tokens",
    "errors",
]


def usage_csv(*, user: Any, since: dt.date, until: dt.date) -> str:
    """A user's usage per day, one row for the app and one per API key, as CSV."""
    if until < since:
        raise ValidationFailed(fields={"until": ["Must not be before `since`."]})
    if (until - since).days >= MAX_EXPORT_DAYS:
        raise ValidationFailed(fields={"since": [f"At most {MAX_EXPORT_DAYS} days at a time."]})
    names = api_key_names(user=user)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(USAGE_CSV_COLUMNS)
    for row in usage_days(user=user, since=since, until=until):
        key_id = str(row.api_key_id) if row.api_key_id else None
        prefix, name = names.get(key_id, ("", "")) if key_id else ("", "")
        writer.writerow(
            [
                row.date.isoformat(),
                "api_key" if key_id else "app",
                f"{SECRET_PREFIX}{prefix}" if prefix else "",
                _csv_safe(name),
                row.turns,
                row.reasoning_turns,
                row.prompt_tokens,
                row.completion_tokens,
                row.reasoning_tokens,
                row.total_tokens,
                row.cached_tokens,
                row.errors,
            ]
        )
    return out.getvalue()


def _csv_safe(value: str) -> str:
    """Keeps a spreadsheet from running a key name as a formula."""
    return "'" + value if value[:1] in {"=", "+", "-", "@", "\t", "\r"} else value
