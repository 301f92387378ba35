"""chat.tasks: the title a GPU worker sends back, run in-process (Celery's eager apply) against real Postgres."""

from __future__ import annotations

import pytest
from turns.tests.conftest import make_user

from chat import tasks
from chat.models import Conversation

pytestmark = pytest.mark.django_db


def test_save_title_renames_only_the_owners_conversation() -> None:
    conversation = Conversation.objects.create(user=make_user(), title="old")
    tasks.save_title.apply(args=[str(conversation.id), str(make_user().id), "stolen"])
    conversation.refresh_from_db()
    assert conversation.title == "old"
    tasks.save_title.apply(args=[str(conversation.id), str(conversation.user_id), "  A   new\ntitle "])
    conversation.refresh_from_db()
    assert conversation.title == "A new title"
