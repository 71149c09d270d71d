"""Golden request bodies for both dialects, written out in full."""

from bot.models import AuthorKind, HistoryLine, Persona, PlayerSheet, Scene
from bot.prompt import ContextNote, build_messages

MIRA = Persona(
    id="mira",
    name="Mira",
    description="A fox spirit who keeps the Lantern Tea House.\u200b {{user}} are her guests.",
    personality="Sly and warm.",
    scenario="{{char}} pours tea while a storm rolls in.",
    example_dialogue=(
        "<START>\n{{user}}: Is the road open?\n{{char}}: *tilts her head* Not tonight, {{user}}.\n"
        "<START>\n<USER>: More tea?\n<BOT>: Always."
    ),
    system_prompt="Never break the fourth wall.",
    post_history_instructions="Answer as {{char}} in at most two paragraphs.",
)
BRAM = Persona(id="bram", name="Bram")
PLAYERS = [
    PlayerSheet(7, "Bob", "A bard with a lute."),
    PlayerSheet(3, "Alice", "A ranger who distrusts {{char}}."),
]
SCENE = Scene("#tea-house", "a stormy night")
HISTORY = [
    HistoryLine("Alice", "*shakes off the rain*", AuthorKind.HUMAN, user_id=3),
    HistoryLine("Alice", "Anyone here?", AuthorKind.HUMAN, user_id=3),
    HistoryLine("Mira", "*bows* Welcome.", AuthorKind.PERSONA, persona_id="mira"),
    HistoryLine("Bob", "((brb, doorbell))", AuthorKind.HUMAN, user_id=7, ooc=True),
    HistoryLine("Bram", "Hmph. Close the door.", AuthorKind.PERSONA, persona_id="bram"),
    HistoryLine("Bob", "I\u200b play a\u2060 song.", AuthorKind.HUMAN, user_id=7),
]

CARD = (
    "You are Mira in a group roleplay on Discord with human players and other characters.\n"
    "\n"
    "A fox spirit who keeps the Lantern Tea House. The players are her guests.\n"
    "\n"
    "Mira's personality: Sly and warm.\n"
    "\n"
    "Scenario: Mira pours tea while a storm rolls in.\n"
    "\n"
    "Never break the fourth wall.\n"
)
RULES = (
    "Rules:\n"
    "- Speak and act only as Mira. Never write dialogue, actions or thoughts for the "
    "human players or for any other character, and never start a line with someone's name.\n"
    "- Other characters here, played by others: Bram.\n"
)
RULES_END = (
    '- Messages from "Story so far" and "Scene notes" are out-of-character background for '
    "you, not lines spoken in the scene.\n"
    "- Use Discord markdown: *italics* for actions, **bold** for emphasis.\n"
    "- Keep replies to a few short paragraphs.\n"
    "\n"
    "Answer as Mira in at most two paragraphs."
)
MEMORY = (
    "(Out of character: what happened earlier in this scene, for reference.)\n\n"
    "Alice owes Mira a favour.\n\nPinned facts:\n- The north road is closed."
)


def build(dialect, **kwargs):
    options = {
        "players": PLAYERS,
        "scene": SCENE,
        "history": HISTORY,
        "summary": "Alice owes Mira a favour.",
        "pins": ["The north road is closed."],
        "cast": [MIRA, BRAM],
        "dialect": dialect,
        **kwargs,
    }
    return build_messages(MIRA, **options)


def test_native_request_body():
    built = build("native")

    assert built.messages == [
        {
            "role": "system",
            "name": "Mira",
            "content": CARD
            + "\n"
            + RULES
            + "- Write only Mira's next message, without a name prefix.\n"
            + RULES_END,
        },
        {"role": "user_system", "name": "Bob", "content": "A bard with a lute."},
        {"role": "user_system", "name": "Alice", "content": "A ranger who distrusts Mira."},
        {"role": "group", "content": "#tea-house — a stormy night"},
        {"role": "sample_message_user", "name": "Player", "content": "Is the road open?"},
        {
            "role": "sample_message_ai",
            "name": "Mira",
            "content": "*tilts her head* Not tonight, Player.",
        },
        {"role": "sample_message_user", "name": "Player", "content": "More tea?"},
        {"role": "sample_message_ai", "name": "Mira", "content": "Always."},
        {"role": "user", "name": "Story so far", "content": MEMORY},
        {"role": "user", "name": "Alice", "content": "*shakes off the rain*\nAnyone here?"},
        {"role": "assistant", "name": "Mira", "content": "*bows* Welcome."},
        {"role": "user", "name": "Bram", "content": "Hmph. Close the door."},
        {"role": "user", "name": "Bob", "content": "I play a song."},
    ]
    assert built.dialect == "native"
    assert (built.kept_history, built.dropped_history, built.dropped_examples) == (5, 0, 0)
    assert built.stable_messages == 8
    assert built.speakers == ("Alice", "Bob", "Bram", "Player", "Scene notes", "Story so far")
    assert not built.ends_on_own_turn
    assert built.cuts == ()
    assert built.estimated_tokens <= built.budget_tokens


