"""The whole request fits the window whatever comes in: huge cards and sheets, any script,
any amount of invisible characters; and the trim order when the fixed part is too big.
"""

import json
import random

import pytest

from bot.models import AuthorKind, HistoryLine, Persona, PlayerSheet, Scene
from bot.prompt import ContextNote, build_messages
from bot.tokens import PromptBudget, TokenEstimator

ZALGO = "H" + "\u0336\u0334\u0337\u0335\u0321\u0322\u0327\u0328\u0300\u0301" * 8
FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"
FLAG_AND_TONE = "\U0001f1ef\U0001f1f5\U0001f44b\U0001f3fd\u2764\ufe0f"
CJK = "雨の夜、茶屋の灯りが揺れる。旅人たちは静かに茶を飲む。"
RTL = "مرحبا بكم في بيت الشاي \u202bשלום עליכם\u202c "
LONG_WORD = "Pneumonoultramicroscopicsilicovolcanoconiosis" * 40
INVISIBLE = "\u200b\u200c\u200e\u2060\ufeff\u00ad\u034f\u180e\U000e0041"
BUDGET = PromptBudget(context_tokens=65536, reply_tokens=600, history_tokens=24000)


def human(user_id, name, text):
    return HistoryLine(name, text, AuthorKind.HUMAN, user_id=user_id)


def non_ascii(messages):
    """The issue's conservative floor: one token per non-ASCII code point, names included."""
    return sum(
        sum(1 for char in m["content"] + m.get("name", "") if ord(char) > 127) for m in messages
    )


def assert_fits(built, budget=BUDGET):
    assert built.estimated_tokens <= budget.prompt_tokens
    assert non_ascii(built.messages) <= budget.prompt_tokens
    assert built.estimated_tokens + budget.reply_tokens + budget.safety_margin <= (
        budget.context_tokens
    )
    json.dumps(built.messages)  # a valid body
    assert all(isinstance(m["content"], str) and m["content"] for m in built.messages)


def sixty_players(sheet_chars=2000):
    sheets = [PlayerSheet(1000 + n, f"玩家{n}", (CJK * 100)[:sheet_chars]) for n in range(60)]
    history = [
        human(1000 + n % 60, f"玩家{n % 60}", f"第{n}句：{CJK}") for n in range(300)
    ]  # everyone spoke, the newest 8 lines are players 52–59 (line 299 by player 59)
    return sheets, history


@pytest.mark.parametrize("dialect", ["native", "flat"])
def test_sixty_players_with_long_cjk_sheets_fit_and_say_what_was_cut(dialect):
    sheets, history = sixty_players()
    history.append(human(7, "Newcomer", "新来的人推开门。"))
    sheets.append(PlayerSheet(7, "Newcomer", CJK * 80))
    estimator = TokenEstimator()
    full = sum(estimator.count(sheet.description) for sheet in sheets)
    assert full > BUDGET.context_tokens  # the sheets alone overflow the window

    built = build_messages(
        Persona(id="m", name="Mira", description="茶屋の主人。" * 50),
        players=sheets,
        scene=Scene("茶屋", "雨の夜"),
        history=history,
        dialect=dialect,
        budget=BUDGET,
        estimator=estimator,
    )

    assert_fits(built)
    assert built.messages[-1]["content"].endswith("新来的人推开门。")  # the newest line, whole
    dropped = [
        cut.label for cut in built.cuts if cut.part == "sheet of" and cut.action == "dropped"
    ]
    assert dropped and "Newcomer" not in dropped
    assert dropped[0] == "玩家0"  # the longest silent goes first
    text = json.dumps(built.messages, ensure_ascii=False)
    assert "Newcomer" in text  # the newest speaker keeps a sheet, maybe shortened
    assert "茶屋の主人" in text  # the persona's card stays


