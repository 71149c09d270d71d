"""History selection: merging, own turns, OOC, steps, and trimming to the token budget."""

from collections.abc import Sequence

import pytest

from bot.models import AuthorKind, HistoryLine, Persona, PlayerSheet, Scene
from bot.prompt import MEMORY_SPEAKER, build_messages
from bot.tokens import PromptBudget, TokenEstimator

SCENE = Scene("Tea house")
PLAYERS = [PlayerSheet(1, "Alice", "A ranger.")]
MIRA = Persona(
    id="mira",
    name="Mira",
    description="A fox spirit.",
    example_dialogue=(
        "<START>\n{{user}}: " + "q" * 40 + "\n{{char}}: " + "a" * 40 + "\n"
        "<START>\n{{user}}: " + "r" * 40 + "\n{{char}}: " + "b" * 40
    ),
)
PLAIN_MIRA = Persona(id="mira", name="Mira", description="A fox spirit.")


def human(name, text, **kwargs):
    return HistoryLine(name, text, AuthorKind.HUMAN, user_id=sum(map(ord, name)), **kwargs)


def persona_line(persona_id, name, text):
    return HistoryLine(name, text, AuthorKind.PERSONA, persona_id=persona_id)


def unit_estimator():
    """One raw token per character and no per-message overhead: budgets are easy to reason about."""
    return TokenEstimator(ascii_rate=1.0, long_run_rate=1.0, message_overhead=0)


def budget(prompt_tokens, history_tokens=None):
    return PromptBudget(
        context_tokens=prompt_tokens,
        reply_tokens=0,
        safety_margin=0,
        history_tokens=history_tokens,
    )


def build(persona=MIRA, *, history, prompt_tokens=65536, history_tokens=None, **kwargs):
    kwargs.setdefault("history_step", 1)
    return build_messages(
        persona,
        players=PLAYERS,
        scene=SCENE,
        history=history,
        summary="They met.",
        pins=["Mira owes Alice."],
        budget=budget(prompt_tokens, history_tokens),
        estimator=unit_estimator(),
        **kwargs,
    )


def alternating(count):
    """`count` lines of 10 characters by two alternating humans (no merging)."""
    return [human(f"P{i % 2}", f"{i:010d}") for i in range(count)]


LINE = 10 + 2 + 1  # text + name + separator, with unit_estimator


def fixed_cost():
    return build(PLAIN_MIRA, history=[]).estimated_tokens


def example_costs():
    all_pairs = build(history=[]).estimated_tokens - fixed_cost()
    first = len("q" * 40) + len("Player") + 1 + len("a" * 40) + len("Mira") + 1
    return first, all_pairs - first


def history_contents(built):
    """The history messages' contents (the memory message is not history)."""
    return [
        m["content"]
        for m in built.messages
        if m["role"] in {"user", "assistant"}
        and m.get("name") != MEMORY_SPEAKER
        and not m["content"].startswith(MEMORY_SPEAKER + ": ")
    ]


def test_line_cost_matches_the_unit_estimator():
    assert build(PLAIN_MIRA, history=alternating(1)).estimated_tokens == fixed_cost() + LINE


def test_consecutive_lines_by_one_speaker_are_merged():
    history = [
        human("Alice", "one"),
        human("Alice", "two"),
        persona_line("mira", "Mira", "three"),
        persona_line("mira", "Mira", "four"),
        persona_line("bram", "Bram", "five"),
        human("Alice", "six"),
    ]
    built = build(history=history)
    assert built.messages[-4:] == [
        {"role": "user", "name": "Alice", "content": "one\ntwo"},
        {"role": "assistant", "name": "Mira", "content": "three\nfour"},
        {"role": "user", "name": "Bram", "content": "five"},
        {"role": "user", "name": "Alice", "content": "six"},
    ]
    assert built.kept_history == 6


def test_own_trailing_lines_stay_and_are_reported():
    history = [human("Alice", "Hello?"), persona_line("mira", "Mira", "*waves*")]
    built = build(history=history)
    assert built.ends_on_own_turn
    assert built.messages[-1] == {"role": "assistant", "name": "Mira", "content": "*waves*"}
    assert not build(history=history[:1]).ends_on_own_turn


def test_post_history_instructions_close_the_persona_text_in_both_dialects():
    persona = Persona(id="mira", name="Mira", post_history_instructions="Be {{char}}.")
    built = build(persona, history=[human("Alice", "hi")])
    assert built.messages[0]["content"].endswith("\n\nBe Mira.")
    assert [m["role"] for m in built.messages].count("system") == 1
    assert built.messages[-1] == {"role": "user", "name": "Alice", "content": "hi"}
    flat = build(persona, history=[human("Alice", "hi")], dialect="flat")
    persona_part = flat.messages[0]["content"].split("\n\nPlayers:")[0]
    assert persona_part.endswith("\n\nBe Mira.")
    assert flat.messages[-1] == {"role": "user", "content": "Alice: hi"}


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("drop", ["Alice: in character\nstill here"]),
        ("mark", ["Alice: in character\n(OOC) ((brb))\nstill here"]),
    ],
)
def test_ooc_lines_are_dropped_or_marked(mode, expected):
    history = [
        human("Alice", "in character"),
        human("Alice", "((brb))", ooc=True),
        human("Alice", "still here"),
    ]
    built = build(history=history, ooc=mode, dialect="flat")
    assert history_contents(built) == expected
    assert built.kept_history == (2 if mode == "drop" else 3)
    assert built.dropped_history == 0


