"""Every card shipped in personas/ loads, is valid and is ready to play."""

from __future__ import annotations

import re
from pathlib import Path

from bot.cards import CARD_SUFFIXES, export_json, load_personas_dir, parse_card
from bot.cards.ensemble import ENSEMBLE_KEYS
from bot.cards.limits import FIELD_CHAR_LIMITS
from bot.models import Persona

PERSONAS_DIR = Path(__file__).resolve().parents[2] / "personas"
_TURN = re.compile(r"^\{\{(user|char)\}\}: \S", re.MULTILINE)


def _shipped() -> dict[str, Persona]:
    result = load_personas_dir(PERSONAS_DIR)
    problems = "\n".join(str(error) for error in result.errors)
    assert result.ok, f"{len(result.errors)} shipped card(s) failed to load:\n{problems}"
    return result.personas


def test_every_shipped_card_loads() -> None:
    personas = _shipped()

    files = {p.stem for p in PERSONAS_DIR.iterdir() if p.suffix in CARD_SUFFIXES}
    assert set(personas) == files
    assert len(personas) >= 4


def test_shipped_personas_are_ready_to_play() -> None:
    problems: list[str] = []
    for persona in _shipped().values():
        card = persona.card["data"]
        blocks = [b for b in persona.example_dialogue.split("<START>") if b.strip()]
        if not persona.first_message:
            problems.append(f"{persona.id}: no first_mes")
        if not persona.example_dialogue.lstrip().startswith("<START>") or not 1 <= len(blocks) <= 3:
            problems.append(f"{persona.id}: mes_example needs 1-3 <START> blocks")
        for index, block in enumerate(blocks):
            speakers = {m.group(1) for m in _TURN.finditer(block)}
            lines = [line for line in block.strip().splitlines() if line.strip()]
            if speakers != {"user", "char"} or len(lines) != len(_TURN.findall(block)):
                problems.append(f"{persona.id}: example block {index + 1} has a bad line")
        if "talkativeness" not in card["extensions"].get("ensemble", {}):
            problems.append(f"{persona.id}: talkativeness is not set explicitly")
        if not persona.call_words:
            problems.append(f"{persona.id}: no call_words")
        if not card["creator_notes"] or not card["tags"]:
            problems.append(f"{persona.id}: creator_notes and tags are needed for /persona info")
        if "\n" in persona.first_message.replace("\n\n", ""):
            problems.append(f"{persona.id}: first_mes is hard-wrapped; use one line per paragraph")
    assert not problems, "\n".join(problems)


def test_a_narrator_for_group_scenes_is_shipped() -> None:
    narrator = _shipped()["narrator"]

    text = narrator.description.lower()
    assert "never decides a player character's actions" in text
    assert "character names" in text
    assert "hook" in text
    assert narrator.post_history_instructions
    assert len(narrator.alternate_greetings) >= 1


def test_shipped_cards_survive_export_and_reimport() -> None:
    for persona in _shipped().values():
        again = parse_card(export_json(persona), filename="x.json", persona_id=persona.id)
        assert again.persona == persona, persona.id
        assert again.card == persona.card, persona.id


def test_readme_documents_our_settings_and_limits() -> None:
    readme = (PERSONAS_DIR / "README.md").read_text(encoding="utf-8")

    missing = [key for key in ENSEMBLE_KEYS if f"`{key}`" not in readme]
    missing += [
        f"{field}={limit:,}"
        for field, limit in FIELD_CHAR_LIMITS.items()
        if field not in ("creator", "character_version") and f"{limit:,}" not in readme
    ]
    assert not missing, f"personas/README.md does not mention: {missing}"


def test_readme_example_card_is_valid() -> None:
    readme = (PERSONAS_DIR / "README.md").read_text(encoding="utf-8")
    example = readme.split("```toml\n", 1)[1].split("```", 1)[0]

    parsed = parse_card(example.encode(), filename="personas/bard.toml", persona_id="bard")

    assert parsed.persona.name == "Lirael"
    assert parsed.persona.call_words == ("lirael", "bard")
