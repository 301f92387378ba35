"""`web_search` and files on /v1/chat/completions (partners/turn_options.py): the send's refusals before any
write, the app's prepare step (run here as the research worker runs it), the sources in `search_results`,
and the files' text in the GPU task's prompt. Real Postgres, Redis, extractor and research pipeline; only
the internet (a SearXNG on 127.0.0.1) and the GPU (fake_gpu) are stand-ins."""

from __future__ import annotations

import json
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.test import Client
from files.models import UploadedFile
from files.tests.samples import text_pdf
from turns.tasks import prepare_turn

from partners import openai_format, openai_request
from partners.models import Completion
from partners.relay import Answer
from ratelimits.models import UsageDay
from ratelimits.tests.factories import make_user

from .factories import make_key
from .fake_gpu import answering, done

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("prepare_settings")]

SKY = "Why is the sky blue?"
REPORT = "Whale quarterly report. Revenue grew by 41 percent in the third quarter."
ANSWER = [("content", {"delta": "Rayleigh scattering [citation:1]."}), done()]


def post(secret: str, body: dict[str, Any]) -> Any:
    return Client().post(
        "/v1/chat/completions", json.dumps(body), content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {secret}"
    )


def sse_events(response: Any) -> list[dict[str, Any]]:
    async def read() -> bytes:
        return b"".join([bytes(chunk) async for chunk in response.streaming_content])

    text = async_to_sync(read)().decode()
    return [json.loads(line[6:]) for line in text.splitlines() if line.startswith("data: {")]


def streamed_and_prepared(secret: str, body: dict[str, Any], gpu_queue: str, published: Any) -> tuple[list, dict]:
    """Streams a completion whose prepare step runs here; returns its chunks and the GPU task it queued."""
    with answering(gpu_queue, ANSWER) as tasks:
        response = post(secret, {"model": "deepseek-chat", "stream": True, **body})
        assert response.status_code == 200, response.content
        (payload,) = published.prepare_tasks
        prepare_turn(payload)
        chunks = sse_events(response)
    return chunks, tasks[0]


def upload(secret: str, data: bytes, name: str) -> dict[str, Any]:
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = Client().post(
        "/v1/files",
        {"file": SimpleUploadedFile(name, data), "purpose": "user_data"},
        HTTP_AUTHORIZATION=f"Bearer {secret}",
    )
    assert response.status_code == 200, response.content
    return dict(response.json())


# --- parsing -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "extra",
    [
        {"web_search": True},
        {"web_search": {"enabled": True}},
        {"tools": [{"type": "deepseek_web_search"}]},
    ],
)
def test_web_search_is_on_as_an_extra_body_field_an_object_or_deepseeks_tool(extra) -> None:
    body = {"model": "deepseek-chat", "messages": [{"role": "user", "content": SKY}], **extra}
    params = openai_request.parse_chat_request(json.dumps(body).encode()).params
    assert params.web_search is True
    assert params.tools is None  # the search tool is no function tool for the model


def test_a_file_part_in_the_last_user_message_is_a_file_reference() -> None:
    file_id = "0b7c4a5e-8f64-4a55-9a1b-2a3c4d5e6f70"
    content = [{"type": "text", "text": "Summarise"}, {"type": "file", "file": {"file_id": file_id}}]
    body = {"model": "deepseek-chat", "messages": [{"role": "user", "content": content}]}
    params = openai_request.parse_chat_request(json.dumps(body).encode()).params
    assert [str(found) for found in params.file_ids] == [file_id]
    assert params.messages[-1]["content"] == "Summarise"


def test_search_results_are_a_top_level_extra_field_of_the_whole_completion() -> None:
    found = [{"index": 1, "title": "Sky", "url": "https://a.example/", "site": "a.example", "snippet": "s"}]
    body = openai_format.completion_body(
        turn_id="t", model="deepseek-chat", created=0, answer=Answer(content="x", search_results=found)
    )
    assert body["search_results"] == found
    assert "search_results" not in openai_format.completion_body(
        turn_id="t", model="deepseek-chat", created=0, answer=Answer(content="x")
    )


