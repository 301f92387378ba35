"""Serializer helpers shared by the apps."""

from __future__ import annotations

import copy
from typing import Any


class BuiltFieldsOnce:
    """Mixed in before `serializers.ModelSerializer`: its fields are built from the model once per class.

    DRF rebuilds every field of a ModelSerializer from the model's metadata each time one is made (the
    field mapping, the kwargs, the validators): a send's answer body made three of them, and that was a
    fifth of the send's CPU. The built fields are kept here and copied, as DRF copies declared fields.
    Only for serializers whose fields do not depend on the instance or the context.
    """

    def get_fields(self) -> dict[str, Any]:
        cls = type(self)
        built: dict[str, Any] | None = cls.__dict__.get("_built_fields")
        if built is None:
            built = super().get_fields()  # type: ignore[misc]
            cls._built_fields = built  # type: ignore[attr-defined]
        return copy.deepcopy(built)
