"""turns.serializers: the models list's documented body, checked against the body the endpoint answers with."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework import serializers as drf

from turns import serializers

pytestmark = pytest.mark.django_db


def documented(serializer: drf.Serializer) -> set[str]:
    return set(serializer.fields)


def test_the_models_list_has_exactly_the_documented_fields(api: Any) -> None:
    body = api.get("/api/v1/models").json()

    listing = serializers.ModelList()
    assert set(body) == documented(listing)
    assert {frozenset(model) for model in body["data"]} == {frozenset(documented(serializers.ModelInfo()))}
    assert set(body["capabilities"]) == documented(serializers.Capabilities())
    assert set(body["capabilities"]["files"]) == documented(serializers.FileCapabilities())
