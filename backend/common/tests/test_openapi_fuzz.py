"""A property-based fuzz run of the whole app API from its own OpenAPI schema (schemathesis), with
DEBUG off and on (as `make run` has it): no 5xx, and every response must match the schema.

Every operation, with data that fits the schema and data that does not (schemathesis' positive and
negative modes), from a fixed seed, so a run is repeatable: FUZZ_SEED=<n> picks another one, and
FUZZ_EXAMPLES=<n> more examples per operation (CI keeps the default, about a minute in all).
The schema leaves out the partner API (/v1/), the WebSocket routes and the two event streams
(tested in their own suites)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework_simplejwt.tokens import RefreshToken
from schemathesis import checks
from schemathesis.config import SchemathesisConfig

from accounts.models import User
from chat.models import Conversation

# What a server owes every request: no 5xx, and a response the schema describes. (Checks that a
# schema-valid body is accepted are left out: a weak password or a wrong code is valid JSON the
# schema cannot tell apart, and its documented 400 is the right answer.)
RESPONSE_CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
]

# Streams stay open by design; they are tested by the turns suite over ASGI.
STREAMING_OPERATIONS = ("events_stream", "turns_events")


SEED = int(os.environ.get("FUZZ_SEED", "20261201"))
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "15"))


@pytest.fixture(params=[False, True], ids=["debug-off", "debug-on"])
def app_schema(request: Any, db: Any, settings: Any) -> Iterator[Any]:
    settings.DEBUG = request.param
    # As Django's own test client does: keep the test's connection (and its transaction) open.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    schema = schemathesis.openapi.from_wsgi(
        "/api/schema/?format=json", get_wsgi_application(), config=SchemathesisConfig(seed=SEED)
    )
    for operation_id in STREAMING_OPERATIONS:
        schema = schema.exclude(operation_id=operation_id)
    yield schema
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


schema = schemathesis.pytest.from_fixture("app_schema")


@pytest.fixture
def fuzz_user(db: Any) -> User:
    user = User.objects.create_user(email="fuzz@example.com", password="correct horse battery staple")
    Conversation.objects.create(user=user, title="A conversation to find")
    return user


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
def test_the_api_answers_every_generated_request_without_a_server_error(case: Any, fuzz_user: User) -> None:
    if case.operation.definition.raw.get("operationId") in STREAMING_OPERATIONS:
        return  # an open stream never ends; the turns suite tests these over ASGI
    token = str(RefreshToken.for_user(fuzz_user).access_token)
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=RESPONSE_CHECKS)