# --- refusals before any write -----------------------------------------------------------------


def test_web_search_without_a_provider_is_400_search_unavailable_and_nothing_is_written(user, settings) -> None:
    settings.WHALE_SEARCH_PROVIDER = "none"
    key = make_key(user)
    response = post(key.secret, {"model": "deepseek-chat", "messages": [{"role": "user", "content": SKY}],
                                 "web_search": True})  # fmt: skip
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "search_unavailable" and error["type"] == "invalid_request_error"
    assert error["param"] == "web_search"
    assert not Completion.objects.filter(user=user).exists()


def test_another_users_file_is_404_and_a_file_not_read_yet_409(user) -> None:
    key = make_key(user)
    theirs = UploadedFile.objects.create(
        owner=make_user("other@example.com"), name="theirs.txt", size=3, mime="text/plain", kind="text",
        sha256="0" * 64, blob="x/1", status=UploadedFile.Status.READY, text="secret", purpose="user_data",
    )  # fmt: skip
    question = {"model": "deepseek-chat", "messages": [{"role": "user", "content": SKY}]}

    foreign = post(key.secret, {**question, "file_ids": [str(theirs.id)]})
    assert foreign.status_code == 404, foreign.content
    assert foreign.json()["error"]["code"] == "not_found"

    reading = upload(key.secret, text_pdf(["Still being read."]), "slow.pdf")  # the files worker has not run
    not_ready = post(key.secret, {**question, "file_ids": [reading["id"]]})
    assert not_ready.status_code == 409, not_ready.content
    assert not_ready.json()["error"]["code"] == "file_not_ready"
    assert not Completion.objects.filter(user=user).exists()


# --- through the prepare step ------------------------------------------------------------------


def test_web_search_streams_the_sources_before_the_content_and_sends_the_official_prompt(
    user, gpu_queue, fake_internet, published
) -> None:
    key = make_key(user)
    body = {"messages": [{"role": "user", "content": SKY}], "web_search": True, "temperature": 0.3}  # extra_body
    chunks, task = streamed_and_prepared(key.secret, body, gpu_queue, published)

    (with_sources,) = [chunk for chunk in chunks if "search_results" in chunk]
    found = with_sources["search_results"]
    assert [source["index"] for source in found] == [1, 2]
    assert {"index", "title", "url", "site", "snippet"} == set(found[0])
    first_content = next(
        n for n, chunk in enumerate(chunks) if chunk["choices"] and chunk["choices"][0]["delta"].get("content")
    )
    assert chunks.index(with_sources) < first_content

    prompt = task["messages"][-1]["content"]
    assert prompt.startswith("# The following contents are the search results related to the user's message:")
    assert "[webpage 1 begin]" in prompt and prompt.endswith(f"# The user's message is:\n{SKY}")
    assert task["sampling"]["temperature"] == 0.3  # the partner's sampling survives the step
    assert UsageDay.objects.get(user=user, api_key_id=key.key.id).search_turns == 1


def test_a_files_text_reaches_the_prompt_in_the_official_template(user, gpu_queue, published) -> None:
    from files.services import file_extract

    key = make_key(user)
    uploaded = upload(key.secret, text_pdf([REPORT]), "report.pdf")
    assert file_extract(file_id=uploaded["id"]).status == UploadedFile.Status.READY  # the files worker's step
    content = [{"type": "text", "text": "How much did revenue grow?"},
               {"type": "file", "file": {"file_id": uploaded["id"]}}]  # fmt: skip
    chunks, task = streamed_and_prepared(
        key.secret, {"messages": [{"role": "user", "content": content}]}, gpu_queue, published
    )

    prompt = task["messages"][-1]["content"]
    assert prompt.startswith("[file name]: report.pdf\n[file content begin]\n")
    assert "41 percent" in prompt and "[file content end]" in prompt
    assert prompt.endswith("How much did revenue grow?")
    assert not [chunk for chunk in chunks if "search_results" in chunk]
