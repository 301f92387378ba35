"""Files in DeepSeek's official template, fitted to a budget with the real (demo) model tokenizer."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from files.prompting import count_tokens, file_template, files_fit, model_tokenizer, render
from inference.models import DEMO_MODEL_DIR


@dataclass
class Doc:
    name: str
    text: str


@pytest.fixture(scope="module")
def tokenizer() -> object:
    return model_tokenizer(str(DEMO_MODEL_DIR))


def test_the_template_is_deepseeks_official_one_verbatim() -> None:
    assert (
        file_template
        == "[file name]: {file_name}\n[file content begin]\n{file_content}\n[file content end]\n{question}"
    )
    one = render([("a.txt", "alpha")], "What is it?")
    assert one == file_template.format(file_name="a.txt", file_content="alpha", question="What is it?")


def test_files_that_fit_are_included_whole_one_block_each(tokenizer: object) -> None:
    fitted = files_fit(
        [Doc("a.txt", "the sky is blue"), Doc("b.txt", "the sea is deep")], "Compare them.", 1000, tokenizer
    )
    assert fitted.text == (
        "[file name]: a.txt\n[file content begin]\nthe sky is blue\n[file content end]\n"
        "[file name]: b.txt\n[file content begin]\nthe sea is deep\n[file content end]\n"
        "Compare them."
    )
    assert [item.percent for item in fitted.included] == [100, 100]
    assert fitted.notices == []
    assert fitted.tokens == count_tokens(tokenizer, fitted.text)


def test_a_long_file_is_cut_to_the_budget_and_says_how_much_was_read(tokenizer: object) -> None:
    short = Doc("notes.txt", "plants need light and water")
    long = Doc("report.pdf", " ".join(f"line {n} of the report about rain and stars." for n in range(400)))
    fitted = files_fit([short, long], "Summarise.", 600, tokenizer)
    assert fitted.tokens <= 600
    notes, report = fitted.included
    assert notes.percent == 100  # the short file keeps all of its fair share
    assert 0 < report.percent < 100
    assert report.chars > 0 and long.text[: report.chars] in fitted.text
    assert fitted.notices == [f"Read the first {report.percent}% of report.pdf"]
    assert fitted.text.endswith("[file content end]\nSummarise.")


def test_two_long_files_share_the_budget_fairly(tokenizer: object) -> None:
    text = " ".join(f"sentence {n} about coffee and the sea." for n in range(300))
    fitted = files_fit([Doc("a.txt", text), Doc("b.txt", text)], "Which is longer?", 500, tokenizer)
    a, b = fitted.included
    assert fitted.tokens <= 500
    assert abs(a.chars - b.chars) <= len(text) * 0.05


def test_no_room_at_all_includes_nothing_and_says_so(tokenizer: object) -> None:
    fitted = files_fit([Doc("big.txt", "stars " * 500)], "Question?", 10, tokenizer)
    assert fitted.included[0].chars == 0
    assert fitted.notices == ["Could not read big.txt: there was no room left for it."]
