"""Median time to build a request from a channel with 100,000 stored messages, and the prefix
consecutive requests of one persona share over a long scripted scene with folding.

Run: .venv/bin/python bench/bench_prompt.py [--runs N] [--turns N]
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.engine.folding import SUMMARY_CHUNK_TOKENS, SUMMARY_TARGET
from bot.models import AuthorKind, HistoryLine, Persona, PlayerSheet, Scene
from bot.prompt import build_messages, players_in_order
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


def bench(
    label: str,
    history: list[HistoryLine],
    budget: PromptBudget,
    runs: int,
    *,
    new_estimator: bool = False,
) -> None:
    """Median build time; with `new_estimator`, every build starts with nothing remembered."""
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
        if new_estimator:
            estimator = TokenEstimator()
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


SCENE_PERSONA = Persona(
    id="mira",
    name="Mira",
    description="A fox spirit who keeps the Lantern Tea House on the north road. " * 12
    + "{{user}} are her guests tonight.",
    personality="sly, warm, patient",
    scenario="Rainy nights at the tea house; {{user}} arrive soaked.",
    example_dialogue=(
        "<START>\n{{user}}: Is the road open?\n{{char}}: *tilts her head* Not tonight, {{user}}.\n"
        "<START>\n{{user}}: More tea?\n{{char}}: Always.\n"
    ),
    post_history_instructions=(
        "Stay in character as {{char}}; answer {{user}} in one or two paragraphs."
    ),
)
SCENE_SHEETS = {
    1: PlayerSheet(1, "Rook", "A scarred courier carrying a sealed letter. " * 4),
    2: PlayerSheet(2, "Lin", "A herbalist who trades in rumours. " * 4),
    3: PlayerSheet(3, "Ana", "A runaway noble in borrowed clothes. " * 4),
    4: PlayerSheet(4, "Tobias", "A retired soldier with a bad knee. " * 4),
    5: PlayerSheet(5, "Wren", "A street musician with quick fingers. " * 4),
    6: PlayerSheet(6, "Elsa", "A cartographer mapping the old roads. " * 4),
    7: PlayerSheet(7, "Kai", "A ferryman who never takes coins. " * 4),
    8: PlayerSheet(8, "Bea", "A baker's apprentice who saw too much. " * 4),
    9: PlayerSheet(9, "Oskar", "A monk on a pilgrimage north. " * 4),
    10: PlayerSheet(10, "Yun", "A smuggler posing as a tea merchant. " * 4),
}
JOIN_TURN = {1: 0, 2: 0, 3: 120, 4: 0, 5: 60, 6: 260, 7: 0, 8: 340, 9: 30, 10: 200}
"""Ten players, four of them joining mid-scene."""
WEIGHT = {1: 5, 2: 4, 3: 3, 4: 2, 5: 1.5, 6: 1, 7: 0.5, 8: 0.3, 9: 0.4, 10: 0.6}
"""How often each speaks: a long tail of occasional players, as in real group scenes."""
SCENE_HISTORY_TOKENS = 24000


def shared_prefix(first: bytes, second: bytes) -> int:
    """Length of the longest common prefix of two byte strings (binary search on slices)."""
    low, high = 0, min(len(first), len(second))
    while low < high:
        middle = (low + high + 1) // 2
        if first[:middle] == second[:middle]:
            low = middle
        else:
            high = middle - 1
    return low


def scene_reuse(turns: int, *, fold: bool) -> None:
    """Prefix reuse of consecutive requests of one persona in one channel.

    Each turn one or two players write (sometimes another persona too), then Mira's request
    is built the way the engine builds it: sheets of every player since the summary, in
    order of first appearance, and the history since the summary. When a request drops
    history, the oldest part is folded into a new summary one turn later (the engine folds
    in the background), down to SUMMARY_TARGET of the history budget, as the engine does.
    Reuse = bytes of the longest common prefix of two consecutive request bodies / bytes of
    the later one (what the provider's prefix cache can serve).
    """
    rng = random.Random(12)
    estimator = TokenEstimator()
    budget = PromptBudget(
        context_tokens=65536, reply_tokens=600, history_tokens=SCENE_HISTORY_TOKENS
    )
    window: list[HistoryLine] = []
    summary: str | None = None
    folds = 0
    fold_pending = False
    bodies: list[bytes] = []

    def line(name: str, kind: AuthorKind, words: int, **ids: object) -> HistoryLine:
        text = " ".join(rng.choices(WORDS, k=words))
        return HistoryLine(name, text, kind, tokens=estimator.estimate_raw(text), **ids)  # type: ignore[arg-type]

    for turn in range(turns):
        present = [uid for uid, start in JOIN_TURN.items() if start <= turn]
        for _ in range(rng.randint(1, 2)):
            uid = rng.choices(present, weights=[WEIGHT[u] for u in present])[0]
            window.append(
                line(SCENE_SHEETS[uid].name, AuthorKind.HUMAN, rng.randint(6, 60), user_id=uid)
            )
        if rng.random() < 0.2:
            window.append(line("Bram", AuthorKind.PERSONA, rng.randint(10, 50), persona_id="bram"))
        players = [SCENE_SHEETS[uid] for uid, _ in players_in_order(window)]
        built = build_messages(
            SCENE_PERSONA,
            players=players,
            scene=Scene("#tea-house", "a rainy night"),
            history=window,
            summary=summary,
            pins=["The north road is closed."],
            cast=[Persona(id="bram", name="Bram")],
            budget=budget,
            estimator=estimator,
        )
        body = {"model": "minimax/minimax-m2-her", "messages": built.messages}
        bodies.append(json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode())
        if fold_pending:
            total = sum(item.tokens for item in window)
            target = estimator.unscale(int(SCENE_HISTORY_TOKENS * SUMMARY_TARGET))
            cap = estimator.unscale(SUMMARY_CHUNK_TOKENS)
            size = folded = 0
            for item in window[:-1]:
                if total - size <= target or size + item.tokens > cap:
                    break
                size += item.tokens
                folded += 1
            window = window[folded:]
            folds += 1
            summary = f"Version {folds}. " + " ".join(rng.choices(WORDS, k=300))
            fold_pending = False
        if fold and built.dropped_history > 0:
            fold_pending = True
        window.append(line("Mira", AuthorKind.PERSONA, rng.randint(20, 90), persona_id="mira"))
    shares = sorted(
        shared_prefix(before, after) / len(after) for before, after in itertools.pairwise(bodies)
    )
    mode = f"folding ({folds} folds)" if fold else "no folding (summaries failing)"
    print(
        f"prefix reuse over {turns} requests, {mode}: median {statistics.median(shares):.1%}, "
        f"p25 {shares[len(shares) // 4]:.1%}, p10 {shares[len(shares) // 10]:.1%}, "
        f"mean {statistics.mean(shares):.1%}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--turns", type=int, default=500)
    args = parser.parse_args()
    runs = args.runs
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
    bench(
        "full 65,536 context, counts computed now by a new estimator",
        fresh,
        full,
        runs,
        new_estimator=True,
    )
    scene_reuse(args.turns, fold=True)
    scene_reuse(args.turns, fold=False)


if __name__ == "__main__":
    main()
