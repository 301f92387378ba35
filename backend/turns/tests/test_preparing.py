"""The prepare step (turns/preparing.py): the send's checks, the step's events, prompt, sources and notices,
cancel and crash. Real Postgres, Redis, extractor and research pipeline; only the internet is the local
server on 127.0.0.1. The step runs here as the research worker runs it (the task's function); the GPU task
it queues is read back from what was published. The whole stack with the vLLM engine: test_preparing_stack.py.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.files.storage import storages
from django.utils import timezone
from files.models import UploadedFile
from files.tests.samples import text_pdf
from rest_framework.test import APIClient

from chat.models import Conversation, Message
from common.redis import get_redis
from inference import protocol
from ratelimits.models import UsageDay
from ratelimits.tests.factories import set_limits
from turns import preparing, services, streams
from turns.prepare_stream import PrepareLease
from turns.tasks import prepare_turn

from .conftest import make_user
from .prepare_helpers import Published, ready_file, upload

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("prepare_settings")]

SKY = "Why is the sky blue?"
REPORT = (
    "Whale quarterly report. Revenue grew by 41 percent in the third quarter, driven by the new "
    "humpback subscription plan. Costs stayed flat."
)


def send(api: APIClient, conversation: Conversation, **body: Any) -> Any:
    return api.post(f"/api/v1/conversations/{conversation.id}/messages", {"content": SKY, **body}, format="json")


def events_of(turn_id: str) -> list[tuple[str, dict[str, Any]]]:
    entries = get_redis().xrange(streams.keys_for(turn_id).events)
    return [protocol.decode_event(fields) for _, fields in entries]  # type: ignore[arg-type,union-attr]


def sent_and_prepared(api: APIClient, conversation: Conversation, published: Published, **body: Any) -> dict:
    """Sends, then runs the queued prepare step; returns the GPU task it queued."""
    response = send(api, conversation, **body)
    assert response.status_code == 202, response.content
    assert not published.gpu_tasks, "a turn that needs reading waits for its prepare step"
    (payload,) = published.prepare_tasks
    prepare_turn(payload)
    (task,) = published.gpu_tasks
    return task


# --- the send's checks -------------------------------------------------------------------------


def test_search_without_a_provider_is_refused_and_nothing_is_written(api, conversation, settings) -> None:
    settings.WHALE_SEARCH_PROVIDER = "none"
    response = send(api, conversation, search=True)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "search_unavailable"
    assert not Message.objects.filter(conversation=conversation).exists()


def test_more_files_than_a_message_may_carry_is_too_many_files(api, conversation, settings) -> None:
    settings.WHALE_FILES_PER_MESSAGE = 2
    files = [ready_file(api, text_pdf([f"Page {n}"]), f"p{n}.pdf") for n in range(3)]
    response = send(api, conversation, file_ids=[str(file.id) for file in files])

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "too_many_files"
    assert response.json()["error"]["limit_value"] == 2


def test_another_users_file_is_not_found(api, conversation, user) -> None:
    other = make_user()
    theirs = UploadedFile.objects.create(
        owner=other, name="theirs.txt", size=3, mime="text/plain", kind="text", sha256="0" * 64, blob="x/1",
        status=UploadedFile.Status.READY, text="secret",
    )  # fmt: skip
    response = send(api, conversation, file_ids=[str(theirs.id)])

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert not Message.objects.filter(conversation=conversation).exists()


def test_a_file_not_read_yet_is_409_file_not_ready_and_a_failed_one_file_failed(api, conversation, user) -> None:
    reading = upload(api, text_pdf(["Still being read."]), "slow.pdf")  # the files worker has not run
    response = send(api, conversation, file_ids=[reading["id"]])
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "file_not_ready"

    UploadedFile.objects.filter(id=reading["id"]).update(
        status=UploadedFile.Status.FAILED, failure_code="encrypted", failure_message="This PDF is locked."
    )
    response = send(api, conversation, file_ids=[reading["id"]])
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "file_failed"
    assert not Message.objects.filter(conversation=conversation).exists()


def test_a_spent_search_allowance_is_429_search_turns_per_day_exceeded(
    api, conversation, user, fake_internet, published
) -> None:
    set_limits(user, "free", search_turns_per_day=1)
    first = send(api, conversation, search=True)
    assert first.status_code == 202, first.content
    prepare_turn(published.prepare_tasks[0])
    services.turn_cancel(user=user, turn_id=first.json()["assistant_message"]["id"])

    response = send(api, conversation, search=True)
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "search_turns_per_day_exceeded"
    assert "Retry-After" in response.headers
    assert UsageDay.objects.get(user=user, api_key_id__isnull=True).search_turns == 1


def test_a_plain_question_goes_straight_to_the_gpu_queue(api, conversation, published) -> None:
    assert send(api, conversation).status_code == 202
    assert len(published.gpu_tasks) == 1 and not published.prepare_tasks


# --- search ------------------------------------------------------------------------------------


def test_a_search_turn_writes_search_events_saves_sources_and_sends_the_official_prompt(
    api, conversation, user, fake_internet, published
) -> None:
    task = sent_and_prepared(api, conversation, published, search=True)
    turn_id = task["turn_id"]

    kinds = [(kind, data.get("phase")) for kind, data in events_of(turn_id)]
    # queued (the send), the search, then queued as the step hands the turn over and as the GPU task is queued
    assert kinds == [("queued", None), ("search", "searching"), ("search", "read"), ("queued", None), ("queued", None)]
    read = events_of(turn_id)[2][1]
    assert read["queries"] == [SKY]
    assert [source["n"] for source in read["sources"]] == [1, 2]
    assert {"n", "title", "url", "site", "snippet"} <= set(read["sources"][0])

    prompt = task["messages"][-1]["content"]
    assert task["messages"][-1]["role"] == "user" and len(task["messages"]) == 1  # no system prompt
    assert prompt.startswith("# The following contents are the search results related to the user's message:")
    assert "[webpage 1 begin]" in prompt and "[webpage 1 end]" in prompt and "[citation:X]" in prompt
    assert "Rayleigh" in prompt and "Sky-o-Matic" not in prompt  # the article, not the advert
    assert prompt.endswith(f"# The user's message is:\n{SKY}")

    answer = Message.objects.get(id=turn_id)
    assert answer.search is True and answer.notices == []
    assert answer.sources == read["sources"]
    assert UsageDay.objects.get(user=user, api_key_id__isnull=True).search_turns == 1
    shown = api.get(f"/api/v1/conversations/{conversation.id}").json()["messages"][1]
    assert shown["search"] is True and shown["sources"] == read["sources"] and shown["notices"] == []


@pytest.mark.parametrize("mode", ["slow", "error", "empty"])
def test_a_provider_that_times_out_fails_or_finds_nothing_gives_a_notice_and_the_turn_goes_on(
    api, conversation, fake_internet, published, mode
) -> None:
    fake_internet.search_mode = mode
    task = sent_and_prepared(api, conversation, published, search=True)

    notice = {"code": "search_unavailable", "message": "Search was unavailable; answering from the model alone"}
    assert ("notice", {"notice": notice}) in events_of(task["turn_id"])
    assert task["messages"][-1] == {"role": "user", "content": SKY}  # the model alone answers
    answer = Message.objects.get(id=task["turn_id"])
    assert answer.notices == [notice] and answer.sources == [] and answer.status == "queued"


def test_a_url_in_the_question_is_read_without_search(api, conversation, fake_internet, published) -> None:
    question = f"Summarise {fake_internet.page('/articles/ocean')} please"
    task = sent_and_prepared(api, conversation, published, content=question)

    searching = events_of(task["turn_id"])[1]
    assert searching == ("search", {"phase": "searching", "queries": []})  # no provider query
    prompt = task["messages"][-1]["content"]
    assert "Water absorbs red light" in prompt and "[webpage 1 begin]" in prompt
    assert not [path for path, _ in fake_internet.requests if path == "/search"]
    assert Message.objects.get(id=task["turn_id"]).search is False


# --- files -------------------------------------------------------------------------------------


def test_a_file_turn_sends_the_extracted_text_in_the_official_file_template(api, conversation, published) -> None:
    report = ready_file(api, text_pdf([REPORT]), "report.pdf")
    task = sent_and_prepared(
        api, conversation, published, content="How much did revenue grow?", file_ids=[str(report.id)]
    )

    prompt = task["messages"][-1]["content"]
    assert prompt.startswith("[file name]: report.pdf\n[file content begin]\n")
    assert "Revenue grew by 41 percent" in prompt
    assert prompt.endswith("[file content end]\nHow much did revenue grow?")
    assert "notice" not in [kind for kind, _ in events_of(task["turn_id"])]  # read whole: no notice

    question = Message.objects.get(id=task["turn_id"]).parent
    assert list(question.attachments.all()) == [report]
    report.refresh_from_db()
    assert report.message_id == question.id and report.conversation_id == conversation.id  # no longer an orphan
    shown = api.get(f"/api/v1/conversations/{conversation.id}").json()["messages"][0]
    assert shown["files"] == [
        {"id": str(report.id), "name": "report.pdf", "size": report.size, "mime": "application/pdf", "kind": "pdf",
         "status": "ready", "truncated": False, "pages": 1}
    ]  # fmt: skip


def test_files_and_search_together_put_the_files_first_then_the_search_results(
    api, conversation, fake_internet, published
) -> None:
    report = ready_file(api, text_pdf([REPORT]), "report.pdf")
    task = sent_and_prepared(api, conversation, published, search=True, file_ids=[str(report.id)])

    prompt = task["messages"][-1]["content"]
    assert prompt.startswith("[file name]: report.pdf\n[file content begin]\n")
    assert "[file content end]\n# The following contents are the search results" in prompt
    assert prompt.endswith(SKY)


def test_a_file_longer_than_the_context_is_cut_and_the_answer_says_how_much_was_read(
    api, conversation, published, settings
) -> None:
    settings.WHALE_MODEL_CONTEXT_TOKENS = 1024  # no worker reports one here; a small context
    settings.WHALE_MAX_TOKENS = 256
    long_pages = [f"Chapter {n}. " + "The whale sings a long song under the sea. " * 40 for n in range(6)]
    book = ready_file(api, text_pdf(long_pages), "book.pdf")
    task = sent_and_prepared(api, conversation, published, content="What does the whale do?", file_ids=[str(book.id)])

    (notice_event,) = [data for kind, data in events_of(task["turn_id"]) if kind == "notice"]
    notice = notice_event["notice"]
    assert notice["code"] == "file_truncated" and notice["file_id"] == str(book.id) and notice["name"] == "book.pdf"
    assert 0 < notice["percent"] < 100
    assert notice["message"] == f"Read the first {notice['percent']}% of book.pdf"
    assert Message.objects.get(id=task["turn_id"]).notices == [notice]
    prompt = task["messages"][-1]["content"]
    assert "Chapter 0." in prompt and "Chapter 5." not in prompt and prompt.endswith("What does the whale do?")


def test_regenerate_reads_the_questions_files_again(api, conversation, user, published) -> None:
    report = ready_file(api, text_pdf([REPORT]), "report.pdf")
    first = sent_and_prepared(api, conversation, published, content="Revenue?", file_ids=[str(report.id)])
    services.turn_cancel(user=user, turn_id=first["turn_id"])
    published.tasks.clear()

    response = api.post(f"/api/v1/messages/{first['turn_id']}/regenerate", {}, format="json")
    assert response.status_code == 202, response.content
    prepare_turn(published.prepare_tasks[0])
    assert "Revenue grew by 41 percent" in published.gpu_tasks[0]["messages"][-1]["content"]


def test_an_edited_question_may_carry_the_same_files_but_another_conversation_may_not(
    api, conversation, user, published
) -> None:
    report = ready_file(api, text_pdf([REPORT]), "report.pdf")
    first = sent_and_prepared(api, conversation, published, content="Revenue?", file_ids=[str(report.id)])
    services.turn_cancel(user=user, turn_id=first["turn_id"])

    edited = send(api, conversation, content="Costs?", parent_id=None, file_ids=[str(report.id)])
    assert edited.status_code == 202, edited.content
    assert edited.json()["user_message"]["files"][0]["id"] == str(report.id)
    services.turn_cancel(user=user, turn_id=edited.json()["assistant_message"]["id"])

    elsewhere = Conversation.objects.create(user=user)
    response = send(api, elsewhere, file_ids=[str(report.id)])
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "file_in_use"


def test_deleting_the_conversation_deletes_its_files_and_their_bytes(
    api, conversation, published, django_capture_on_commit_callbacks
) -> None:
    report = ready_file(api, text_pdf([REPORT]), "report.pdf")
    sent_and_prepared(api, conversation, published, content="Revenue?", file_ids=[str(report.id)])
    assert storages["files"].exists(report.blob)

    with django_capture_on_commit_callbacks(execute=True):
        response = api.delete(f"/api/v1/conversations/{conversation.id}")
    assert response.status_code == 204
    assert not UploadedFile.objects.filter(id=report.id).exists()
    assert not storages["files"].exists(report.blob)


# --- cancel and crash --------------------------------------------------------------------------


def test_a_cancel_during_the_prepare_step_ends_the_turn_cancelled_and_no_gpu_task_runs(
    api, conversation, user, fake_internet, published
) -> None:
    response = send(api, conversation, search=True)
    turn_id = response.json()["assistant_message"]["id"]
    original = preparing.research_run

    def cancelled_while_searching(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        assert services.turn_cancel(user=user, turn_id=turn_id).status == "queued"  # the step owns the turn
        return result

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(preparing, "research_run", cancelled_while_searching)
        prepare_turn(published.prepare_tasks[0])

    assert not published.gpu_tasks
    assert [kind for kind, _ in events_of(turn_id)][-1] == "done"
    answer = Message.objects.get(id=turn_id)
    assert answer.status == "cancelled" and answer.sources  # what it had read stays with it


def test_a_prepare_step_that_fails_ends_the_turn_at_once(api, conversation, fake_internet, published) -> None:
    response = send(api, conversation, search=True)
    turn_id = response.json()["assistant_message"]["id"]

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug, not the internet")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(preparing, "research_run", broken)
        prepare_turn(published.prepare_tasks[0])

    assert not published.gpu_tasks
    answer = Message.objects.get(id=turn_id)
    assert answer.status == "failed" and answer.error_code == "prepare_failed"


def test_a_prepare_step_killed_midway_is_reaped_like_a_lost_worker(api, conversation, published) -> None:
    response = send(api, conversation, search=False, content=f"Read http://127.0.0.1:9/nothing {SKY}")
    turn_id = response.json()["assistant_message"]["id"]
    # What a killed step leaves: its first event, and its lease lapsing (no one renews it).
    lease = PrepareLease(turn_id)
    assert lease.take()
    lease.write("search", {"phase": "searching", "queries": []})
    get_redis().delete(lease.keys.lease)

    assert services.turns_reap(now=timezone.now() + timedelta(seconds=protocol.LEASE_TTL_SECONDS + 1)) == 1
    answer = Message.objects.get(id=turn_id)
    assert answer.status == "failed" and answer.error_code == "worker_lost"


def test_a_second_delivery_of_the_step_writes_nothing_twice(api, conversation, fake_internet, published) -> None:
    response = send(api, conversation, search=True)
    turn_id = response.json()["assistant_message"]["id"]
    payload = published.prepare_tasks[0]
    prepare_turn(payload)
    before = events_of(turn_id)

    prepare_turn(payload)
    assert events_of(turn_id) == before and len(published.gpu_tasks) == 1


def test_a_second_delivery_of_a_file_turn_read_whole_writes_nothing_twice(api, conversation, published) -> None:
    report = ready_file(api, text_pdf([REPORT]), "report.pdf")
    response = send(api, conversation, content="How much did revenue grow?", file_ids=[str(report.id)])
    turn_id = response.json()["assistant_message"]["id"]
    payload = published.prepare_tasks[0]
    prepare_turn(payload)
    before = events_of(turn_id)
    assert {kind for kind, _ in before} == {"queued"}  # no search, no notice: the hand-over's mark only

    prepare_turn(payload)  # before the GPU worker has taken the turn
    assert events_of(turn_id) == before and len(published.gpu_tasks) == 1


# --- what other readers see --------------------------------------------------------------------


def test_the_share_snapshot_and_the_export_carry_sources_and_files(
    api, conversation, user, fake_internet, published
) -> None:
    report = ready_file(api, text_pdf([REPORT]), "report.pdf")
    task = sent_and_prepared(api, conversation, published, search=True, file_ids=[str(report.id)])
    Message.objects.filter(id=task["turn_id"]).update(status="done", content="Blue [citation:1].")

    shared = api.post(f"/api/v1/conversations/{conversation.id}/share", {}, format="json").json()
    snapshot = api.get(shared["api_url"]).json()["messages"]
    assert snapshot[0]["files"] == [{"name": "report.pdf", "size": report.size, "mime": "application/pdf",
                                      "kind": "pdf", "pages": 1}]  # fmt: skip
    assert snapshot[1]["search"] is True and [s["n"] for s in snapshot[1]["sources"]] == [1, 2]

    exported = api.get(f"/api/v1/conversations/{conversation.id}/export?format=json").json()
    question, answer = exported["messages"]
    assert question["files"][0]["id"] == str(report.id)
    assert answer["sources"] == snapshot[1]["sources"]
