"""The prepare step live: HTTP send → the research queue's Celery worker (search, pages, files) → the real GPU
worker process with the vLLM demo engine → the turn's stream over SSE → the backend worker saving the turn.

Only the internet is replaced, by the local server on 127.0.0.1. Slow on purpose (vLLM starts in about
30 s): `pytest -m "not vllm"` leaves it out.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from files.prompting import count_tokens, model_tokenizer
from files.tests.samples import text_pdf
from research.tests.fake_internet import FakeInternet

from accounts.models import User
from chat.tests.conftest import client_for

from .prepare_helpers import Published, ready_file
from .stack import GpuWorker, backend_worker, gpu_worker, quiet_before_flush  # noqa: F401 (a fixture)
from .test_pipeline import connect, settled

pytestmark = [
    pytest.mark.vllm,
    pytest.mark.stack,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("quiet_before_flush", "prepare_settings"),
]

SKY = "Why is the sky blue?"


# The official English search template alone is about 1,450 tokens of the demo model's small vocabulary: these
# run the demo at its full 2048 positions (its default now, pinned here) with shorter
# answers, which leaves room for a page.
DEMO_CONTEXT = {"WHALE_MAX_MODEL_LEN": "2048"}


@pytest.fixture(scope="module")
def vllm_worker() -> Iterator[GpuWorker]:
    with gpu_worker(f"{settings.WHALE_REDIS_PREFIX}:gpu", engine="vllm", engine_env=DEMO_CONTEXT) as worker:
        yield worker


@pytest.fixture(scope="module")
def backend_and_research_worker(django_db_blocker: Any) -> Iterator[Any]:
    """The backend's worker, also on this run's research queue (the name prepare_settings gives it)."""
    with django_db_blocker.unblock(), backend_worker(also=(f"{settings.WHALE_REDIS_PREFIX}:research",)) as worker:
        yield worker


@pytest.fixture
def stack(vllm_worker: GpuWorker, backend_and_research_worker: Any, settings: Any) -> GpuWorker:
    settings.WHALE_MAX_TOKENS = 128
    return vllm_worker


@pytest.fixture
def user(db: Any) -> User:
    from .conftest import make_user

    return make_user()


def _search_frames(frames: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [frame for frame in frames if frame["type"] == "search"]


async def test_a_search_turn_streams_its_search_events_then_the_answer_and_saves_the_sources(
    stack: GpuWorker, user: User, fake_internet: FakeInternet, published: Published
) -> None:
    client = await connect(user)
    conversation_id = await client.new_conversation()
    sent = await client.send(conversation_id, SKY, deepthink=False, search=True)
    turn_id = sent["assistant_message"]["id"]
    assert sent["assistant_message"]["search"] is True

    frames = await client.sse_all(turn_id)
    types = [frame["type"] for frame in frames]
    searching, read = _search_frames(frames)
    assert (searching["data"]["phase"], read["data"]["phase"]) == ("searching", "read")
    assert types.index("search") < types.index("started") and types[-1] == "done"
    assert max(i for i, kind in enumerate(types) if kind == "search") < types.index("started")
    tokens = [i for i, kind in enumerate(types) if kind in ("reasoning", "content")]
    assert tokens and min(tokens) > types.index("started")  # the tokens come after every search event

    message = await settled(turn_id)
    assert message.status == "done"
    assert message.sources == read["data"]["sources"] and [s["n"] for s in message.sources] == [1, 2]
    # What the GPU task received: DeepSeek's search template as the only user turn, no system prompt.
    (task,) = published.gpu_tasks
    (turn,) = task["messages"]
    assert turn["role"] == "user"
    assert turn["content"].startswith("# The following contents are the search results related to the user's")
    assert "[webpage 1 begin]" in turn["content"] and turn["content"].endswith(f"# The user's message is:\n{SKY}")
    # The engine read all of it: the prompt it counted holds the whole template (demo context: 2048 tokens).
    assert message.prompt_tokens >= count_tokens(model_tokenizer(), turn["content"])


async def test_a_reload_in_the_middle_of_the_search_resumes_its_events_exactly_once(
    stack: GpuWorker, user: User, fake_internet: FakeInternet, settings: Any
) -> None:
    fake_internet.search_mode = "slow"  # the provider answers after a second: the reader drops meanwhile
    fake_internet.search_delay = 1.0
    settings.WHALE_SEARCH_TIMEOUT_SECONDS = 5.0
    client = await connect(user)
    conversation_id = await client.new_conversation()
    sent = await client.send(conversation_id, SKY, deepthink=False, search=True)
    turn_id = sent["assistant_message"]["id"]

    seen: list[dict[str, Any]] = []
    async for frame in client.sse(turn_id):
        seen.append(frame)
        if frame["type"] == "search":
            break  # the page reloads while it says "Searching the web…"
    assert seen[-1]["data"]["phase"] == "searching"
    rest = await client.sse_all(turn_id, last_event_id=seen[-1]["id"])

    assert [frame["data"]["phase"] for frame in _search_frames(rest)] == ["read"]
    everything = await client.sse_all(turn_id)
    assert seen + rest == everything and everything[-1]["type"] == "done"
    assert (await settled(turn_id)).status == "done"


async def test_a_file_turn_reaches_the_engine_in_the_file_template(
    stack: GpuWorker, user: User, published: Published
) -> None:
    api = await sync_to_async(client_for)(user)
    report = await sync_to_async(ready_file)(
        api, text_pdf(["Whale quarterly report. Revenue grew by 41 percent."]), "report.pdf"
    )
    client = await connect(user)
    conversation_id = await client.new_conversation()
    sent = await client.send(conversation_id, "How much did revenue grow?", deepthink=False, file_ids=[str(report.id)])
    assert sent["user_message"]["files"][0]["name"] == "report.pdf"

    frames = await client.sse_all(sent["assistant_message"]["id"])
    assert frames[-1]["type"] == "done" and "search" not in [frame["type"] for frame in frames]
    message = await settled(sent["assistant_message"]["id"])
    assert message.status == "done" and message.notices == []
    (task,) = published.gpu_tasks
    prompt = task["messages"][-1]["content"]
    assert prompt.startswith("[file name]: report.pdf\n[file content begin]\n")
    assert "Revenue grew by 41 percent." in prompt
    assert prompt.endswith("[file content end]\nHow much did revenue grow?")
    assert message.prompt_tokens >= count_tokens(model_tokenizer(), prompt)