def test_flat_request_body():
    built = build("flat")

    assert built.messages == [
        {
            "role": "system",
            "content": CARD
            + "\n"
            + RULES
            + '- Chat messages are shown as "Name: text". Write only Mira\'s next message, '
            "without a name prefix.\n" + RULES_END + "\n"
            "\n"
            "Players:\n"
            "- Bob: A bard with a lute.\n"
            "- Alice: A ranger who distrusts Mira.\n"
            "\n"
            "Scene: #tea-house — a stormy night\n"
            "\n"
            "Example dialogue (shows the style only; it is not part of the story):\n"
            "Player: Is the road open?\n"
            "Mira: *tilts her head* Not tonight, Player.\n"
            "\n"
            "Player: More tea?\n"
            "Mira: Always.",
        },
        {"role": "user", "content": "Story so far: " + MEMORY},
        {"role": "user", "content": "Alice: *shakes off the rain*\nAnyone here?"},
        {"role": "assistant", "content": "*bows* Welcome."},
        {"role": "user", "content": "Bram: Hmph. Close the door."},
        {"role": "user", "content": "Bob: I play a song."},
    ]
    assert built.dialect == "flat"
    assert built.stable_messages == 1
    assert all("name" not in message for message in built.messages)


def test_both_dialects_carry_the_same_information_in_the_same_order():
    native, flat = build("native"), build("flat")
    flat_text = "\n".join(m["content"] for m in flat.messages)
    position = 0
    for message in native.messages:
        content = message["content"]
        if message["role"] == "system":
            content = content.replace("without a name prefix", "")
            piece = content.split("\n")[0]
        else:
            piece = content.split("\n")[0]
        found = flat_text.find(piece, position)
        assert found >= position, f"{message['role']} {piece!r} is missing or out of order"
        position = found


def test_native_order_follows_the_documented_roles():
    """m2her-api.md §5.2: system, user_system per player, one group, sample pairs, then the
    conversation; no second system message anywhere (unknown placements are reported to
    make MiniMax answer HTTP 500).
    """
    notes = [ContextNote("Lore", "The bridge is out.")]
    roles = [m["role"] for m in build("native", notes=notes).messages]
    rank = {
        "system": 0,
        "user_system": 1,
        "group": 2,
        "sample_message_user": 3,
        "sample_message_ai": 3,
    }
    setup = [role for role in roles if role in rank and role != "system"]
    assert roles[0] == "system" and roles.count("system") == 1
    assert roles.count("group") == 1
    assert [rank[r] for r in setup] == sorted(rank[r] for r in setup)
    first_talk = next(i for i, role in enumerate(roles) if role in {"user", "assistant"})
    assert all(role in {"user", "assistant"} for role in roles[first_talk:])
    assert not any(role in {"user", "assistant"} for role in roles[:first_talk])
    assert roles[-1] == "user"


def test_notes_come_last_addressed_to_the_persona():
    notes = [ContextNote("Lore", "The bridge is out."), ContextNote("Recall", "Bob owes a song.")]
    native = build("native", notes=notes)
    assert native.messages[-1] == {
        "role": "user",
        "name": "Scene notes",
        "content": "(Out of character: notes for Mira about this moment of the scene. Use "
        "them when they matter; never quote them and never answer this message as if "
        "someone had said it.)\n\n[Lore] The bridge is out.\n\n[Recall] Bob owes a song.",
    }
    assert native.messages[-2] == {"role": "user", "name": "Bob", "content": "I play a song."}
    flat = build("flat", notes=notes)
    assert flat.messages[-1]["content"].startswith("Scene notes: (Out of character")
    assert build("native").messages[-1]["name"] == "Bob"  # no notes: ends on the newest line


def test_prefix_is_byte_stable_between_turns():
    first = build("native")
    later = build_messages(
        MIRA,
        players=[*PLAYERS, PlayerSheet(9, "Ann", "A newcomer.")],
        scene=SCENE,
        history=[*HISTORY, HistoryLine("Ann", "Hi all!", AuthorKind.HUMAN, user_id=9)],
        summary="Alice owes Mira a favour.",
        pins=["The north road is closed."],
        cast=[BRAM, MIRA],
    )

    # A newcomer's sheet goes after the others: everything before it is unchanged.
    assert later.messages[:3] == first.messages[:3]
    assert later.messages[3] == {"role": "user_system", "name": "Ann", "content": "A newcomer."}
    assert later.messages[4 : len(first.messages) + 1] == first.messages[3:]
    assert later.messages[-1] == {"role": "user", "name": "Ann", "content": "Hi all!"}


def test_a_new_summary_only_changes_what_follows_the_stable_part():
    first = build("native")
    folded = build("native", summary="Alice owes Mira two favours now.")
    stable = first.stable_messages
    assert folded.messages[:stable] == first.messages[:stable]
    assert folded.messages[stable] != first.messages[stable]
    assert folded.messages[stable]["name"] == "Story so far"


def test_minimal_persona_without_players_or_extras():
    built = build_messages(
        Persona(id="x", name="Sage"),
        players=[],
        scene=Scene("Library"),
        history=[HistoryLine("Ann", "hello", AuthorKind.HUMAN, user_id=1)],
    )

    assert built.messages == [
        {
            "role": "system",
            "name": "Sage",
            "content": "You are Sage in a group roleplay on Discord with human players.\n"
            "\n"
            "Rules:\n"
            "- Speak and act only as Sage. Never write dialogue, actions or thoughts for the "
            "human players or for any other character, and never start a line with someone's "
            "name.\n"
            "- Write only Sage's next message, without a name prefix.\n"
            '- Messages from "Story so far" and "Scene notes" are out-of-character background '
            "for you, not lines spoken in the scene.\n"
            "- Use Discord markdown: *italics* for actions, **bold** for emphasis.\n"
            "- Keep replies to a few short paragraphs.",
        },
        {"role": "group", "content": "Library"},
        {"role": "user", "name": "Ann", "content": "hello"},
    ]
