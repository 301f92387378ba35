"""The GPU worker SIGKILLed in the middle of an app turn and of a partner's stream: the turn ends `failed`
with `worker_lost` within 30 s, the partner gets the error chunk (not a cut connection), and once the
worker is back (make run restarts it; here the test does) the next turn works."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from typing import Any

import httpx
import pytest

from .conftest import FaultStack, User, record, until

pytestmark = [pytest.mark.faults, pytest.mark.vllm, pytest.mark.stack]

WORKER_LOST_BOUND_SECONDS = 30


class PartnerStream(threading.Thread):
    """A partner's streamed chat completion, read to its end; `cut` says the connection broke instead."""

    def __init__(self, stack: FaultStack, secret: str) -> None:
        super().__init__(daemon=True)
        self.stack, self.secret = stack, secret
        self.chunks: list[dict[str, Any]] = []
        self.done_marker = False
        self.cut: Exception | None = None

    def run(self) -> None:
        body = {
            "model": "whale-chat",
            "stream": True,
            "messages": [{"role": "user", "content": "Tell me about the sea."}],
        }
        try:
            with httpx.stream(
                "POST",
                f"{self.stack.base_url}/v1/chat/completions",
                json=body,
                headers={"Authorization": f"Bearer {self.secret}"},
                timeout=120,
            ) as response:
                assert response.status_code == 200, response.read()
                for line in response.iter_lines():
                    if line == "data: [DONE]":
                        self.done_marker = True
                    elif line.startswith("data: "):
                        self.chunks.append(json.loads(line[6:]))
        except httpx.HTTPError as exc:
            self.cut = exc

    def content(self) -> str:
        return "".join(
            (choice.get("delta") or {}).get("content") or ""
            for chunk in self.chunks
            for choice in chunk.get("choices", [])
        )

    def error(self) -> dict[str, Any] | None:
        return next((chunk["error"] for chunk in self.chunks if "error" in chunk), None)


def _api_key(user: User) -> str:
    response = user.stack.http.post(user.url("api-keys"), json={"name": "faults"}, headers=user.headers)
    assert response.status_code == 201, response.text
    return str(response.json()["secret"])


def test_a_killed_gpu_worker_fails_its_turns_cleanly_and_a_restarted_one_serves(
    fault_stack: FaultStack, fault_user: User
) -> None:
    partner = PartnerStream(fault_stack, _api_key(fault_user))
    turn_id = fault_user.turn(deepthink=False)
    partner.start()
    fault_user.events(turn_id, stop=lambda frames: any(f["type"] == "content" for f in frames))
    until(lambda: bool(partner.content()), 30, "the partner's first words")

    worker = fault_stack.process("gpu-worker-slow")
    killed = time.monotonic()
    os.killpg(worker.popen.pid, signal.SIGKILL)
    worker.popen.wait(timeout=30)

    failed = until(
        lambda: (
            fault_stack.sql(
                "SELECT t.status FROM chat_message m JOIN turns_turn t ON t.id = m.turn_id WHERE m.id = %s", turn_id
            )[0][0]
            == "failed"
        ),
        WORKER_LOST_BOUND_SECONDS,
        "the app turn to fail",
    )
    status, code = fault_stack.sql(
        "SELECT t.status, t.error_code FROM chat_message m JOIN turns_turn t ON t.id = m.turn_id WHERE m.id = %s",
        turn_id,
    )[0]
    assert (status, code) == ("failed", "worker_lost")
    stream = fault_user.events(turn_id)
    assert stream.ended == "error" and stream.frames[-1]["data"]["code"] == "worker_lost"

    partner.join(timeout=WORKER_LOST_BOUND_SECONDS)
    partner_ended = time.monotonic() - killed
    assert not partner.is_alive(), "the partner's stream is still open"
    assert partner.cut is None, f"the partner's connection was cut: {partner.cut!r}"
    assert partner.error() is not None and partner.error()["code"] == "worker_lost", partner.chunks[-3:]

    ready_before = worker.log_path.read_text(errors="replace").count(" ready.")
    worker.restart()
    back = until(
        lambda: worker.log_path.read_text(errors="replace").count(" ready.") > ready_before, 120, "the worker back"
    )
    next_turn = fault_user.turn(deepthink=False)
    after = fault_user.events(next_turn)
    assert after.ended == "done", after.frames[-1:]
    assert all(code is None for code in fault_stack.all_alive().values()), fault_stack.all_alive()
    record(
        "gpu_worker_sigkill",
        app_turn_failed_seconds=round(failed, 1),
        partner_error_seconds=round(partner_ended, 1),
        worker_restarted_seconds=round(back, 1),
    )
