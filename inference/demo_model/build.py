"""Builds and trains "whale-tiny-r1", the tiny offline demo model that answers in DeepSeek-R1's shape.

Reproducible and seeded: `python -m inference.demo_model.build` writes config, weights, tokenizer
and chat template to inference/demo_model/whale-tiny-r1/ in about two minutes on two CPU cores.
The output is committed, so tests and `make run` never train. The model only knows a handful of
topics (sky, sea, plants, stars, rain, coffee, ...); it exists so that the whole stack runs with a
real vLLM engine on a machine without a GPU or a model hub.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


@dataclass(frozen=True)
class Topic:
    name: str
    questions: tuple[str, ...]
    ideas: tuple[str, ...]
    answers: tuple[str, ...]
    titles: tuple[str, ...]


TOPICS: tuple[Topic, ...] = (
    Topic(
        "sky",
        ("Why is the sky blue?", "What makes the sky blue?", "Why does the sky look blue?", "Tell me about the sky."),
        ("sunlight", "scattering", "wavelengths"),
        (
            "The sky looks blue because air scatters short blue light more than red light.",
            "Air scatters blue sunlight the most, so the whole sky glows blue.",
        ),
        ("Why the Sky Is Blue", "Blue Sky Explained", "The Color of the Sky"),
    ),
    Topic(
        "sea",
        (
            "Why is the sea salty?",
            "What makes the ocean salty?",
            "Where does sea salt come from?",
            "Tell me about the sea.",
        ),
        ("rivers", "rocks", "minerals", "evaporation"),
        (
            "Rivers carry minerals from rocks into the sea, and evaporation leaves the salt behind.",
            "The sea is salty because water evaporates while the minerals from rocks stay.",
        ),
        ("Why the Sea Is Salty", "Salt in the Ocean", "Ocean Salt Explained"),
    ),
    Topic(
        "plants",
        ("How do plants grow?", "What do plants need to grow?", "How do plants make food?", "Tell me about plants."),
        ("light", "water", "photosynthesis", "sugar"),
        (
            "Plants use light, water and air to make sugar by photosynthesis, and that sugar helps them grow.",
            "With sunlight, water and carbon dioxide, plants make their own food and grow.",
        ),
        ("How Plants Grow", "Plant Growth Basics", "Photosynthesis in Plants"),
    ),
    Topic(
        "stars",
        ("Why do stars shine?", "What makes stars bright?", "How do stars make light?", "Tell me about the stars."),
        ("fusion", "hydrogen", "heat", "light"),
        (
            "Stars shine because fusion in their cores turns hydrogen into helium and releases light.",
            "Deep inside a star, fusion makes heat and light, so the star shines.",
        ),
        ("Why Stars Shine", "Starlight Explained", "How Stars Make Light"),
    ),
    Topic(
        "rain",
        ("Why does it rain?", "How does rain form?", "Where does rain come from?", "Tell me about rain."),
        ("clouds", "droplets", "cooling", "gravity"),
        (
            "Rain forms when water vapor cools into droplets in clouds that grow heavy and fall.",
            "Cool air turns vapor into droplets, and when they grow heavy they fall as rain.",
        ),
        ("How Rain Forms", "Where Rain Comes From", "Rain Explained"),
    ),
    Topic(
        "coffee",
        ("How is coffee made?", "Where does coffee come from?", "Why does coffee wake me up?", "Tell me about coffee."),
        ("beans", "roasting", "brewing", "caffeine"),
        (
            "Coffee is made by roasting beans, grinding them and brewing them with hot water; its caffeine keeps you awake.",
            "Roasted coffee beans are ground and brewed, and the caffeine wakes you up.",
        ),
        ("How Coffee Is Made", "Coffee Basics", "Coffee and Caffeine"),
    ),
    Topic(
        "moon",
        (
            "Why does the moon change shape?",
            "What are moon phases?",
            "Why does the moon glow?",
            "Tell me about the moon.",
        ),
        ("orbit", "sunlight", "phases", "reflection"),
        (
            "The moon reflects sunlight, and as it orbits the earth we see more or less of its lit side.",
            "We see the moon's phases because its sunlit half turns toward us and away again.",
        ),
        ("Phases of the Moon", "Why the Moon Glows", "The Moon Explained"),
    ),
    Topic(
        "snow",
        ("Why is snow white?", "How does snow form?", "What is snow made of?", "Tell me about snow."),
        ("ice", "crystals", "cold", "light"),
        (
            "Snow is made of ice crystals that form in cold clouds; they scatter all light, so snow looks white.",
            "Tiny ice crystals grow in cold clouds and fall as snow, which looks white.",
        ),
        ("How Snow Forms", "Why Snow Is White", "Snow Explained"),
    ),
    Topic(
        "bread",
        ("How is bread made?", "Why does bread rise?", "What is in bread?", "Tell me about bread."),
        ("flour", "yeast", "gas", "baking"),
        (
            "Bread is made from flour, water and yeast; the yeast makes gas that lifts the dough before baking.",
            "Yeast makes gas bubbles in the dough, so the bread rises, and baking sets it.",
        ),
        ("How Bread Is Made", "Why Bread Rises", "Baking Bread"),
    ),
    Topic(
        "wind",
        ("Why does the wind blow?", "What causes wind?", "Where does wind come from?", "Tell me about the wind."),
        ("pressure", "heat", "air", "movement"),
        (
            "Wind blows because the sun heats air unevenly, and air moves from high pressure to low pressure.",
            "Uneven heating makes pressure differences, and air flows between them as wind.",
        ),
        ("What Causes Wind", "Why the Wind Blows", "Wind Explained"),
    ),
)

GREETINGS = ("Hello!", "Hi!", "Hello, who are you?", "Hi there.", "What can you do?")
GREETING_REPLY = "Hello! I am Whale, a tiny demo model. Ask me about the sky, the sea, plants, stars, rain or coffee."


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


def build(*, output_dir: Path, dialogues: int, min_steps: int, max_steps: int, target_loss: float, seed: int) -> float:
    """Builds the tokenizer and trains the model; returns the final smoothed loss."""
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    rng = random.Random(seed)  # noqa: S311 - seeded training data, not secrets
    torch.manual_seed(seed)
    torch.set_num_threads(max(1, torch.get_num_threads()))

    samples = [_dialogue(rng) for _ in range(dialogues)]
    tokenizer = build_tokenizer([prompt + completion for prompt, completion in samples])
    vocab_size = tokenizer.get_vocab_size()  # type: ignore[attr-defined]
    padded_vocab = (vocab_size + 63) // 64 * 64
    bos_id, eos_id = tokenizer.token_to_id(BOS), tokenizer.token_to_id(EOS)  # type: ignore[attr-defined]

    encoded: list[tuple[list[int], int]] = []
    for prompt, completion in samples:
        # Tokenized apart, as at inference: the worker sends the prompt's ids and the model continues.
        prompt_ids = tokenizer.encode(prompt).ids  # type: ignore[attr-defined]
        completion_ids = tokenizer.encode(completion).ids  # type: ignore[attr-defined]
        encoded.append((prompt_ids + completion_ids, len(prompt_ids)))
    max_len = max(len(ids) for ids, _ in encoded)
    logger.info(
        "%d dialogues, vocab %d (padded %d), longest %d tokens", len(encoded), vocab_size, padded_vocab, max_len
    )

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
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
    generator = torch.Generator().manual_seed(seed)
    batch_size = 32
    smoothed = float("inf")
    started = time.monotonic()
    step = 0
    for step in range(1, max_steps + 1):
        rows = torch.randint(0, len(encoded), (batch_size,), generator=generator)
        width = int(mask[rows].sum(dim=1).max())
        out = model(input_ids=inputs[rows, :width], attention_mask=mask[rows, :width], labels=labels[rows, :width])
        optimizer.zero_grad()
        out.loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        loss = float(out.loss.detach())
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
    parser.add_argument("--min-steps", type=int, default=800, help="train at least this long, even below the target")
    parser.add_argument("--max-steps", type=int, default=2500)
    parser.add_argument("--target-loss", type=float, default=0.07)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    loss = build(
        output_dir=args.output,
        dialogues=args.dialogues,
        min_steps=args.min_steps,
        max_steps=args.max_steps,
        target_loss=args.target_loss,
        seed=args.seed,
    )
    print(f"wrote {args.output} (loss {loss:.4f})")


if __name__ == "__main__":
    main()
