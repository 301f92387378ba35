"""The mobile app's endpoint table must match the API: every path it calls resolves here, with its method.

Caught once: the app managed API keys at /api/v1/keys while the backend serves /api/v1/api-keys.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
from django.urls import Resolver404, resolve

ENDPOINTS = Path(__file__).resolve().parents[3] / "mobile" / "src" / "api" / "endpoints.ts"
CALL = re.compile(r"api\.(get|post|patch|put|delete)(?:<[^(]*>)?\(\s*`\$\{V1\}(/[^`]*)`")
PLACEHOLDER = re.compile(r"\$\{(\w+)\}")


def client_calls() -> list[tuple[str, str]]:
    source = ENDPOINTS.read_text()
    calls = [(method, "/api/v1" + path) for method, path in CALL.findall(source)]
    assert len(calls) >= 20, "the endpoint table was not found where this test expects it"
    return calls


def concrete(path: str) -> str:
    """A real-looking URL for a template: ids become UUIDs, a share token stays a token."""
    return PLACEHOLDER.sub(lambda m: "aB3_token" if m.group(1) == "token" else str(uuid.uuid4()), path)


@pytest.mark.skipif(not ENDPOINTS.exists(), reason="no mobile app in this checkout")
@pytest.mark.parametrize(("method", "path"), client_calls() if ENDPOINTS.exists() else [])
def test_every_endpoint_the_app_calls_exists_with_its_method(method: str, path: str) -> None:
    try:
        match = resolve(concrete(path))
    except Resolver404:
        pytest.fail(f"the app calls {method.upper()} {path}, which the backend does not serve")
    view_class = getattr(match.func, "view_class", None) or getattr(match.func, "cls", None)
    if view_class is not None:
        assert hasattr(view_class, method), f"{path} does not accept {method.upper()}"
