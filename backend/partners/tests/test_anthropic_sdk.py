"""The official `anthropic` SDK against /anthropic/v1/, live: the same stack as test_openai_sdk (uvicorn,
a real GPU worker with the simulated engine on this run's queue, the backend's Celery worker)."""

from __future__ import annotations

from typing import Any

import anthropic
import pytest

from partners.models import Completion
from ratelimits.models import UsageDay
from ratelimits.tests.factories import make_user

from .factories import make_key
from .test_openai_sdk import (  # noqa: F401 (fixtures)
    quiet_before_flush,
    saving_worker,
    server,
    sim_worker,
    stack,
    wait_for,
)

pytestmark = [
    pytest.mark.stack,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("quiet_before_flush"),
]


def client_for(base_url: str, secret: str) -> anthropic.Anthropic:
    return anthropic.Anthropic(
        base_url=base_url.removesuffix("/v1") + "/anthropic", api_key=secret, max_retries=0, timeout=60
    )


def test_a_message_has_thinking_and_text_blocks_and_usage(stack) -> None:  # noqa: F811 (the imported fixture)
    user = make_user()
    key = make_key(user)

    message = client_for(stack, key.secret).messages.create(
        model="deepseek-reasoner",
        max_tokens=20,
        system="Be brief.",
        messages=[{"role": "user", "content": "Why is the sky blue?"}],
        metadata={"user_id": "end-user-1"},
    )

    assert message.type == "message" and message.role == "assistant"
    assert [block.type for block in message.content] == ["thinking", "text"]
    thinking, text = message.content
    assert isinstance(thinking, anthropic.types.ThinkingBlock) and len(thinking.thinking.split()) == 8
    assert isinstance(text, anthropic.types.TextBlock) and len(text.text.split()) == 12
    assert message.stop_reason == "max_tokens"
    assert message.usage.output_tokens == 20 and message.usage.input_tokens > 0
    saved = wait_for(lambda: Completion.objects.filter(user=user, status="done").first())
    assert saved.end_user == "end-user-1" and saved.completion_tokens == 20
    assert wait_for(lambda: UsageDay.objects.filter(api_key_id=key.key.id).first()).turns == 1


def test_the_sdks_stream_helper_reads_thinking_and_text_blocks_and_final_usage(stack) -> None:  # noqa: F811 (the imported fixture)
    secret = make_key(make_user()).secret

    with client_for(stack, secret).messages.stream(
        model="whale-r1", max_tokens=30, messages=[{"role": "user", "content": "Why is the sky blue?"}]
    ) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()

    assert len(text.split()) == 22
    assert [block.type for block in final.content] == ["thinking", "text"]
    assert len(final.content[0].thinking.split()) == 8  # type: ignore[union-attr]
    assert final.usage.output_tokens == 30 and final.usage.input_tokens > 0
    assert final.stop_reason == "max_tokens"


def test_the_sdk_raises_its_own_exception_types_for_our_errors(stack) -> None:  # noqa: F811 (the imported fixture)
    user = make_user()
    messages: Any = [{"role": "user", "content": "Hi"}]

    with pytest.raises(anthropic.AuthenticationError):
        client_for(stack, "sk-not-a-key").messages.create(model="whale-chat", max_tokens=5, messages=messages)
    with pytest.raises(anthropic.NotFoundError):
        client_for(stack, make_key(user).secret).messages.create(model="claude-9", max_tokens=5, messages=messages)
    with pytest.raises(anthropic.RateLimitError):
        client_for(stack, make_key(user, requests_per_minute=0).secret).messages.create(
            model="whale-chat", max_tokens=5, messages=messages
        )
    with pytest.raises(anthropic.BadRequestError):
        client_for(stack, make_key(user).secret).messages.create(
            model="whale-chat", max_tokens=5, messages=messages, extra_body={"top_p": 3}
        )


def test_the_sdk_lists_and_retrieves_the_same_models_as_v1(stack) -> None:  # noqa: F811 (the imported fixture)
    client = client_for(stack, make_key(make_user()).secret)

    listed = [model.id for model in client.models.list()]

    assert "whale-r1" in listed and "deepseek-reasoner" in listed
    assert client.models.retrieve("deepseek-reasoner").id == "deepseek-reasoner"
    with pytest.raises(anthropic.NotFoundError):
        client.models.retrieve("claude-9")
    with pytest.raises(anthropic.AuthenticationError):
        client_for(stack, "sk-not-a-key").models.list()
