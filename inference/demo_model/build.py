"""Builds and trains "whale-tiny-r1", the tiny offline demo model that answers in DeepSeek-R1's shape.

Reproducible and seeded: `python -m inference.demo_model.build` writes config, weights, tokenizer
and chat template to inference/demo_model/whale-tiny-r1/ in about four CPU minutes (on a busy
machine OMP_NUM_THREADS=1 is several times faster than two threads). The output is committed, so
tests and `make run` never train. The model only knows a handful of
topics (sky, sea, plants, stars, rain, coffee, ...); it exists so that the whole stack runs with a
real vLLM engine on a machine without a GPU or a model hub. It also answers R1's official search
prompt (backend/research/prompts.py) with [citation:X] markers, so Search's citations can be tested.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from inference.demo_model.topics import GREETING_REPLY, GREETINGS, TOPICS, Topic

logger = logging.getLogger("inference.demo_model.build")

MODEL_NAME = "whale-tiny-r1"
OUTPUT_DIR = Path(__file__).resolve().parent / MODEL_NAME
SEED = 1234

BOS = "<｜begin▁of▁sentence｜>"  # noqa: RUF001 - R1\'s tokens are spelled with full-width bars
EOS = "<｜end▁of▁sentence｜>"  # noqa: RUF001 - R1\'s tokens are spelled with full-width bars
USER = "<｜User｜>"  # noqa: RUF001 - R1\'s tokens are spelled with full-width bars
ASSISTANT = "<｜Assistant｜>"  # noqa: RUF001 - R1\'s tokens are spelled with full-width bars
THINK_OPEN = "<think>"
THINK_CLOSE = "</think>"
TITLE_REQUEST = "Write a short title for this conversation: "
# The training schedule (see build()): every LONG_EVERY-th step is one search dialogue, then every
# FINAL_LONG_EVERY-th in the last FINAL_STEPS; title dialogues are drawn TITLE_WEIGHT times as often.
LR = 3e-3
LONG_EVERY = 2
FINAL_STEPS = 200
FINAL_LONG_EVERY = 4
TITLE_WEIGHT = 3.0

# DeepSeek-R1's chat template without tools: the system prompt goes first (after BOS), earlier
# assistant turns lose their reasoning, and the generation prompt opens the think block.
CHAT_TEMPLATE = (
    "{% if not add_generation_prompt is defined %}{% set add_generation_prompt = false %}{% endif %}"
    "{% set ns = namespace(system_prompt='') %}"
    "{%- for message in messages %}{%- if message['role'] == 'system' %}"
    "{% set ns.system_prompt = message['content'] %}{%- endif %}{%- endfor %}"
    "{{ bos_token }}{{ ns.system_prompt }}"
    "{%- for message in messages %}"
    "{%- if message['role'] == 'user' %}{{ '" + USER + "' + message['content'] }}{%- endif %}"
    "{%- if message['role'] == 'assistant' and message['content'] is not none %}"
    "{% set content = message['content'] %}"
    "{% if '</think>' in content %}{% set content = content.split('</think>')[-1] %}{% endif %}"
    "{{ '" + ASSISTANT + "' + content + '" + EOS + "' }}"
    "{%- endif %}"
    "{%- endfor %}"
    "{% if add_generation_prompt %}{{ '" + ASSISTANT + "<think>\\n' }}{% endif %}"
)


def _reasoning(topic: Topic) -> str:
    return f"The user asks about {topic.name}. Key ideas: {', '.join(topic.ideas)}. I will answer simply."


def _dialogue(rng: random.Random) -> tuple[str, str]:
    """One training dialogue split into the prompt the worker sends and the completion the model must write.

    The prompt already ends with R1's think opening (`<think>\\n`, or the empty block in chat mode),
    exactly as inference/prompting.py builds it, so the model learns only what it generates.
    """
    kind = rng.random()
    topic = rng.choice(TOPICS)
    question = rng.choice(topic.questions)
    answer = rng.choice(topic.answers)
    history = ""
    think: str | None
    if kind < 0.05:
        question, answer = rng.choice(GREETINGS), GREETING_REPLY
        think = "The user greets me. I should say hello and list what I know." if rng.random() < 0.5 else None
    elif kind < 0.50:
        think = _reasoning(topic)
    elif kind < 0.80:
        think = None
    elif kind < 0.92:
        question = TITLE_REQUEST + question
        answer, think = rng.choice(topic.titles), None
    else:
        earlier = rng.choice(TOPICS)
        history = f"{USER}{rng.choice(earlier.questions)}{ASSISTANT}{rng.choice(earlier.answers)}{EOS}"
        think = _reasoning(topic) if rng.random() < 0.6 else None
    prompt = f"{BOS}{history}{USER}{question}{ASSISTANT}"
    if think is None:
        return f"{prompt}{THINK_OPEN}\n\n{THINK_CLOSE}\n\n", f"{answer}{EOS}"
    return f"{prompt}{THINK_OPEN}\n", f"{think}\n{THINK_CLOSE}\n\n{answer}{EOS}"


def _search_dialogue(rng: random.Random, search_prompt: Callable[..., str], block: type) -> tuple[str, str]:
    """A question asked with Search: R1's official search prompt (English) with 1-3 webpages, answered
    with the topic's sentences, each cited as [citation:X] at its end. A third page is off topic, never cited."""
    topic = rng.choice(TOPICS)
    other = rng.choice([t for t in TOPICS if t is not topic])
    pages = [(topic, topic.answers[0]), (topic, topic.answers[1]), (other, other.answers[0])][: rng.randint(1, 3)]
    blocks = [
        block(n=n, title=f"{t.titles[0]} - Example Encyclopedia", url=f"https://example.org/{t.name}", text=text)
        for n, (t, text) in enumerate(pages, start=1)
    ]
    today = dt.date(2025, 1, 1) + dt.timedelta(days=rng.randrange(3 * 365))
    prompt = f"{BOS}{USER}{search_prompt(question=rng.choice(topic.questions), blocks=blocks, today=today)}{ASSISTANT}"
    if len(pages) == 1:
        answer = f"{rng.choice(topic.answers)}[citation:1]"
    else:
        answer = f"{topic.answers[0]}[citation:1] {topic.answers[1]}[citation:2]"
    if rng.random() < 0.5:
        return f"{prompt}{THINK_OPEN}\n\n{THINK_CLOSE}\n\n", f"{answer}{EOS}"
    think = f"{_reasoning(topic)} I will cite the webpages."
    return f"{prompt}{THINK_OPEN}\n", f"{think}\n{THINK_CLOSE}\n\n{answer}{EOS}"


