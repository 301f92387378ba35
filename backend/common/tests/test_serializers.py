"""A ModelSerializer's fields built once per class: the same output, and each instance its own fields."""

from __future__ import annotations

from rest_framework import serializers

from accounts.models import User
from common.serializers import BuiltFieldsOnce


class PlainUser(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "email", "date_joined"]


class OnceUser(BuiltFieldsOnce, PlainUser):
    pass


class OnceUserWithMore(OnceUser):
    shout = serializers.SerializerMethodField()

    class Meta(OnceUser.Meta):
        fields = [*OnceUser.Meta.fields, "shout"]

    def get_shout(self, user: User) -> str:
        return user.email.upper()


def test_the_output_is_the_plain_serializers_and_each_instance_has_its_own_bound_fields() -> None:
    ada, bob = User(id=1, email="ada@example.com"), User(id=2, email="bob@example.com")

    first, second = OnceUser(ada), OnceUser(bob)

    assert first.data == PlainUser(ada).data
    assert second.data["email"] == "bob@example.com"
    assert first.fields["email"] is not second.fields["email"]
    assert first.fields["email"].parent is first


def test_a_subclass_builds_its_own_fields() -> None:
    ada = User(id=1, email="ada@example.com")
    OnceUser(ada).data  # noqa: B018 - the parent's fields are built first

    assert OnceUserWithMore(ada).data["shout"] == "ADA@EXAMPLE.COM"
    assert "shout" not in OnceUser(ada).data
