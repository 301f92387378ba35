"""Hostile requests get a clear 4xx in the right error shape, never a 500 or an HTML page: deep JSON,
huge bodies, invalid text, wrong methods, unknown paths, with DEBUG on and off."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from turns.tests.conftest import access_token

from chat.models import Conversation, Message
from partners.tests.factories import make_key
from ratelimits.tests.factories import make_user, set_limits

pytestmark = pytest.mark.django_db

MB = 1024 * 1024


@pytest.fixture(params=[False, True], ids=["debug-off", "debug-on"])
def debug(request: Any, settings: Any) -> bool:
    settings.DEBUG = request.param
    return bool(request.param)


@pytest.fixture
def ada() -> Any:
    user = make_user("ada@example.com")
    set_limits(user)
    return user


@pytest.fixture
def app(ada: Any) -> Client:
    return Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Bearer {access_token(ada)}")


@pytest.fixture
def partner(ada: Any) -> Client:
    return Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Bearer {make_key(ada).secret}")


def app_error(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    error = response.json()["error"]
    assert {"code", "message"} <= set(error)
    return dict(error)


def openai_error(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    return dict(error)


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def chat_body(content: Any = "Hi") -> dict[str, Any]:
    return {"model": "whale-chat", "messages": [{"role": "user", "content": content}]}


# --- 12: nesting depth -----------------------------------------------------------------------------


APP_JSON_ENDPOINTS = [
    ("post", "/api/v1/messages"),
    ("post", "/api/v1/conversations"),
    ("post", "/api/v1/auth/login"),
    ("post", "/api/v1/auth/register"),
    ("patch", "/api/v1/me"),
    ("post", "/api/v1/api-keys"),
]


@pytest.mark.parametrize(("method", "path"), APP_JSON_ENDPOINTS)
@pytest.mark.parametrize("depth", [100, 10_000])
def test_deeply_nested_json_is_a_400_on_every_app_endpoint(app, debug, method, path, depth) -> None:
    response = getattr(app, method)(path, nested(depth), content_type="application/json")
    error = app_error(response, 400)
    assert error["code"] == "json_too_deep"


def test_deep_json_inside_a_field_is_a_400_too(app) -> None:
    body = '{"content": ' + nested(70) + ', "deepthink": false}'
    assert app_error(app.post("/api/v1/messages", body, content_type="application/json"), 400)["code"] == (
        "json_too_deep"
    )


def test_json_within_the_depth_limit_still_reaches_validation(app) -> None:
    body = '{"content": ' + nested(60) + "}"
    error = app_error(app.post("/api/v1/messages", body, content_type="application/json"), 400)
    assert error["code"] == "invalid" and "content" in error["fields"]


@pytest.mark.parametrize("depth", [100, 10_000])
def test_deeply_nested_json_is_a_400_in_openais_shape(partner, debug, depth) -> None:
    body = '{"model": "whale-chat", "messages": ' + nested(depth) + "}"
    error = openai_error(partner.post("/v1/chat/completions", body, content_type="application/json"), 400)
    assert (error["type"], error["code"]) == ("invalid_request_error", "json_too_deep")


# --- 13: body sizes --------------------------------------------------------------------------------


def test_a_message_of_a_megabyte_is_a_400_message_too_long(app, ada) -> None:
    body = json.dumps({"content": "x" * int(1.1 * MB), "deepthink": False})
    error = app_error(app.post("/api/v1/messages", body, content_type="application/json"), 400)
    assert error["code"] == "message_too_long"
    assert not Conversation.objects.filter(user=ada).exists()


@pytest.mark.parametrize("size", [3 * MB, 11 * MB])
@pytest.mark.parametrize(
    "path", ["/api/v1/messages", "/api/v1/conversations", "/api/v1/auth/login", "conversation-messages"]
)
def test_a_body_over_the_upload_limit_is_a_413_on_the_app_api(app, ada, debug, size, path) -> None:
    if path == "conversation-messages":
        path = f"/api/v1/conversations/{Conversation.objects.create(user=ada).id}/messages"
    body = json.dumps({"content": "x" * size, "deepthink": False})

    error = app_error(app.post(path, body, content_type="application/json"), 413)

    assert error["code"] == "request_too_large"
    assert not Message.objects.filter(conversation__user=ada).exists()


@pytest.mark.parametrize("size", [3 * MB, 11 * MB])
def test_a_body_over_the_upload_limit_is_a_413_on_the_partner_api(partner, debug, size) -> None:
    body = json.dumps(chat_body("x" * size))
    error = openai_error(partner.post("/v1/chat/completions", body, content_type="application/json"), 413)
    assert (error["type"], error["code"]) == ("invalid_request_error", "request_too_large")


def test_a_partner_message_of_a_megabyte_is_a_400_naming_it(partner) -> None:
    body = json.dumps(chat_body("x" * int(1.1 * MB)))
    error = openai_error(partner.post("/v1/chat/completions", body, content_type="application/json"), 400)
    assert error["param"] == "messages[0].content" or error["code"] == "message_too_long"


# --- 14: invalid text ------------------------------------------------------------------------------


BAD_TEXT = ['"a\\ud800b"', '"\\udfff"', '"nul \\u0000 inside"']


@pytest.mark.parametrize("raw", BAD_TEXT)
def test_invalid_text_in_a_partner_message_is_a_400_naming_the_field(partner, raw) -> None:
    body = '{"model": "whale-chat", "messages": [{"role": "user", "content": ' + raw + "}]}"
    error = openai_error(partner.post("/v1/chat/completions", body, content_type="application/json"), 400)
    assert (error["code"], error["param"]) == ("invalid_text", "messages[0].content")


@pytest.mark.parametrize("raw", BAD_TEXT)
@pytest.mark.parametrize(
    ("path", "template", "field"),
    [
        ("/api/v1/messages", '{"content": %s}', "content"),
        ("/api/v1/conversations", '{"title": %s}', "title"),
        ("/api/v1/auth/login", '{"email": %s, "password": "x"}', "email"),
        ("/api/v1/auth/register", '{"email": "eve@example.com", "password": %s}', "password"),
        ("/api/v1/api-keys", '{"name": %s}', "name"),
    ],
)
def test_invalid_text_in_any_app_string_field_is_a_400_naming_it(app, ada, raw, path, template, field) -> None:
    response = app.post(path, template % raw, content_type="application/json")
    error = app_error(response, 400)
    assert error["code"] == "invalid"
    assert list(error["fields"]) == [field]
    assert "not valid text" in error["fields"][field][0]
    assert not Conversation.objects.filter(user=ada).exists()


def test_invalid_text_in_a_key_is_a_400(app) -> None:
    error = app_error(app.post("/api/v1/messages", '{"\\ud800": 1}', content_type="application/json"), 400)
    assert error["code"] == "invalid" and "not valid text" in str(error["fields"])


@pytest.mark.parametrize("query", ["q=%00", "q=a%00b"])
def test_a_nul_in_a_query_is_a_400_not_a_database_error(app, query) -> None:
    error = app_error(app.get(f"/api/v1/conversations?{query}"), 400)
    assert error["code"] == "invalid" and list(error["fields"]) == ["q"]


# --- 16: methods and unknown paths on /v1 ----------------------------------------------------------


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_writing_to_the_models_list_is_a_405_in_openais_shape(partner, debug, method) -> None:
    response = getattr(partner, method)("/v1/models", "{}", content_type="application/json")
    error = openai_error(response, 405)
    assert error["type"] == "invalid_request_error"
    assert response["Allow"] == "GET"


@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete"])
@pytest.mark.parametrize("path", ["/v1/embeddings", "/v1/nothing/here", "/v1/"])
def test_unknown_partner_paths_are_a_404_in_openais_shape(partner, debug, method, path) -> None:
    if method == "get":
        response = partner.get(path)
    else:
        response = getattr(partner, method)(path, "{}", content_type="application/json")
    assert openai_error(response, 404)["code"] == "unknown_url"


@pytest.mark.parametrize("path", ["/v1/chat/completions", "/v1/completions"])
@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_other_methods_on_completions_are_a_405(partner, debug, method, path) -> None:
    response = getattr(partner, method)(path, "{}", content_type="application/json")
    openai_error(response, 405)
    assert response["Allow"] == "POST"


def test_the_partner_api_without_a_key_is_a_401_whatever_the_method(debug) -> None:
    response = Client(enforce_csrf_checks=True).post("/v1/models")
    openai_error(response, 405)
    for path in ("/v1/chat/completions", "/v1/completions"):
        response = Client(enforce_csrf_checks=True).post(path, "{}", content_type="application/json")
        openai_error(response, 401)


# --- 18: API 404s and 405s in JSON with DEBUG on and off -------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/conversations/not-a-uuid",
        "/api/v1/conversations/12345/messages",
        "/api/v1/turns/nope/events",
        "/api/v1/messages/%ZZ/regenerate",
        "/api/v1/shared/" + "x" * 100,
        "/api/v1/no-such-endpoint",
        "/api/v2/conversations",
        "/api/",
        "/api",
        "/api/schema",
    ],
)
def test_unknown_app_api_paths_are_a_json_404(app, debug, path) -> None:
    assert app_error(app.get(path), 404)["code"] == "not_found"
    assert app_error(app.post(path, "{}", content_type="application/json"), 404)["code"] == "not_found"


def test_a_wrong_method_on_the_app_api_is_a_json_405(app, debug) -> None:
    assert app_error(app.put("/api/v1/conversations", "{}", content_type="application/json"), 405)["code"] == (
        "method_not_allowed"
    )


def test_the_web_app_still_answers_other_paths(client) -> None:
    assert client.get("/some/page").status_code == 200


async def test_the_event_loop_stack_answers_the_same_json_errors(settings) -> None:
    from django.test import AsyncClient

    settings.DEBUG = True
    client = AsyncClient(enforce_csrf_checks=True)

    missing = await client.get("/api/v1/conversations/not-a-uuid")
    partner_post = await client.post("/v1/embeddings", "{}", content_type="application/json")
    query = await client.get("/api/v1/conversations?q=%00")

    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "not_found")
    assert (partner_post.status_code, partner_post.json()["error"]["type"]) == (404, "invalid_request_error")
    assert (query.status_code, query.json()["error"]["code"]) == (400, "invalid")
