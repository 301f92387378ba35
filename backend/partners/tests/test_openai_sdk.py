"""The official `openai` SDK against /v1/, live: a uvicorn server, a real GPU worker (simulated engine) on
this run's queue, and the backend's Celery worker settling completions. Nothing between is faked."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import openai
import pytest
import uvicorn
from django.conf import settings as django_settings
from turns import streams
from turns.tests.stack import backend_worker, gpu_worker, quiet_before_flush  # noqa: F401 (a fixture)

from common.redis import get_redis
from partners.models import Completion
from ratelimits.models import UsageDay
from ratelimits.tests.factories import make_user

from .factories import make_key

pytestmark = [
    pytest.mark.stack,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("quiet_before_flush"),
]

# 8 words of reasoning, then an answer of up to 200 words at 20 ms each: long enough to hang up mid-answer.
ENGINE = {
    "WHALE_SIM_FIRST_TOKEN_SECONDS": "0.02",
    "WHALE_SIM_INTER_TOKEN_SECONDS": "0.02",
    "WHALE_SIM_TOKENS": "200",
    "WHALE_SIM_REASONING_TOKENS": "8",
}


def _queue() -> str:
    return f"{django_settings.WHALE_REDIS_PREFIX}:gpu-partners"


@pytest.fixture(scope="module")
def sim_worker() -> Iterator[Any]:
    with gpu_worker(_queue(), engine="simulated", engine_env=ENGINE) as worker:
        yield worker


@pytest.fixture(scope="module")
def saving_worker(django_db_blocker: Any) -> Iterator[Any]:
    with django_db_blocker.unblock(), backend_worker() as worker:
        yield worker


@pytest.fixture(scope="module")
def server(django_db_blocker: Any) -> Iterator[str]:
    """The ASGI app (config.asgi) under uvicorn in a thread of this process, so it sees the test database."""
    from config.asgi import application

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(application, host="127.0.0.1", port=port, lifespan="off", log_level="warning")
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, daemon=True)
    with django_db_blocker.unblock():
        thread.start()
        deadline = time.monotonic() + 20
        while not uv.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}/v1"
        uv.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def stack(settings: Any, sim_worker: Any, saving_worker: Any, server: str) -> str:
    settings.WHALE_MODELS = {
        "whale-r1": {"display_name": "DeepThink (R1)", "queue": _queue(), "reasoning": True},
        "whale-chat": {"display_name": "Chat", "queue": _queue(), "reasoning": False},
    }
    settings.WHALE_SSE_KEEPALIVE_SECONDS = 0.5
    return server


def client_for(base_url: str, secret: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=base_url, api_key=secret, max_retries=0, timeout=60)


def wait_for(predicate: Any, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def test_the_sdk_lists_models(stack) -> None:
    secret = make_key(make_user()).secret

    ids = [model.id for model in client_for(stack, secret).models.list()]

    assert {"whale-r1", "whale-chat", "deepseek-chat", "deepseek-reasoner"} <= set(ids)


def test_a_non_streaming_completion_returns_reasoning_content_and_usage(stack) -> None:
    user = make_user()
    key = make_key(user)

    completion = client_for(stack, key.secret).chat.completions.create(
        model="deepseek-reasoner",
        messages=[
            {"role": "user", "content": "Why is the sky blue?"},
            {"role": "assistant", "content": "Light.", "reasoning_content": "dropped"},  # type: ignore[typeddict-unknown-key]
            {"role": "user", "content": "Say more."},
        ],
        max_tokens=20,
    )

    assert completion.object == "chat.completion"
    assert completion.id.startswith("chatcmpl-")
    message = completion.choices[0].message
    assert message.role == "assistant"
    assert message.content and len(message.content.split()) == 12  # 20 tokens, 8 of them reasoning
    assert len((message.model_extra or {})["reasoning_content"].split()) == 8
    assert completion.choices[0].finish_reason == "length"
    assert completion.usage is not None
    assert completion.usage.completion_tokens == 20
    assert completion.usage.completion_tokens_details is not None
    assert completion.usage.completion_tokens_details.reasoning_tokens == 8
    assert completion.usage.total_tokens == completion.usage.prompt_tokens + 20

    saved = wait_for(lambda: Completion.objects.filter(user=user, status="done").first())
    assert saved.completion_tokens == 20 and saved.reasoning_tokens == 8
    usage = wait_for(lambda: UsageDay.objects.filter(api_key_id=key.key.id).first())
    assert usage.turns == 1 and usage.completion_tokens == 20


def test_a_streaming_completion_sends_deltas_a_finish_reason_and_usage(stack) -> None:
    created = make_key(make_user())
    secret = created.secret

    stream = client_for(stack, secret).chat.completions.create(
        model="whale-r1",
        messages=[{"role": "user", "content": "Why is the sky blue?"}],
        max_tokens=30,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)

    deltas = [c.choices[0].delta for c in chunks if c.choices]
    assert deltas[0].role == "assistant"
    reasoning = "".join((d.model_extra or {}).get("reasoning_content") or "" for d in deltas)
    content = "".join(d.content or "" for d in deltas)
    assert len(reasoning.split()) == 8
    assert len(content.split()) == 22
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes == ["length"]
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == 30
    assert len({c.id for c in chunks}) == 1
    # Saved with its usage (one transaction) by the backend worker, before the test's database is flushed.
    usage = wait_for(lambda: UsageDay.objects.filter(api_key_id=created.key.id).first())
    assert usage.completion_tokens == 30


def test_the_sdk_raises_its_own_exception_types_for_our_errors(stack) -> None:
    user = make_user()
    good = client_for(stack, make_key(user).secret)
    messages: Any = [{"role": "user", "content": "Hi"}]

    with pytest.raises(openai.AuthenticationError):
        client_for(stack, "sk-not-a-key").models.list()
    with pytest.raises(openai.BadRequestError) as bad:
        good.chat.completions.create(model="whale-chat", messages=messages, temperature=5)
    assert bad.value.param == "temperature"  # type: ignore[attr-defined]
    with pytest.raises(openai.NotFoundError):
        good.chat.completions.create(model="gpt-9", messages=messages)
    with pytest.raises(openai.UnprocessableEntityError):
        good.chat.completions.create(model="whale-chat", messages=[{"role": "system", "content": "Be brief."}])
    with pytest.raises(openai.RateLimitError) as limited:
        client_for(stack, make_key(user, requests_per_minute=0).secret).models.list()
    assert limited.value.code == "requests_per_minute_exceeded"  # type: ignore[attr-defined]
    with pytest.raises(openai.APIStatusError) as quota:
        client_for(stack, make_key(user, tokens_per_day=1).secret).chat.completions.create(
            model="whale-chat", messages=messages
        )
    assert quota.value.status_code == 402


def test_a_partner_that_hangs_up_mid_stream_has_its_generation_aborted(stack) -> None:
    user = make_user()
    secret = make_key(user).secret

    stream = client_for(stack, secret).chat.completions.create(
        model="whale-chat", messages=[{"role": "user", "content": "Tell me a long story."}], stream=True
    )
    seen = 0
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            seen += 1
            if seen == 3:
                break
    stream.close()

    completion = wait_for(lambda: Completion.objects.filter(user=user).exclude(status="queued").first())
    assert completion.status == "cancelled"
    assert completion.completion_tokens < 200  # the worker stopped well before the 200-token answer
    assert get_redis().exists(streams.keys_for(completion.id).cancel)


def test_a_partner_that_gives_up_waiting_for_a_whole_answer_has_it_aborted(stack) -> None:
    # The partner hangs up once its request has reached us: the async SDK's call, cancelled from outside.
    # (A timer could fire before the request arrives on a loaded machine, and then nothing was started.)
    user = make_user()
    secret = make_key(user).secret
    reached_us = threading.Event()

    async def ask_then_hang_up() -> bool:
        async with openai.AsyncOpenAI(base_url=stack, api_key=secret, max_retries=0) as client:
            request = asyncio.ensure_future(
                client.chat.completions.create(
                    model="whale-chat", messages=[{"role": "user", "content": "A long story."}]
                )
            )
            await asyncio.get_running_loop().run_in_executor(None, reached_us.wait, 20)
            request.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await request  # the SDK closes its connection as it unwinds
            return request.cancelled()

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        hung_up = pool.submit(asyncio.run, ask_then_hang_up())
        started = wait_for(lambda: Completion.objects.filter(user=user).first())
        reached_us.set()
        assert hung_up.result(timeout=20), "the whole answer came back before the partner hung up"

    completion = wait_for(lambda: Completion.objects.filter(pk=started.pk).exclude(status="queued").first())
    assert completion.status == "cancelled"
    assert completion.completion_tokens < 200


def test_the_sdk_calls_the_legacy_completions_endpoint(stack) -> None:
    client = client_for(stack, make_key(make_user()).secret)

    completion = client.completions.create(model="whale-chat", prompt="Once upon a time", max_tokens=5)
    chunks = list(client.completions.create(model="whale-chat", prompt="Once", max_tokens=5, stream=True))

    assert completion.object == "text_completion" and completion.id.startswith("cmpl-")
    assert completion.choices[0].text and completion.choices[0].finish_reason == "length"
    assert completion.usage is not None and completion.usage.completion_tokens == 5
    assert "".join(c.choices[0].text for c in chunks if c.choices).strip()


def test_the_thinking_switch_picks_the_model_and_the_end_user_is_recorded(stack) -> None:
    user = make_user()
    client = client_for(stack, make_key(user).secret)
    messages: Any = [{"role": "user", "content": "Hi"}]

    thinking = client.chat.completions.create(
        model="deepseek-chat", messages=messages, max_tokens=12, extra_body={"thinking": {"type": "enabled"}}
    )
    plain = client.chat.completions.create(
        model="deepseek-reasoner", messages=messages, max_tokens=12, extra_body={"thinking": {"type": "disabled"}}
    )

    assert (thinking.choices[0].message.model_extra or {}).get("reasoning_content")
    assert not (plain.choices[0].message.model_extra or {}).get("reasoning_content")
    assert thinking.usage is not None and thinking.usage.prompt_tokens_details is not None
    assert thinking.usage.prompt_tokens_details.cached_tokens == 0  # the simulated engine caches nothing
    client.chat.completions.create(model="whale-chat", messages=messages, max_tokens=3, user="customer-9")
    saved = wait_for(lambda: Completion.objects.filter(user=user, end_user="customer-9", status="done").first())
    assert saved.model == "whale-chat"
    models = set(Completion.objects.filter(user=user).values_list("model", flat=True))
    assert models == {"whale-r1", "whale-chat"}
