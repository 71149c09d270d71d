"""Golden request bodies for both dialects, written out in full."""

from bot.models import AuthorKind, HistoryLine, Persona, PlayerSheet, Scene
from bot.prompt import build_messages

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
    "A fox spirit who keeps the Lantern Tea House. Alice and Bob are her guests.\n"
    "\n"
    "Mira's personality: Sly and warm.\n"
    "\n"
    "Scenario: Mira pours tea while a storm rolls in.\n"
    "\n"
    "Never break the fourth wall.\n"
)
STORY = "Story so far:\nAlice owes Mira a favour.\n\nPinned facts:\n- The north road is closed."


def build(dialect):
    return build_messages(
        MIRA,
        players=PLAYERS,
        scene=SCENE,
        history=HISTORY,
        summary="Alice owes Mira a favour.",
        pins=["The north road is closed."],
        cast=[MIRA, BRAM],
        dialect=dialect,
    )


def test_native_request_body():
    built = build("native")

    assert built.messages == [
        {
            "role": "system",
            "name": "Mira",
            "content": CARD + "\n"
            "Rules:\n"
            "- Speak and act only as Mira. Never write dialogue, actions or thoughts for the "
            "human players or for any other character.\n"
            "- Other characters here, played by others: Bram.\n"
            "- Write only Mira's next message.\n"
            "- Use Discord markdown: *italics* for actions, **bold** for emphasis.\n"
            "- Keep replies to a few short paragraphs.\n"
            "\n" + STORY,
        },
        {"role": "user_system", "name": "Alice", "content": "A ranger who distrusts Mira."},
        {"role": "user_system", "name": "Bob", "content": "A bard with a lute."},
        {"role": "group", "content": "#tea-house — a stormy night"},
        {"role": "sample_message_user", "name": "Player", "content": "Is the road open?"},
        {
            "role": "sample_message_ai",
            "name": "Mira",
            "content": "*tilts her head* Not tonight, Player.",
        },
        {"role": "sample_message_user", "name": "Player", "content": "More tea?"},
        {"role": "sample_message_ai", "name": "Mira", "content": "Always."},
        {"role": "user", "name": "Alice", "content": "*shakes off the rain*\nAnyone here?"},
        {"role": "assistant", "name": "Mira", "content": "*bows* Welcome."},
        {"role": "user", "name": "Bram", "content": "Hmph. Close the door."},
        {"role": "user", "name": "Bob", "content": "I play a song."},
        {"role": "system", "name": "Mira", "content": "Answer as Mira in at most two paragraphs."},
    ]
    assert built.dialect == "native"
    assert (built.kept_history, built.dropped_history, built.dropped_examples) == (5, 0, 0)
    assert not built.ends_on_own_turn


def test_flat_request_body():
    built = build("flat")

    assert built.messages == [
        {
            "role": "system",
            "content": CARD + "\n"
            "Players:\n"
            "- Alice: A ranger who distrusts Mira.\n"
            "- Bob: A bard with a lute.\n"
            "\n"
            "Scene: #tea-house — a stormy night\n"
            "\n"
            "Example dialogue (shows the style only; it is not part of the story):\n"
            "Player: Is the road open?\n"
            "Mira: *tilts her head* Not tonight, Player.\n"
            "\n"
            "Player: More tea?\n"
            "Mira: Always.\n"
            "\n"
            "Rules:\n"
            "- Speak and act only as Mira. Never write dialogue, actions or thoughts for the "
            "human players or for any other character.\n"
            "- Other characters here, played by others: Bram.\n"
            '- Chat messages are shown as "Name: text". Write only Mira\'s next message, '
            "without a name prefix.\n"
            "- Use Discord markdown: *italics* for actions, **bold** for emphasis.\n"
            "- Keep replies to a few short paragraphs.\n"
            "\n" + STORY + "\n"
            "\n"
            "Answer as Mira in at most two paragraphs.",
        },
        {"role": "user", "content": "Alice: *shakes off the rain*\nAnyone here?"},
        {"role": "assistant", "content": "*bows* Welcome."},
        {"role": "user", "content": "Bram: Hmph. Close the door."},
        {"role": "user", "content": "Bob: I play a song."},
    ]
    assert built.dialect == "flat"
    assert all("name" not in message for message in built.messages)


def test_prefix_is_byte_stable_between_turns():
    first = build("native")
    later = build_messages(
        MIRA,
        players=list(reversed(PLAYERS)),
        scene=SCENE,
        history=[*HISTORY, HistoryLine("Alice", "Thanks!", AuthorKind.HUMAN, user_id=3)],
        summary="Alice owes Mira a favour.",
        pins=["The north road is closed."],
        cast=[BRAM, MIRA],
    )

    prefix_length = 8  # system, 2 x user_system, group, 2 sample pairs
    assert repr(later.messages[:prefix_length]) == repr(first.messages[:prefix_length])
    assert later.messages[-2] == {"role": "user", "name": "Alice", "content": "Thanks!"}


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
            "human players or for any other character.\n"
            "- Write only Sage's next message.\n"
            "- Use Discord markdown: *italics* for actions, **bold** for emphasis.\n"
            "- Keep replies to a few short paragraphs.",
        },
        {"role": "group", "content": "Library"},
        {"role": "user", "name": "Ann", "content": "hello"},
    ]
