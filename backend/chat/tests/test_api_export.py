from __future__ import annotations

import json

import pytest

from chat.models import Message

from .factories import AssistantMessageFactory, ConversationFactory, add_turn

pytestmark = pytest.mark.django_db


def url(conversation_id: object) -> str:
    return f"/api/v1/conversations/{conversation_id}/export"


@pytest.fixture
def branched(user):
    conversation = ConversationFactory.create(user=user, title="Why is the sky blue?")
    question, first = add_turn(conversation, answer="Scattering.", reasoning_content="Short waves scatter.")
    second = AssistantMessageFactory.create(
        conversation=conversation, parent=question, content="A second take.", reasoning_content=""
    )
    conversation.current_message = second
    conversation.save()
    return conversation, question, first, second


def test_markdown_export_is_a_download_of_the_current_branch(api, branched):
    conversation, _, _, _ = branched
    response = api.get(url(conversation.id), {"format": "markdown"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/markdown")
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f'whale-why-is-the-sky-blue-{str(conversation.id)[:8]}.md"' in disposition
    text = response.content.decode()
    assert text.startswith("# Why is the sky blue?\n")
    assert "## You\n\nWhy is the sky blue?" in text
    assert "A second take." in text
    assert "Scattering." not in text  # the other branch


def test_markdown_export_folds_reasoning_into_details(api, user):
    conversation = ConversationFactory.create(user=user)
    add_turn(conversation, answer="Answer text.", reasoning_content="Thinking it through.")
    text = api.get(url(conversation.id)).content.decode()  # markdown is the default
    assert "<details>\n<summary>Reasoning</summary>\n\nThinking it through.\n\n</details>\n\nAnswer text." in text


def test_json_export_has_every_branch_with_parent_ids(api, branched):
    conversation, question, first, second = branched
    response = api.get(url(conversation.id), {"format": "json"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"].endswith('.json"')
    body = json.loads(response.content)
    assert body["id"] == str(conversation.id)
    assert body["title"] == "Why is the sky blue?"
    assert body["current_message_id"] == str(second.id)
    messages = {m["id"]: m for m in body["messages"]}
    assert set(messages) == {str(question.id), str(first.id), str(second.id)}
    assert messages[str(question.id)]["parent_id"] is None
    assert messages[str(first.id)]["parent_id"] == str(question.id)
    assert messages[str(first.id)]["reasoning_content"] == "Short waves scatter."
    assert messages[str(second.id)]["parent_id"] == str(question.id)


def test_exports_of_an_untitled_or_unfinished_conversation_still_work(api, user):
    conversation = ConversationFactory.create(user=user, title="")
    add_turn(conversation, status=Message.Status.FAILED, answer="")
    response = api.get(url(conversation.id))
    assert response.status_code == 200
    assert "whale-conversation-" in response["Content-Disposition"]
    assert "_(failed)_" in response.content.decode()


def test_a_non_ascii_title_gives_a_safe_file_name(api, user):
    conversation = ConversationFactory.create(user=user, title='Ünïcode "quotes"\r\nX-Injected: 1')
    response = api.get(url(conversation.id))
    assert response.status_code == 200
    assert "\n" not in response["Content-Disposition"]
    assert '"quotes"' not in response["Content-Disposition"]


def test_an_unknown_format_is_a_400_in_json(api, user):
    conversation = ConversationFactory.create(user=user)
    response = api.get(url(conversation.id), {"format": "pdf"})
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert "format" in response.json()["error"]["fields"]


def test_exporting_another_users_conversation_is_a_404(api, other_user):
    conversation = ConversationFactory.create(user=other_user)
    for fmt in ["markdown", "json"]:
        response = api.get(url(conversation.id), {"format": fmt})
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"


def test_export_needs_an_account(anon, user):
    conversation = ConversationFactory.create(user=user)
    response = anon.get(url(conversation.id), {"format": "json"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
