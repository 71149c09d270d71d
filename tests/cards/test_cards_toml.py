"""The hand-written TOML card format."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cards import (
    CardFieldError,
    CardFormatError,
    export_json,
    load_card_file,
    load_persona_file,
    parse_card,
)

GOOD = """
# A comment is fine.
name = "Lirael"
description = '''
{{char}} is a travelling bard.

She knows everyone's secrets.
'''
first_mes = "*A lute chord.* Gather round!"
alternate_greetings = ['''
*She tunes her lute.* Requests?
''']
mes_example = '''
<START>
{{user}}: Play something.
{{char}}: *Lirael grins.* "Keep up, {{user}}."
'''
tags = ["bard"]
nickname = "Lira"

[extensions.ensemble]
talkativeness = 0.3
call_words = ["bard"]
avatar_url = "https://example.invalid/lirael.png"
temperature = 0.75
top_p = 0.95
max_tokens = 256

[extensions.other_app]
colour = "teal"
"""


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_hand_written_toml_loads_every_field(tmp_path: Path) -> None:
    parsed = load_card_file(_write(tmp_path, "bard.toml", GOOD))

    persona = parsed.persona
    assert parsed.source_version == "toml"
    assert persona.id == "bard"
    assert persona.description == "{{char}} is a travelling bard.\n\nShe knows everyone's secrets."
    assert persona.alternate_greetings == ("*She tunes her lute.* Requests?",)
    assert persona.example_dialogue.splitlines()[0] == "<START>"
    assert persona.talkativeness == 0.3
    assert persona.call_words == ("bard",)
    assert persona.avatar_url == "https://example.invalid/lirael.png"
    assert (persona.temperature, persona.top_p, persona.max_tokens) == (0.75, 0.95, 256)
    assert parsed.card["data"]["nickname"] == "Lira"
    assert parsed.card["data"]["extensions"]["other_app"] == {"colour": "teal"}


def test_toml_card_exports_and_reimports_equal(tmp_path: Path) -> None:
    persona = load_persona_file(_write(tmp_path, "bard.toml", GOOD))

    again = parse_card(export_json(persona), filename="bard.json", persona_id="bard")

    assert again.persona == persona
    assert again.card == persona.card


def test_bad_toml_names_the_file_and_the_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "bad.toml", 'name = "A"\ndescription = "unterminated\n')

    with pytest.raises(CardFormatError) as caught:
        load_persona_file(path)

    message = str(caught.value)
    assert message.startswith(f"{path}: is not valid TOML:")
    assert "line 2" in message


@pytest.mark.parametrize(
    ("text", "field", "fragment"),
    [
        ('name = "A"\nfirst_message = "hi"\n', "first_message", "did you mean 'first_mes'?"),
        ('name = "A"\ntags = "fantasy"\n', "tags", "must be a list of strings, not a string"),
        ('name = "A"\ndescription = ["a", "b"]\n', "description", "must be a string, not a list"),
        ('name = "A"\ncreation_date = 2024-01-01\n', "creation_date", "only strings, numbers"),
        ('name = "A"\n[extensions.ensemble]\ntop_p = nan\n', "extensions.ensemble.top_p", "finite"),
        ('name = "A"\n[extensions.ensemble]\ntemperature = 0\n', None, "range (0.0, 1.0]"),
        ('name = "A"\n[extensions.ensemble]\ncall_words = [" "]\n', None, "empty entry"),
        ('name = "A"\n[extensions.ensemble]\navatar_url = "file:///x"\n', None, "http(s) URL"),
        ('name = "A"\n[extensions.ensemble]\nmax_tokens = 4096\n', None, "between 1 and 2048"),
        ('description = "no name"\n', "name", "missing"),
    ],
)
def test_invalid_toml_card_names_the_field(
    tmp_path: Path, text: str, field: str | None, fragment: str
) -> None:
    path = _write(tmp_path, "bard.toml", text)

    with pytest.raises(CardFieldError) as caught:
        load_persona_file(path)

    assert caught.value.source == str(path)
    if field is not None:
        assert caught.value.field == field
    assert fragment in str(caught.value)


def test_file_name_that_is_not_an_id_gets_a_slug(tmp_path: Path) -> None:
    path = _write(tmp_path, "My Bard.toml", 'name = "A"\n')

    assert load_persona_file(path).id == "my-bard"


def test_toml_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bard.toml"
    path.write_bytes(b'name = "\xff"\n')

    with pytest.raises(CardFormatError, match="UTF-8"):
        load_persona_file(path)