def _search_dialogues(rng: random.Random, count: int) -> list[tuple[str, str]]:
    # The templates are backend/research/prompts.py's own, read from the checkout: never a copy that drifts.
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "backend"))
    from research.prompts import WebpageBlock, search_prompt

    return [_search_dialogue(rng, search_prompt, WebpageBlock) for _ in range(count)]


def build_tokenizer(corpus: list[str]) -> object:
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=512,
        min_frequency=2,
        special_tokens=[BOS, EOS, USER, ASSISTANT],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    plain = [text.replace(BOS, "").replace(EOS, "").replace(USER, " ").replace(ASSISTANT, " ") for text in corpus]
    tokenizer.train_from_iterator(plain, trainer=trainer)
    # Not special, as in R1's own tokenizer: skip_special_tokens must keep them in the text.
    tokenizer.add_tokens(
        [
            AddedToken(THINK_OPEN, special=False, normalized=False),
            AddedToken(THINK_CLOSE, special=False, normalized=False),
        ]
    )
    return tokenizer


def _write_json(path: Path, data: object) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _completion_loss(model: Any, ids: list[int], prompt_len: int) -> Any:
    """The loss on one long dialogue's completion: its prompt runs once without gradients (a third of
    the cost of training through it) and the completion attends to the prompt's cached keys and values."""
    import torch

    tokens = torch.tensor([ids])
    with torch.no_grad():
        cache = model(input_ids=tokens[:, : prompt_len - 1], use_cache=True).past_key_values
    labels = tokens[:, prompt_len - 1 :].clone()
    labels[0, 0] = -100  # the prompt's last token is input only; it predicts the completion's first
    return model(input_ids=tokens[:, prompt_len - 1 :], past_key_values=cache, labels=labels).loss


