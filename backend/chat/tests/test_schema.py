from __future__ import annotations

import pytest
from drf_spectacular.generators import SchemaGenerator

OPERATIONS = {
    ("/api/v1/conversations", "get"): "conversations_list",
    ("/api/v1/conversations", "post"): "conversations_create",
    ("/api/v1/conversations/{conversation_id}", "get"): "conversations_retrieve",
    ("/api/v1/conversations/{conversation_id}", "patch"): "conversations_update",
    ("/api/v1/conversations/{conversation_id}", "delete"): "conversations_destroy",
    ("/api/v1/conversations/{conversation_id}/export", "get"): "conversations_export",
    ("/api/v1/conversations/{conversation_id}/share", "post"): "conversations_share",
    ("/api/v1/shares", "get"): "shares_list",
    ("/api/v1/shares/{share_link_id}", "delete"): "shares_destroy",
    ("/api/v1/shared/{token}", "get"): "shared_retrieve",
    ("/api/v1/messages/{message_id}", "patch"): "messages_update",
}


@pytest.fixture(scope="module")
def schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


@pytest.mark.parametrize(("path", "method"), list(OPERATIONS))
def test_every_chat_operation_is_named_tagged_and_declares_its_errors(schema, path, method):
    operation = schema["paths"][path][method]
    assert operation["operationId"] == OPERATIONS[(path, method)]
    assert operation["tags"]
    error_ref = {"$ref": "#/components/schemas/ErrorResponse"}
    public = path.startswith("/api/v1/shared/")
    expected = {"404"} if public else {"401"}
    if "{" in path and not public:
        expected.add("404")
    for status in expected:
        assert operation["responses"][status]["content"]["application/json"]["schema"] == error_ref
    assert ("security" not in operation) == public


def test_the_export_declares_both_file_types(schema):
    content = schema["paths"]["/api/v1/conversations/{conversation_id}/export"]["get"]["responses"]["200"]["content"]
    assert set(content) == {"text/markdown", "application/json"}


def test_lists_are_declared_as_cursor_pages(schema):
    operation = schema["paths"]["/api/v1/conversations"]["get"]
    names = {parameter["name"] for parameter in operation["parameters"]}
    assert names == {"q", "archived", "pinned", "cursor", "page_size"}
    page = schema["components"]["schemas"]["PaginatedConversationList"]
    assert set(page["properties"]) == {"next", "previous", "results"}


def test_the_error_component_has_the_one_error_shape(schema):
    detail = schema["components"]["schemas"]["ErrorDetail"]
    assert set(detail["properties"]) >= {"code", "message", "fields"}
    assert set(detail["required"]) == {"code", "message"}


def test_the_schema_generates_without_a_single_warning(tmp_path) -> None:
    from django.core.management import call_command

    call_command("spectacular", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))  # raises on a warning