def test_silent_players_sheets_go_before_active_ones():
    sheets = [PlayerSheet(n, f"P{n}", "x " * 3000) for n in range(1, 7)]
    history = [human(1, "P1", "old words")] + [
        human(n, f"P{n}", "recent words") for n in (2, 3, 4, 5, 6)
    ]
    budget = PromptBudget(context_tokens=12_000, reply_tokens=600, safety_margin=400)

    built = build_messages(
        Persona(id="m", name="Mira"),
        players=sheets,
        scene=Scene("s"),
        history=history,
        budget=budget,
        keep_recent=4,
    )

    assert_fits(built, budget)
    first = next(cut for cut in built.cuts if cut.part == "sheet of")
    assert (first.label, first.action) == ("P1", "dropped")  # not among the recent lines
    kept = [m["name"] for m in built.messages if m["role"] == "user_system"]
    assert "P6" in kept and "P1" not in kept


CONTROL = "\u0000\u0007\r\n"
HOSTILE = [ZALGO, FAMILY, FLAG_AND_TONE, CJK, RTL, LONG_WORD, INVISIBLE, CONTROL]


@pytest.mark.parametrize("dialect", ["native", "flat"])
@pytest.mark.parametrize("piece", HOSTILE, ids=lambda p: repr(p[:12]))
def test_huge_hostile_cards_sheets_notes_and_history_always_fit(dialect, piece):
    big = piece * (50_000 // len(piece) + 1)
    persona = Persona(
        id="m",
        name=piece[:40] or "M",
        description=big,
        personality=big,
        scenario=big,
        system_prompt=big,
        post_history_instructions=big,
        example_dialogue=f"{{{{user}}}}: {big}\n{{{{char}}}}: {big}",
    )
    history = [human(n, piece[:30] + str(n), big[: 5000 + n]) for n in range(1, 40)]

    built = build_messages(
        persona,
        players=[PlayerSheet(n, piece[:30] + str(n), big) for n in range(1, 40)],
        scene=Scene(big, big),
        history=history,
        summary=big,
        pins=[big, big],
        cast=[Persona(id="x", name=big)],
        notes=[ContextNote("Lore", big), ContextNote(big, big, max_tokens=50_000)],
        dialect=dialect,
        budget=BUDGET,
    )

    assert_fits(built)
    visible = piece not in (INVISIBLE, CONTROL)  # those clean up to nothing at all
    assert built.kept_history >= (1 if visible else 0)
    assert built.cuts or not visible  # and the inspector can say what went


def test_a_tiny_window_still_gives_a_valid_request():
    budget = PromptBudget(context_tokens=4096, reply_tokens=2048, safety_margin=1900)
    big = FAMILY * 5000
    built = build_messages(
        Persona(id="m", name="Mira", description=big, post_history_instructions=big),
        players=[PlayerSheet(1, "Al", big)],
        scene=Scene("s", big),
        history=[human(1, "Al", big)],
        summary=big,
        budget=budget,
    )
    assert_fits(built, budget)
    assert built.messages[0]["role"] == "system"
    assert built.messages[-1]["role"] == "user"


def test_the_last_resort_reports_the_tokens_it_saved():
    # Even the persona core and the newest line are over this window: the longest message
    # is shortened, and the report says by how many tokens (not characters), once per cut.
    budget = PromptBudget(context_tokens=4096, reply_tokens=2048, safety_margin=1900)
    big = FAMILY * 5000
    estimator = TokenEstimator()
    persona = Persona(id="m", name="Mira", description=big, post_history_instructions=big)
    built = build_messages(
        persona,
        players=[PlayerSheet(1, "Al", big)],
        scene=Scene("s", big),
        history=[human(1, "Al", big)],
        summary=big,
        budget=budget,
        estimator=estimator,
    )
    last_resort = [cut for cut in built.cuts if cut.part == "message"]
    assert last_resort
    assert all(cut.tokens > 0 for cut in last_resort)
    assert_fits(built, budget)


def test_the_issue_example_is_counted_at_least_at_the_floor():
    """Long emoji- and mark-heavy sheets and history: the estimate never drops under one
    token per non-ASCII code point, however the calibration moved.
    """
    estimator = TokenEstimator()
    for _ in range(32):
        estimator.calibrate(10_000, 2_600)  # plain English taught it a low factor
    text = (ZALGO + " " + FAMILY + " " + FLAG_AND_TONE + " ") * 400
    built = build_messages(
        Persona(id="m", name="Mira"),
        players=[PlayerSheet(n, f"P{n}", text) for n in range(1, 6)],
        scene=Scene("s"),
        history=[human(n % 5 + 1, f"P{n % 5 + 1}", text[:3000]) for n in range(200)],
        budget=BUDGET,
        estimator=estimator,
    )
    assert built.estimated_tokens >= non_ascii(built.messages)
    assert_fits(built)


@pytest.mark.parametrize("seed", range(12))
def test_random_mixes_and_budgets_never_overflow(seed):
    rng = random.Random(seed)
    pieces = [*HOSTILE, "plain words and more plain words ", "**bold** *act* "]

    def blob(limit):
        return "".join(rng.choice(pieces) for _ in range(rng.randint(0, limit)))

    context = rng.choice([4096, 8192, 16384, 65536])
    reply = rng.randint(1, 2048)
    budget = PromptBudget(
        context_tokens=context,
        reply_tokens=reply,
        safety_margin=max(1, min(2048, context - reply - 500)),
        history_tokens=rng.choice([None, 500, 24000]),
    )
    built = build_messages(
        Persona(id="m", name=blob(3) or "M", description=blob(400), example_dialogue=blob(50)),
        players=[PlayerSheet(n, blob(2) or "P", blob(300)) for n in range(rng.randint(0, 30))],
        scene=Scene(blob(5), blob(50)),
        history=[human(n % 7, f"P{n % 7}", blob(40)) for n in range(rng.randint(0, 400))],
        summary=blob(200),
        pins=[blob(20) for _ in range(rng.randint(0, 5))],
        notes=[ContextNote(blob(2), blob(100), rng.randint(0, 3000)) for _ in range(3)],
        dialect=rng.choice(["native", "flat"]),
        budget=budget,
        history_step=rng.choice([1, 32]),
    )
    assert_fits(built, budget)


def test_each_note_keeps_to_its_own_budget():
    built = build_messages(
        Persona(id="m", name="Mira"),
        players=[],
        scene=Scene("s"),
        history=[human(1, "Al", "hi")],
        notes=[ContextNote("Lore", "word " * 5000, max_tokens=100), ContextNote("Empty", "  ")],
    )
    notes = built.messages[-1]
    assert notes["name"] == "Scene notes"
    assert TokenEstimator().count(notes["content"]) < 200
    assert "[Empty]" not in notes["content"]
    assert [cut.describe().split(" (")[0] for cut in built.cuts] == ["note Lore shortened"]


def test_notes_are_dropped_last_first_when_the_window_is_tight():
    notes = [ContextNote(f"N{n}", "fact " * 300, max_tokens=1000) for n in range(5)]
    budget = PromptBudget(context_tokens=8192, reply_tokens=600, safety_margin=6500)
    built = build_messages(
        Persona(id="m", name="Mira"),
        players=[],
        scene=Scene("s"),
        history=[human(1, "Al", "hi")],
        notes=notes,
        budget=budget,
    )
    assert_fits(built, budget)
    dropped = [cut.label for cut in built.cuts if cut.part == "note"]
    assert dropped and dropped == [f"N{n}" for n in range(4, 4 - len(dropped), -1)]
    assert "[N0]" in built.messages[-1]["content"]


def test_the_history_start_moves_in_steps_so_the_prefix_holds():
    lines = [human(n % 3 + 1, f"P{n % 3 + 1}", f"line {n} " + "words " * 20) for n in range(600)]
    budget = PromptBudget(context_tokens=65536, reply_tokens=600, history_tokens=6000)
    starts = []
    previous = None
    shared = []
    for end in range(300, 600):
        built = build_messages(
            Persona(id="m", name="Mira"),
            players=[],
            scene=Scene("s"),
            history=lines[:end],
            budget=budget,
            history_step=32,
        )
        starts.append(built.dropped_history)
        body = json.dumps(built.messages)
        if previous is not None:
            common = next(
                (i for i, (a, b) in enumerate(zip(previous, body, strict=False)) if a != b),
                min(len(previous), len(body)),
            )
            shared.append(common / len(body))
        previous = body
    assert all(start % 32 == 0 for start in starts)
    assert len(set(starts)) <= 300 // 32 + 2  # it moved only at step boundaries
    assert sorted(shared)[len(shared) // 2] > 0.9