def build(
    *,
    output_dir: Path,
    dialogues: int,
    search_dialogues: int,
    min_steps: int,
    max_steps: int,
    target_loss: float,
    seed: int,
) -> float:
    """Builds the tokenizer and trains the model; returns the final smoothed loss."""
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    rng = random.Random(seed)  # noqa: S311 - seeded training data, not secrets
    torch.manual_seed(seed)
    torch.set_num_threads(max(1, torch.get_num_threads()))

    samples = [_dialogue(rng) for _ in range(dialogues)]
    searches = _search_dialogues(rng, search_dialogues)
    # The tokenizer learns from the plain dialogues only, so every token count (the search and file
    # budgets, the benchmarks) stays what it was before the model learned to cite.
    tokenizer = build_tokenizer([prompt + completion for prompt, completion in samples])
    vocab_size = tokenizer.get_vocab_size()  # type: ignore[attr-defined]
    padded_vocab = (vocab_size + 63) // 64 * 64
    bos_id, eos_id = tokenizer.token_to_id(BOS), tokenizer.token_to_id(EOS)  # type: ignore[attr-defined]

    def encode(pairs: list[tuple[str, str]]) -> list[tuple[list[int], int]]:
        # Tokenized apart, as at inference: the worker sends the prompt's ids and the model continues.
        prompts = [tokenizer.encode(prompt).ids for prompt, _ in pairs]  # type: ignore[attr-defined]
        completions = [tokenizer.encode(completion).ids for _, completion in pairs]  # type: ignore[attr-defined]
        return [(p + c, len(p)) for p, c in zip(prompts, completions, strict=True)]

    encoded, long_encoded = encode(samples), encode(searches)
    logger.info(
        "%d dialogues (longest %d tokens), %d search dialogues (%d to %d tokens), vocab %d (padded %d)",
        len(encoded),
        max(len(ids) for ids, _ in encoded),
        len(long_encoded),
        min((len(ids) for ids, _ in long_encoded), default=0),
        max((len(ids) for ids, _ in long_encoded), default=0),
        vocab_size,
        padded_vocab,
    )
    max_len = max(len(ids) for ids, _ in encoded)
    inputs = torch.full((len(encoded), max_len), eos_id, dtype=torch.long)
    labels = torch.full((len(encoded), max_len), -100, dtype=torch.long)
    mask = torch.zeros((len(encoded), max_len), dtype=torch.long)
    for row, (ids, prompt_len) in enumerate(encoded):
        inputs[row, : len(ids)] = torch.tensor(ids)
        mask[row, : len(ids)] = 1
        # Learn only what the assistant generates: the prompt is always given.
        labels[row, prompt_len : len(ids)] = torch.tensor(ids[prompt_len:])

    architecture: dict[str, Any] = {
        "vocab_size": padded_vocab,
        "hidden_size": 128,
        "intermediate_size": 256,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        "num_key_value_heads": 1,
        "head_dim": 64,  # the CPU attention backend rejects smaller heads
        "max_position_embeddings": 2048,
        "tie_word_embeddings": True,
        "bos_token_id": bos_id,
        "eos_token_id": eos_id,
        "dtype": "float32",
    }
    config = Qwen2Config(**architecture)
    model = Qwen2ForCausalLM(config)
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=0.01)
    generator = torch.Generator().manual_seed(seed)
    batch_size = 32
    # Titles are 12% of the plain dialogues and <2% of the loss, so the search steps wash them out
    # unnoticed: plain batches draw title dialogues TITLE_WEIGHT times as often.
    row_weights = torch.tensor(
        [TITLE_WEIGHT if TITLE_REQUEST in prompt else 1.0 for prompt, _ in samples], dtype=torch.float
    )
    smoothed = float("inf")
    started = time.monotonic()
    step = 0
    for step in range(1, max_steps + 1):
        # The last FINAL_STEPS refresh the plain skills: fewer search steps, the learning rate decaying
        # to a tenth, so the last updates are small and not one long dialogue's.
        final = step > max_steps - FINAL_STEPS
        if final:
            progress = (step - (max_steps - FINAL_STEPS)) / FINAL_STEPS
            for group in optimizer.param_groups:
                group["lr"] = LR * (1 - 0.9 * progress)
        long_every = FINAL_LONG_EVERY if final else LONG_EVERY
        if long_encoded and step % long_every == 0:
            # A search prompt is ~1,700 tokens: padded to it, a batch of short dialogues would be as slow
            # as the longest. So every long_every-th step is one search dialogue alone.
            ids, prompt_len = long_encoded[int(torch.randint(0, len(long_encoded), (1,), generator=generator))]
            step_loss = _completion_loss(model, ids, prompt_len)
        else:
            rows = torch.multinomial(row_weights, batch_size, replacement=True, generator=generator)
            width = int(mask[rows].sum(dim=1).max())
            step_loss = model(
                input_ids=inputs[rows, :width], attention_mask=mask[rows, :width], labels=labels[rows, :width]
            ).loss
        optimizer.zero_grad()
        step_loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        loss = float(step_loss.detach())
        smoothed = loss if smoothed == float("inf") else 0.95 * smoothed + 0.05 * loss
        if step % 100 == 0:
            logger.info("step %d loss %.4f (smoothed %.4f) %.0fs", step, loss, smoothed, time.monotonic() - started)
        if step >= min_steps and smoothed <= target_loss:
            break
    logger.info("trained %d steps in %.0fs, smoothed loss %.4f", step, time.monotonic() - started, smoothed)

    output_dir.mkdir(parents=True, exist_ok=True)
    model.eval()
    model.save_pretrained(output_dir, safe_serialization=True)
    config_data = json.loads((output_dir / "config.json").read_text())
    config_data["_name_or_path"] = MODEL_NAME
    _write_json(output_dir / "config.json", config_data)
    tokenizer.save(str(output_dir / "tokenizer.json"))  # type: ignore[attr-defined]
    _write_json(
        output_dir / "tokenizer_config.json",
        {
            "tokenizer_class": "PreTrainedTokenizerFast",
            "bos_token": BOS,
            "eos_token": EOS,
            "pad_token": EOS,
            "add_bos_token": False,
            "add_eos_token": False,
            "clean_up_tokenization_spaces": False,
            "model_max_length": 2048,
            "chat_template": CHAT_TEMPLATE,
        },
    )
    _write_json(output_dir / "special_tokens_map.json", {"bos_token": BOS, "eos_token": EOS, "pad_token": EOS})
    _write_json(
        output_dir / "generation_config.json",
        {
            "bos_token_id": bos_id,
            "eos_token_id": eos_id,
            "do_sample": True,
            "temperature": 0.6,
            "top_p": 0.95,
        },
    )
    (output_dir / "chat_template.jinja").unlink(missing_ok=True)  # the template lives in tokenizer_config.json
    for path in output_dir.iterdir():
        path.chmod(0o644)  # safetensors writes 0600; the files are committed and read by other users
    return smoothed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--output", type=Path, default=OUTPUT_DIR)
    parser.add_argument("--dialogues", type=int, default=2000)
    parser.add_argument("--search-dialogues", type=int, default=400, help="questions asked with Search (long)")
    parser.add_argument("--min-steps", type=int, default=1600, help="train at least this long, even below the target")
    parser.add_argument("--max-steps", type=int, default=1600)
    parser.add_argument("--target-loss", type=float, default=0.07)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    loss = build(
        output_dir=args.output,
        dialogues=args.dialogues,
        search_dialogues=args.search_dialogues,
        min_steps=args.min_steps,
        max_steps=args.max_steps,
        target_loss=args.target_loss,
        seed=args.seed,
    )
    print(f"wrote {args.output} (loss {loss:.4f})")


if __name__ == "__main__":
    main()
