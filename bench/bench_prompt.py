"""Median time to build a request from a channel with 100,000 stored messages.

Run: .venv/bin/python bench/bench_prompt.py [--runs N]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.models import AuthorKind, HistoryLine, Persona, PlayerSheet, Scene
from bot.prompt import build_messages
from bot.tokens import PromptBudget, TokenEstimator

MESSAGES = 100_000
SAMPLE_TEXT = (
    "the lantern flickers rain taps against shutters she leans closer whispering about "
    "old debts a kettle sings somewhere *smiles* **careful** you never said why the "
    "road north was closed tonight and the tea smells of smoke and plum blossoms"
)
WORDS = SAMPLE_TEXT.split()


def make_history(rng: random.Random, *, precomputed: bool) -> list[HistoryLine]:
    estimator = TokenEstimator()
    speakers = [
        ("Alice", AuthorKind.HUMAN, None, 1),
        ("Bob", AuthorKind.HUMAN, None, 2),
        ("Cara", AuthorKind.HUMAN, None, 3),
        ("Mira", AuthorKind.PERSONA, "mira", None),
        ("Bram", AuthorKind.PERSONA, "bram", None),
    ]
    history = []
    for _ in range(MESSAGES):
        speaker, kind, persona_id, user_id = rng.choice(speakers)
        text = " ".join(rng.choices(WORDS, k=rng.randint(4, 80)))
        if rng.random() < 0.05:
            text = "猫が静かに茶を注ぐ。" * rng.randint(1, 6)
        history.append(
            HistoryLine(
                speaker=speaker,
                text=text,
                kind=kind,
                persona_id=persona_id,
                user_id=user_id,
                ooc=rng.random() < 0.03,
                tokens=estimator.estimate_raw(text) if precomputed else 0,
            )
        )
    return history


def bench(label: str, history: list[HistoryLine], budget: PromptBudget, runs: int) -> None:
    persona = Persona(
        id="mira",
        name="Mira",
        description="A fox spirit who keeps the Lantern Tea House. " * 20,
        personality="sly, warm, patient",
        scenario="Rainy nights at the tea house on the north road.",
        example_dialogue=(
            "<START>\n{{user}}: Is the road open?\n{{char}}: *tilts her head* Not tonight.\n"
            "<START>\n{{user}}: More tea?\n{{char}}: Always, {{user}}.\n"
        ),
        post_history_instructions="Stay in character as {{char}}.",
    )
    players = [PlayerSheet(i, name, f"{name}'s character.") for i, name in enumerate("ABC", 1)]
    scene = Scene("#tea-house", "a rainy night")
    estimator = TokenEstimator()
    times = []
    built = None
    for _ in range(runs):
        start = time.perf_counter()
        built = build_messages(
            persona,
            players=players,
            scene=scene,
            history=history,
            summary="Alice owes Mira a favour. " * 10,
            pins=["The north road is closed."],
            cast=[Persona(id="bram", name="Bram")],
            budget=budget,
            estimator=estimator,
        )
        times.append(time.perf_counter() - start)
    assert built is not None
    median_ms = statistics.median(times) * 1000
    print(
        f"{label}: median {median_ms:.3f} ms (p90 {sorted(times)[int(runs * 0.9)] * 1000:.3f} ms, "
        f"{runs} runs) — kept {built.kept_history} lines, dropped {built.dropped_history}, "
        f"~{built.estimated_tokens} tokens"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=200)
    runs = parser.parse_args().runs
    rng = random.Random(7)
    stored = make_history(rng, precomputed=True)
    fresh = [
        HistoryLine(line.speaker, line.text, line.kind, line.persona_id, line.user_id, line.ooc)
        for line in stored
    ]
    full = PromptBudget(context_tokens=65536, reply_tokens=600)
    capped = PromptBudget(context_tokens=65536, reply_tokens=600, history_tokens=24000)
    print(f"{MESSAGES:,} stored messages, Python {sys.version.split()[0]}")
    bench("full 65,536 context, stored token counts", stored, full, runs)
    bench("history capped at 24,000, stored token counts", stored, capped, runs)
    bench("full 65,536 context, counts computed now", fresh, full, runs)


if __name__ == "__main__":
    main()
