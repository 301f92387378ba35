from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import User

from .factories import ConversationFactory, ShareLinkFactory, add_turn

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client: Client) -> Client:
    client.force_login(User.objects.create_superuser(email="admin@example.com", password="admin-password-1"))
    return client


def test_the_admin_lists_searches_and_opens_chat_objects(admin_client):
    conversation = ConversationFactory.create(title="Findable title")
    _, answer = add_turn(conversation)
    link = ShareLinkFactory.create(conversation=conversation)

    assert admin_client.get("/admin/chat/conversation/?q=Findable").status_code == 200
    assert admin_client.get(f"/admin/chat/conversation/?q={conversation.user.email}").status_code == 200
    assert admin_client.get(f"/admin/chat/conversation/{conversation.id}/change/").status_code == 200
    assert admin_client.get("/admin/chat/message/").status_code == 200
    assert admin_client.get(f"/admin/chat/message/{answer.id}/change/").status_code == 200
    assert admin_client.get("/admin/chat/sharelink/").status_code == 200
    assert admin_client.get(f"/admin/chat/sharelink/{link.id}/change/").status_code == 200