def test_blank_and_invisible_only_lines_are_skipped():
    history = [human("Alice", "real"), human("Bob", "\u200b\u200b \u2060"), human("Cy", "  ")]
    built = build(history=history)
    assert history_contents(built) == ["real"]
    assert built.kept_history == 1


def test_oldest_history_goes_first_and_examples_stay():
    first, second = example_costs()
    prompt = fixed_cost() + first + second + 11 * LINE
    built = build(history=alternating(50), prompt_tokens=prompt)

    assert built.dropped_examples == 0
    assert built.kept_history == 11
    assert built.dropped_history == 39
    assert history_contents(built) == [f"{i:010d}" for i in range(39, 50)]
    assert built.estimated_tokens == prompt
    assert built.cuts == ()  # old history and examples are not "cuts"


def test_examples_go_before_recent_history_last_pair_first():
    first, second = example_costs()
    assert first > LINE and second > LINE
    built = build(history=alternating(50), prompt_tokens=fixed_cost() + 8 * LINE + first)

    assert built.kept_history == 8
    assert built.dropped_examples == 1
    samples = [m["content"] for m in built.messages if m["role"] == "sample_message_ai"]
    assert samples == ["a" * 40]


def test_recent_history_outranks_all_examples():
    built = build(history=alternating(50), prompt_tokens=fixed_cost() + 9 * LINE)

    assert built.kept_history == 9
    assert built.dropped_examples == 2
    assert not any(m["role"].startswith("sample") for m in built.messages)


def test_examples_are_dropped_from_the_flat_system_text_too():
    built = build(history=alternating(50), prompt_tokens=fixed_cost() + 9 * LINE, dialect="flat")
    assert built.dropped_examples == 2
    assert "Example dialogue" not in built.messages[0]["content"]


def test_a_tight_window_keeps_the_persona_core_and_the_newest_line():
    bare = build_messages(
        Persona(id="mira", name="Mira"),
        players=[],
        scene=SCENE,
        history=alternating(1),
        estimator=unit_estimator(),
    ).estimated_tokens
    built = build(history=alternating(50), prompt_tokens=bare)

    system = built.messages[0]["content"]
    assert system.startswith("You are Mira in a group roleplay")
    assert "Rules:" in system and "A fox spirit." not in system
    assert history_contents(built) == ["0000000049"]
    assert (built.kept_history, built.dropped_history, built.dropped_examples) == (1, 49, 2)
    assert built.estimated_tokens <= bare
    assert [cut.describe().split(" (")[0] for cut in built.cuts] == [
        "sheet of Alice dropped",
        "pin dropped",
        "summary dropped",
        "card description dropped",
    ]
    assert not any(m.get("name") == MEMORY_SPEAKER for m in built.messages)


def test_history_cap_limits_history_only():
    built = build(history=alternating(50), history_tokens=3 * LINE)
    assert built.kept_history == 3
    assert built.dropped_examples == 0


def test_calibration_shrinks_what_fits():
    prompt = fixed_cost() + 100 * LINE
    estimator = unit_estimator()
    plain = build(PLAIN_MIRA, history=alternating(500), prompt_tokens=prompt)
    estimator.calibrate(1000, 2000)
    calibrated = build_messages(
        PLAIN_MIRA,
        players=PLAYERS,
        scene=SCENE,
        history=alternating(500),
        summary="They met.",
        pins=["Mira owes Alice."],
        budget=budget(prompt),
        estimator=estimator,
    )
    assert plain.kept_history == 100
    assert calibrated.kept_history < 100
    assert calibrated.estimated_tokens <= prompt


class CountingHistory(Sequence):
    """A read-only history that records which lines were looked at."""

    def __init__(self, lines):
        self._lines = lines
        self.seen = set()

    def __len__(self):
        return len(self._lines)

    def __getitem__(self, index):
        if isinstance(index, slice):
            raise AssertionError("the builder must not slice or copy the history")
        self.seen.add(index)
        return self._lines[index]

    def __iter__(self):
        raise AssertionError("the builder must not iterate the whole history")


def test_100k_history_is_trimmed_without_reading_it_all():
    lines = [
        human(("Alice", "Bob", "Cara")[i % 3], f"message {i} " + "tea and rain " * (i % 20))
        for i in range(100_000)
    ]
    history = CountingHistory(lines)

    built = build_messages(
        MIRA, players=PLAYERS, scene=SCENE, history=history, budget=PromptBudget()
    )

    assert 0 < built.kept_history < 5000
    assert built.dropped_history == 100_000 - built.kept_history
    assert built.dropped_history % 32 == 0  # the start moved in steps
    assert built.estimated_tokens <= PromptBudget().prompt_tokens
    assert built.kept_history + 1 <= len(history.seen) <= built.kept_history + 32
    assert min(history.seen) >= built.dropped_history - 32
    assert history_contents(built)[-1].startswith("message 99999 ")
