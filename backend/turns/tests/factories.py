"""Turns of both origins for the tests of the one settle, cancel and reaper: an app answer and a partner's completion."""

from __future__ import annotations

import uuid

from accounts.models import User
from chat import sends
from chat.models import Conversation
from partners.params import CompletionParams
from partners.services import completion_start
from partners.tests.factories import make_key


def app_turn(user: User) -> uuid.UUID:
    conversation = Conversation.objects.create(user=user)
    created = sends.turn_send(user=user, conversation_id=conversation.id, content="Why?", deepthink=False)
    return created.assistant_message.id


def partner_turn(user: User) -> uuid.UUID:
    params = CompletionParams(model="deepseek-chat", messages=[{"role": "user", "content": "Hi"}], max_tokens=50)
    return completion_start(api_key=make_key(user).key, params=params).completion.id
