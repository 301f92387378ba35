"""The reasoning splitter: R1's layout trimmed, tags hidden, the same result however the text is split."""

from __future__ import annotations

import itertools
import re

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from inference.reasoning import ReasoningSplitter


def split_whole(text: str, *, reasoning: bool = True) -> tuple[str, str]:
    splitter = ReasoningSplitter(reasoning=reasoning)
    r1, c1 = splitter.feed(text)
    r2, c2 = splitter.finish()
    return r1 + r2, c1 + c2


def split_pieces(pieces: list[str], *, reasoning: bool = True) -> tuple[str, str]:
    splitter = ReasoningSplitter(reasoning=reasoning)
    reasoning_parts, content_parts = [], []
    for piece in pieces:
        r, c = splitter.feed(piece)
        reasoning_parts.append(r)
        content_parts.append(c)
    r, c = splitter.finish()
    return "".join(reasoning_parts) + r, "".join(content_parts) + c


R1_OUTPUT = "The user asks about sky.\nKey ideas: scattering.\n</think>\n\nThe sky is blue."


def test_text_before_the_closing_tag_is_reasoning_even_without_an_opening_tag() -> None:
    assert split_whole(R1_OUTPUT) == ("The user asks about sky.\nKey ideas: scattering.", "The sky is blue.")


def test_a_leading_opening_tag_and_its_newline_are_dropped() -> None:
    assert split_whole("<think>\nPondering.\n</think>\n\nAnswer.") == ("Pondering.", "Answer.")
    assert split_whole("<think>Pondering.</think>Answer.") == ("Pondering.", "Answer.")


def test_only_one_blank_line_after_the_closing_tag_is_trimmed() -> None:
    assert split_whole("r\n</think>\n\n\nAnswer.") == ("r", "\nAnswer.")
    assert split_whole("r</think>\nAnswer.") == ("r", "Answer.")


def test_an_empty_think_block_gives_no_reasoning() -> None:
    assert split_whole("\n</think>\n\nJust the answer.") == ("", "Just the answer.")
    assert split_whole("<think>\n\n</think>\n\nJust the answer.") == ("", "Just the answer.")


def test_tags_split_across_deltas_never_leak() -> None:
    pieces = ["Think", "ing.\n</", "thi", "nk>", "\n", "\nAns", "wer <", "b>bold</b>"]
    assert split_pieces(pieces) == ("Thinking.", "Answer <b>bold</b>")


def test_a_lone_less_than_sign_is_released_once_it_cannot_be_a_tag() -> None:
    splitter = ReasoningSplitter(reasoning=True)
    assert splitter.feed("a <") == ("a ", "")
    assert splitter.feed(" b") == ("< b", "")


def test_chat_mode_makes_everything_content() -> None:
    assert split_whole("Hello.\n\nHow are you?", reasoning=False) == ("", "Hello.\n\nHow are you?")
    assert split_whole("No reasoning here", reasoning=False) == ("", "No reasoning here")


def test_stray_tags_never_reach_the_user() -> None:
    assert split_whole("r</think>\n\nA <think>stray</think> tag", reasoning=True) == ("r", "A stray tag")
    assert split_whole("<think>\n\n</think>\n\nAnswer", reasoning=False) == ("", "\n\n\n\nAnswer")


def test_reasoning_without_a_closing_tag_stays_reasoning_to_the_end() -> None:
    assert split_whole("still thinking when max_tokens hit\n</th") == ("still thinking when max_tokens hit\n</th", "")


def test_reasoning_done_flips_at_the_closing_tag() -> None:
    splitter = ReasoningSplitter(reasoning=True)
    splitter.feed("thinking")
    assert not splitter.reasoning_done
    splitter.feed("</think>")
    assert splitter.reasoning_done
    assert ReasoningSplitter(reasoning=False).reasoning_done


# Texts built from R1's pieces, so tags, partial tags and newlines meet in every arrangement.
_pieces = st.sampled_from(
    [
        "<think>",
        "</think>",
        "<think>\n",
        "\n</think>\n\n",
        "\n",
        "\n\n",
        "<",
        "</",
        "<th",
        "think>",
        ">",
        "a",
        "b c",
        "é",
        "🐳",
    ]
)
_texts = st.lists(_pieces, max_size=20).map("".join)


@st.composite
def _text_and_cuts(draw: st.DrawFn) -> tuple[str, list[str]]:
    text = draw(_texts)
    cuts = sorted(draw(st.lists(st.integers(min_value=0, max_value=len(text)), max_size=12)))
    bounds = [0, *cuts, len(text)]
    return text, [text[start:end] for start, end in itertools.pairwise(bounds)]


@settings(max_examples=500, deadline=None)
@given(_text_and_cuts(), st.booleans())
def test_any_split_of_the_text_gives_the_same_result_as_the_whole(case: tuple[str, list[str]], reasoning: bool) -> None:
    text, pieces = case
    assert split_pieces(pieces, reasoning=reasoning) == split_whole(text, reasoning=reasoning)


@settings(max_examples=300, deadline=None)
@given(_texts, st.booleans())
def test_no_tag_the_model_wrote_reaches_the_user(text: str, reasoning: bool) -> None:
    # A tag spelled around another one ("</" + "</think>" + "think>") is the model's own text.
    # Removing one kind of tag first and the other after missed "</<think>think>"; one pass removes both.
    cleaned = re.sub(r"</?think>", "", text)
    assume("<think>" not in cleaned and "</think>" not in cleaned)
    for emitted in split_whole(text, reasoning=reasoning):
        assert "<think>" not in emitted
        assert "</think>" not in emitted


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60), st.text(max_size=60))
def test_r1_shaped_output_splits_into_its_two_parts(thought: str, answer: str) -> None:
    thought = thought.replace("<", "").strip("\n")
    answer = answer.replace("<", "").lstrip("\n")
    assert split_whole(f"{thought}\n</think>\n\n{answer}") == (thought, answer)
