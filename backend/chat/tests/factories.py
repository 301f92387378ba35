"""Factories for users, conversations, messages and share links, plus a helper that grows a branch."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

import factory
from django.utils import timezone

from accounts.models import User
from chat.models import Conversation, Message, ShareLink

_clock = itertools.count()
_start = timezone.now()


def tick() -> Any:
    """Strictly increasing timestamps, so "newest" never depends on clock resolution."""
    return _start + timedelta(milliseconds=next(_clock))


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    password = "correct horse battery"

    @classmethod
    def _create(cls, model_class: type[User], *args: Any, **kwargs: Any) -> User:
        return User.objects.create_user(*args, **kwargs)


class ConversationFactory(factory.django.DjangoModelFactory[Conversation]):
    class Meta:
        model = Conversation

    user = factory.SubFactory(UserFactory)
    title = factory.Sequence(lambda n: f"Conversation {n}")
    created_at = factory.LazyFunction(tick)
    updated_at = factory.LazyAttribute(lambda o: o.created_at)


class MessageFactory(factory.django.DjangoModelFactory[Message]):
    class Meta:
        model = Message

    conversation = factory.SubFactory(ConversationFactory)
    parent = None
    role = Message.Role.USER
    content = factory.Sequence(lambda n: f"Message {n}")
    status = Message.Status.DONE
    created_at = factory.LazyFunction(tick)


class AssistantMessageFactory(MessageFactory):
    role = Message.Role.ASSISTANT
    model = "whale-r1"
    deepthink = True
    reasoning_content = "Let me think."
    finish_reason = "stop"
    prompt_tokens = 12
    completion_tokens = 34
    reasoning_tokens = 5


class ShareLinkFactory(factory.django.DjangoModelFactory[ShareLink]):
    class Meta:
        model = ShareLink

    conversation = factory.SubFactory(ConversationFactory)
    user = factory.LazyAttribute(lambda o: o.conversation.user)
    token = factory.Sequence(lambda n: f"token-{n}")
    title = factory.LazyAttribute(lambda o: o.conversation.title)


def add_turn(
    conversation: Conversation,
    *,
    parent: Message | None = None,
    question: str = "Why is the sky blue?",
    answer: str = "Rayleigh scattering.",
    make_current: bool = True,
    **assistant_fields: Any,
) -> tuple[Message, Message]:
    """A user message under `parent` and an assistant answer under it; the answer becomes current."""
    user_message = MessageFactory.create(conversation=conversation, parent=parent, content=question)
    answer_message = AssistantMessageFactory.create(
        conversation=conversation, parent=user_message, content=answer, **assistant_fields
    )
    if make_current:
        conversation.current_message = answer_message
        conversation.save(update_fields=["current_message"])
    return user_message, answer_message
