"""The partner API's contract without a GPU: auth, parameters, limits and their headers, OpenAI's error object."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.test import AsyncRequestFactory, Client
from turns import streams

from common.redis import get_redis
from partners import v1
from partners.models import Completion

from .factories import make_key

pytestmark = pytest.mark.django_db

OPENAI_HEADERS = [
    "x-ratelimit-limit-requests",
    "x-ratelimit-remaining-requests",
    "x-ratelimit-reset-requests",
    "x-ratelimit-limit-tokens",
    "x-ratelimit-remaining-tokens",
    "x-ratelimit-reset-tokens",
]


HI = {"role": "user", "content": "Hi"}
ASSISTANT_PREFIX = {"role": "assistant", "content": "Hello", "prefix": True}
TOOL = {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}


def post(secret: str | None, body: Any) -> Any:
    headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}"} if secret else {}
    raw = body if isinstance(body, str) else json.dumps(body)
    return Client().post("/v1/chat/completions", raw, content_type="application/json", **headers)


def chat(**extra: Any) -> dict[str, Any]:
    return {"model": "whale-chat", "messages": [{"role": "user", "content": "Hi"}], "stream": True, **extra}


def assert_openai_error(response: Any, status: int, *, type_: str, param: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["type"] == type_
    assert error["param"] == param
    return error


def test_models_lists_ours_and_deepseeks_names_with_ratelimit_headers(user) -> None:
    key = make_key(user)

    response = Client().get("/v1/models", HTTP_AUTHORIZATION=f"Bearer {key.secret}")

    assert response.status_code == 200
    body = response.json()
    assert body["object"] == "list"
    ids = {model["id"] for model in body["data"]}
    assert {"whale-r1", "whale-chat", "deepseek-chat", "deepseek-reasoner"} <= ids
    assert all(model["object"] == "model" for model in body["data"])
    for header in OPENAI_HEADERS:
        assert header in response, header
    assert "RateLimit-Policy" in response and "RateLimit" in response


def test_a_missing_key_is_401_in_openais_shape(db) -> None:
    error = assert_openai_error(post(None, chat()), 401, type_="authentication_error")
    assert error["code"] == "missing_api_key"


def test_a_wrong_key_is_401_in_openais_shape(db) -> None:
    error = assert_openai_error(post("sk-nope", chat()), 401, type_="authentication_error")
    assert error["code"] == "invalid_api_key"


@pytest.mark.parametrize(
    ("body", "param"),
    [
        (chat(temperature=3), "temperature"),
        (chat(top_p=0), "top_p"),
        (chat(max_tokens=0), "max_tokens"),
        (chat(max_tokens=10**6), "max_tokens"),
        (chat(n=2), "n"),
        (chat(tools=[{"type": "function"}]), "tools[0]"),
        (chat(tools=[{"type": "function", "function": {"name": "no spaces"}}]), "tools[0].function.name"),
        (chat(tools=[TOOL, TOOL]), "tools[1].function.name"),
        (
            chat(tools=[{"type": "function", "function": {"name": "f", "parameters": []}}]),
            "tools[0].function.parameters",
        ),
        (chat(tool_choice="required"), "tool_choice"),
        (chat(tools=[TOOL], tool_choice={"type": "function", "function": {"name": "other"}}), "tool_choice"),
        (chat(tools=[TOOL], tool_choice="sometimes"), "tool_choice"),
        (chat(tools=[TOOL], parallel_tool_calls="yes"), "parallel_tool_calls"),
        (chat(functions=[{"name": "f"}]), "functions"),
        (chat(stop=[""]), "stop"),
        (chat(stop=["x"] * 17), "stop"),
        (chat(seed="1"), "seed"),
        (chat(frequency_penalty=3), "frequency_penalty"),
        (chat(presence_penalty=-3), "presence_penalty"),
        (chat(response_format={"type": "xml"}), "response_format.type"),
        (chat(response_format={"type": "json_schema", "json_schema": {"name": "x"}}), "response_format.json_schema"),
        (
            chat(response_format={"type": "json_schema", "json_schema": {"schema": "{}"}}),
            "response_format.json_schema.schema",
        ),
        (chat(thinking={"type": "maybe"}), "thinking"),
        (chat(reasoning_effort="maximum"), "reasoning_effort"),
        (chat(reasoning_effort={"x": 1}), "reasoning_effort"),
        (chat(reasoning_effort="none", thinking={"type": "enabled"}), "reasoning_effort"),
        (chat(thinking={"type": ["enabled"]}), "thinking"),
        (chat(tools=[TOOL], tool_choice=["auto"]), "tool_choice"),
        (chat(messages=[{"role": ["user"], "content": "x"}]), "messages[0].role"),
        (chat(logprobs=True), "logprobs"),
        (chat(top_logprobs=3), "top_logprobs"),
        (chat(user=["me"]), "user"),
        (chat(wat=1), "wat"),
        (chat(stream=False, stream_options={"include_usage": True}), "stream_options"),
        (chat(model=""), "model"),
        (chat(messages=[]), "messages"),
        (chat(messages=[{"role": "bot", "content": "x"}]), "messages[0].role"),
        (chat(messages=[{"role": "tool", "content": "x"}]), "messages[0].tool_call_id"),
        (chat(messages=[{"role": "user", "content": "Hi", "prefix": True}]), "messages[0].prefix"),
        (chat(messages=[ASSISTANT_PREFIX, {"role": "user", "content": "Hi"}]), "messages[0].prefix"),
        (
            chat(messages=[HI, {"role": "assistant", "content": "", "tool_calls": [{"id": "c"}]}, HI]),
            "messages[1].tool_calls[0]",
        ),
        (chat(messages=[{"role": "user", "content": [{"type": "image_url"}]}]), "messages[0].content"),
    ],
)
def test_an_unsupported_or_out_of_range_parameter_is_a_400_naming_it(user, body, param) -> None:
    key = make_key(user)

    assert_openai_error(post(key.secret, body), 400, type_="invalid_request_error", param=param)
    assert not Completion.objects.exists()


def test_a_body_that_is_not_json_is_a_400(user) -> None:
    key = make_key(user)
    assert_openai_error(post(key.secret, "{nope"), 400, type_="invalid_request_error")


def test_a_conversation_not_ending_with_the_user_is_a_422(user) -> None:
    key = make_key(user)
    body = chat(messages=[{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}])

    assert_openai_error(post(key.secret, body), 422, type_="invalid_request_error", param="messages")


def test_an_unknown_model_is_a_404(user) -> None:
    key = make_key(user)
    error = assert_openai_error(post(key.secret, chat(model="gpt-9")), 404, type_="invalid_request_error")
    assert error["code"] == "model_not_found"


def test_the_requests_per_minute_limit_is_a_429_with_openai_headers(user) -> None:
    key = make_key(user, requests_per_minute=1)
    Client().get("/v1/models", HTTP_AUTHORIZATION=f"Bearer {key.secret}")

    response = post(key.secret, chat())

    error = assert_openai_error(response, 429, type_="rate_limit_error")
    assert error["code"] == "requests_per_minute_exceeded"
    assert int(response["Retry-After"]) >= 1
    assert response["x-ratelimit-remaining-requests"] == "0"
    assert response["x-ratelimit-limit-requests"] == "1"


def test_a_spent_daily_quota_is_a_402_which_sdks_do_not_retry(user) -> None:
    key = make_key(user, tokens_per_day=10)

    response = post(key.secret, chat())

    error = assert_openai_error(response, 402, type_="insufficient_quota")
    assert error["code"] == "tokens_per_day_exceeded"
    assert "Retry-After" in response


def test_a_full_queue_is_a_503(user, settings) -> None:
    for spec in settings.WHALE_MODELS.values():
        spec["max_waiting"] = 0
    key = make_key(user)

    response = post(key.secret, chat())

    error = assert_openai_error(response, 503, type_="server_error")
    assert error["code"] == "server_busy"
    assert "Retry-After" in response


def test_a_key_is_limited_by_its_own_counters_not_its_owners(user) -> None:
    from ratelimits.selectors import limits_for_api_key, limits_for_user

    key = make_key(user)

    assert limits_for_api_key(api_key=key.key).subject != limits_for_user(user=user).subject
    assert limits_for_api_key(api_key=key.key).tier == "partner"


def test_a_key_without_a_tier_uses_its_owners(user) -> None:
    from ratelimits.selectors import limits_for_api_key
    from ratelimits.tests.factories import set_limits

    set_limits(user, tier="pro")
    key = make_key(user, tier=None)

    assert limits_for_api_key(api_key=key.key).tier == "pro"


def test_other_paths_and_methods_answer_in_openais_shape(user) -> None:
    key = make_key(user)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {key.secret}"}

    missing = Client().get("/v1/embeddings", **auth)
    wrong_method = Client().get("/v1/chat/completions", **auth)

    assert_openai_error(missing, 404, type_="invalid_request_error")
    assert_openai_error(wrong_method, 405, type_="invalid_request_error")
    assert wrong_method["Allow"] == "POST"


@pytest.mark.django_db(transaction=True)
async def test_a_partner_who_hangs_up_while_its_completion_is_queued_has_it_stopped(user, monkeypatch) -> None:
    key = await sync_to_async(make_key)(user)
    queue_it = v1._admit

    def slow_admit(request: Any, parse: Any) -> Any:
        started = queue_it(request, parse)
        time.sleep(0.5)  # the partner hangs up while this thread is still at work
        return started

    monkeypatch.setattr(v1, "_admit", slow_admit)
    request = AsyncRequestFactory().post(
        "/v1/chat/completions",
        json.dumps(chat(stream=False)),
        content_type="application/json",
        headers={"Authorization": f"Bearer {key.secret}"},
    )
    view = asyncio.ensure_future(v1.chat_completions(request))
    await asyncio.sleep(0.1)
    view.cancel()  # what Django's ASGI handler does when the client disconnects
    with pytest.raises(asyncio.CancelledError):
        await view

    completion = await sync_to_async(Completion.objects.get)(user=user)
    assert completion.status == "cancelled"
    assert get_redis().exists(streams.keys_for(completion.id).cancel)
