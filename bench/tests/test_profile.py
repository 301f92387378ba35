"""Reading py-spy's raw profiles: the most sampled frames, by where the sample was taken and by what was on the stack."""

from __future__ import annotations

from bench.profile import summarize, summary_markdown

RAW = """\
process 42:"python -m uvicorn";run (uvicorn/main.py:10);handle (app.py:5);encode (json/encoder.py:200) 6
process 42:"python -m uvicorn";run (uvicorn/main.py:10);handle (app.py:7);xread (redis/commands.py:30) 3
process 42:"python -m uvicorn";run (uvicorn/main.py:10);encode (json/encoder.py:210) 1
not a stack line
"""


def test_self_counts_go_to_the_innermost_frame_whatever_its_line() -> None:
    summary = summarize(RAW)
    assert summary.samples == 10
    assert summary.self_frames[0] == ("encode (json/encoder.py)", 7)
    assert ("xread (redis/commands.py)", 3) in summary.self_frames


def test_inclusive_counts_a_frame_once_per_stack_and_leave_the_process_out() -> None:
    summary = summarize(RAW)
    inclusive = dict(summary.inclusive_frames)
    assert inclusive["run (uvicorn/main.py)"] == 10
    assert inclusive["handle (app.py)"] == 9
    assert not any(name.startswith("process ") for name in inclusive)


def test_the_markdown_gives_shares_of_all_samples() -> None:
    text = summary_markdown("asgi", summarize(RAW, top=2))
    assert "#### asgi (10 samples)" in text
    assert "| `encode (json/encoder.py)` | 70% |" in text
