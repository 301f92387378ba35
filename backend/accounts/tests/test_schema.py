"""The OpenAPI schema documents every accounts endpoint with its operation id, body and error answers."""

from __future__ import annotations

import pytest
from drf_spectacular.generators import SchemaGenerator

EXPECTED = {
    ("/api/v1/auth/register", "post"): ("auth_register", {"201", "400", "409"}),
    ("/api/v1/auth/verify-email", "post"): ("auth_verify_email", {"200", "400", "401"}),
    ("/api/v1/auth/verify-email/resend", "post"): ("auth_verify_email_resend", {"202", "401", "429"}),
    ("/api/v1/auth/login", "post"): ("auth_login", {"200", "400", "401", "403", "429"}),
    ("/api/v1/auth/refresh", "post"): ("auth_refresh", {"200", "400", "401"}),
    ("/api/v1/auth/logout", "post"): ("auth_logout", {"204", "400"}),
    ("/api/v1/auth/password/reset", "post"): ("auth_password_reset", {"202", "400"}),
    ("/api/v1/auth/password/reset/confirm", "post"): ("auth_password_reset_confirm", {"204", "400"}),
    ("/api/v1/me", "get"): ("me_retrieve", {"200", "401"}),
    ("/api/v1/me", "patch"): ("me_update", {"200", "400", "401"}),
    ("/api/v1/me/password", "post"): ("me_password_change", {"200", "400", "401", "429"}),
    ("/api/v1/me/delete", "post"): ("me_delete", {"204", "400", "401", "429"}),
    ("/api/v1/me/export", "get"): ("me_export", {"200", "401"}),
}


@pytest.fixture(scope="module")
def schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


@pytest.mark.parametrize(("path", "method"), list(EXPECTED))
def test_every_accounts_endpoint_is_documented_with_its_answers(schema: dict, path: str, method: str) -> None:
    operation = schema["paths"][path][method]
    operation_id, statuses = EXPECTED[(path, method)]

    assert operation["operationId"] == operation_id
    assert set(operation["responses"]) == statuses
    assert operation["tags"] in (["auth"], ["me"])
    for status, response in operation["responses"].items():
        if status.startswith(("4", "5")):
            assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorResponse"}


def test_the_code_field_is_documented_as_exactly_six_digits(schema: dict) -> None:
    code = schema["components"]["schemas"]["VerifyEmailRequest"]["properties"]["code"]

    assert code["pattern"] == "^[0-9]{6}$"
    assert code["minLength"] == code["maxLength"] == 6


def test_signed_in_endpoints_declare_bearer_auth_and_public_ones_do_not(schema: dict) -> None:
    assert schema["paths"]["/api/v1/me"]["get"]["security"] == [{"jwtAuth": []}]
    assert {"jwtAuth": []} not in schema["paths"]["/api/v1/auth/login"]["post"].get("security", [])
