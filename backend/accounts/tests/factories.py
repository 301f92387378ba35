"""factory-boy factories for accounts tests: users, and the chat objects that hang off them."""

from __future__ import annotations

import functools

import factory
from django.contrib.auth.hashers import make_password
from django.utils import timezone

from accounts.models import User
from chat.models import Conversation, Message, ShareLink

PASSWORD = "correct-horse-battery-staple"


@functools.cache
def _password_hash() -> str:
    # Argon2 is slow on purpose; hash the shared test password once per run.
    return make_password(PASSWORD)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    display_name = factory.Faker("first_name")
    email_verified_at = factory.LazyFunction(timezone.now)
    password = factory.LazyFunction(_password_hash)


class ConversationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Conversation

    user = factory.SubFactory(UserFactory)
    title = factory.Sequence(lambda n: f"Conversation {n}")


class MessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Message

    conversation = factory.SubFactory(ConversationFactory)
    parent = None
    role = Message.Role.USER
    content = factory.Sequence(lambda n: f"Message {n}")
    status = Message.Status.DONE


class ShareLinkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ShareLink

    conversation = factory.SubFactory(ConversationFactory)
    user = factory.SelfAttribute("conversation.user")
    token = factory.Sequence(lambda n: f"share-token-{n:08d}")
    title = factory.SelfAttribute("conversation.title")
