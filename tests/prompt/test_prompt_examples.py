"""Macro resolution and example-dialogue parsing."""

import pytest

from bot.models import AuthorKind, HistoryLine, Persona, PlayerSheet, Scene
from bot.prompt import ExamplePair, build_messages, parse_example_dialogue, resolve_macros


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{{char}} greets {{user}}.", "Mira greets Alice."),
        ("{{CHAR}} and {{ User }}", "Mira and Alice"),
        ("<BOT> waves at <user>", "Mira waves at Alice"),
        ("{{original}}Be brief.", "Be brief."),
        ("{{random::a::b}} stays", "{{random::a::b}} stays"),
        ("no macros <here>", "no macros <here>"),
    ],
)
def test_resolve_macros(text, expected):
    assert resolve_macros(text, char="Mira", user="Alice") == expected


@pytest.mark.parametrize(
    ("dialogue", "expected"),
    [
        pytest.param(
            "{{user}}: Hi\n{{char}}: Hello!",
            [ExamplePair("Hi", "Hello!")],
            id="no-start-marker",
        ),
        pytest.param(
            "<START>\n{{user}}: A\n{{char}}: B\n<START>\n{{user}}: C\n{{char}}: D",
            [ExamplePair("A", "B"), ExamplePair("C", "D")],
            id="two-blocks",
        ),
        pytest.param(
            "<start>\n{{user}}: first line\nsecond line\n{{char}}: *nods*\n\nSure.",
            [ExamplePair("first line\nsecond line", "*nods*\n\nSure.")],
            id="multi-line-turns",
        ),
        pytest.param(
            "{{user}}: 1\n{{char}}: 1\n{{user}}: 2\n{{char}}: 2\n<START>\n{{user}}: 3\n"
            "{{char}}: 3\n{{user}}: 4\n{{char}}: 4",
            [ExamplePair("1", "1"), ExamplePair("2", "2"), ExamplePair("3", "3")],
            id="more-than-three-pairs",
        ),
        pytest.param(
            "{{char}}: *yawns*\n{{user}}: Tired?\n{{char}}: Very.\n{{user}}: (no answer)",
            [ExamplePair("…", "*yawns*"), ExamplePair("Tired?", "Very.")],
            id="char-first-and-trailing-user",
        ),
        pytest.param(
            "{{user}}: a\n{{user}}: b\n{{char}}: c\n{{char}}: d",
            [ExamplePair("a\nb", "c\nd")],
            id="same-speaker-merged",
        ),
        pytest.param(
            "Mira: I speak by name.\n{{user}}: ok\nMira: good",
            [ExamplePair("…", "I speak by name."), ExamplePair("ok", "good")],
            id="literal-character-name",
        ),
        pytest.param(
            "She never answers questions directly.",
            [ExamplePair("…", "She never answers questions directly.")],
            id="no-labels-at-all",
        ),
        pytest.param("", [], id="empty"),
        pytest.param("<START>\n<START>\n", [], id="only-markers"),
        pytest.param(
            "preamble ignored\n{{user}}: q\n{{char}}: a",
            [ExamplePair("q", "a")],
            id="text-before-first-label",
        ),
    ],
)
def test_parse_example_dialogue(dialogue, expected):
    assert parse_example_dialogue(dialogue, char_name="Mira") == expected


def _examples(players):
    persona = Persona(
        id="m",
        name="Mira",
        example_dialogue="{{user}}: Hi {{char}}\n{{char}}: Hi {{user}}",
        description="{{char}} likes {{user}}.",
    )
    built = build_messages(
        persona,
        players=players,
        scene=Scene("s"),
        history=[HistoryLine("Zed", "yo", AuthorKind.HUMAN, user_id=9)],
    )
    return built.messages


@pytest.mark.parametrize(
    "players",
    [[], [PlayerSheet(1, "Alice")], [PlayerSheet(2, "Cara"), PlayerSheet(1, "Bob")]],
)
def test_user_macro_in_the_persona_text_never_depends_on_who_plays(players):
    """`{{user}}` in the cached part is a fixed phrase, so a newcomer never changes it."""
    messages = _examples(players)
    assert "Mira likes the players." in messages[0]["content"]
    samples = [m for m in messages if m["role"].startswith("sample")]
    assert samples == [
        {"role": "sample_message_user", "name": "Player", "content": "Hi Mira"},
        {"role": "sample_message_ai", "name": "Mira", "content": "Hi Player"},
    ]


def test_user_macro_opening_a_sentence_is_capitalised():
    built = build_messages(
        Persona(id="m", name="Mira", description="{{user}} arrive. Mira greets {{user}}."),
        players=[],
        scene=Scene("s"),
        history=[],
    )
    assert "The players arrive. Mira greets the players." in built.messages[0]["content"]


def test_player_sheet_macros_resolve_to_that_player():
    built = build_messages(
        Persona(id="m", name="Mira"),
        players=[PlayerSheet(1, "Alice", "{{user}} fears {{char}}."), PlayerSheet(2, "Bob")],
        scene=Scene("s", "{{char}}'s shop"),
        history=[],
    )
    assert built.messages[1:4] == [
        {"role": "user_system", "name": "Alice", "content": "Alice fears Mira."},
        {"role": "user_system", "name": "Bob", "content": "Bob is one of the players."},
        {"role": "group", "content": "s — Mira's shop"},
    ]


def test_duplicate_player_sheets_keep_one_per_user():
    built = build_messages(
        Persona(id="m", name="Mira"),
        players=[PlayerSheet(1, "Alice", "old"), PlayerSheet(1, "Alice", "new")],
        scene=Scene("s"),
        history=[],
    )
    assert [m for m in built.messages if m["role"] == "user_system"] == [
        {"role": "user_system", "name": "Alice", "content": "new"}
    ]
