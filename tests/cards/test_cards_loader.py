"""Loading a personas folder: every good card loads, every problem is reported at once."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.cards import (
    CardError,
    CardTooLargeError,
    PersonaFolderError,
    assign_persona_ids,
    is_valid_persona_id,
    load_card_file,
    load_personas_dir,
    split_avatar,
)

from .helpers import raw_png, text_chunk, v2_card, v3_card


def named(card: dict[str, Any], name: str) -> dict[str, Any]:
    card["data"]["name"] = name
    return card


def test_folder_with_good_and_bad_cards(tmp_path: Path) -> None:
    (tmp_path / "bard.toml").write_text('name = "Lirael"\n', encoding="utf-8")
    (tmp_path / "sera.json").write_text(json.dumps(v2_card()), encoding="utf-8")
    (tmp_path / "ro.png").write_bytes(raw_png(text_chunk("ccv3", v3_card())))
    (tmp_path / "broken.toml").write_text("name = \n", encoding="utf-8")
    (tmp_path / "nameless.json").write_text("{}", encoding="utf-8")
    (tmp_path / "README.md").write_text("# not a card", encoding="utf-8")
    (tmp_path / ".hidden.toml").write_text("garbage", encoding="utf-8")

    result = load_personas_dir(tmp_path)

    assert sorted(result.personas) == ["bard", "ro", "sera"]
    assert result.personas["ro"].name == "Captain Ro"
    pictured = {pid for pid, p in result.personas.items() if split_avatar(p.card)[1] is not None}
    assert pictured == {"ro"}  # the PNG card's picture travels in its card, as on import
    assert not result.ok
    assert sorted(Path(e.source).name for e in result.errors) == ["broken.toml", "nameless.json"]


def test_same_id_gets_a_suffix_and_same_name_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "bard.json").write_text(json.dumps({"name": "Lirael"}), encoding="utf-8")
    (tmp_path / "bard.toml").write_text('name = "Someone else"\n', encoding="utf-8")
    (tmp_path / "lira.toml").write_text('name = "LIRAEL"\n', encoding="utf-8")

    result = load_personas_dir(tmp_path)

    assert {pid: p.name for pid, p in result.personas.items()} == {
        "bard": "Lirael",
        "bard-2": "Someone else",
    }
    assert [(Path(e.source).name, e.field) for e in result.errors] == [("lira.toml", "name")]
    assert "already used by" in str(result.errors[0])


def test_sillytavern_file_names_get_slug_ids(tmp_path: Path) -> None:
    (tmp_path / "Seraphina.png").write_bytes(raw_png(text_chunk("chara", v2_card())))
    (tmp_path / "My Card (v2).json").write_text(
        json.dumps({"name": "Mira", "description": "A cartographer."}), encoding="utf-8"
    )
    (tmp_path / "Ünïcode Name.png").write_bytes(
        raw_png(text_chunk("ccv3", named(v3_card(), "Zoë")))
    )

    result = load_personas_dir(tmp_path)

    assert result.ok, result.errors
    assert {pid: path.name for pid, path in result.files.items()} == {
        "seraphina": "Seraphina.png",
        "my-card-v2": "My Card (v2).json",
        "unicode-name": "Ünïcode Name.png",
    }
    assert all(is_valid_persona_id(pid) for pid in result.personas)


def test_colliding_slugs_get_suffixes_in_a_stable_order(tmp_path: Path) -> None:
    names = {
        "seraphina.toml": "Exact",
        "Seraphina.json": "Upper",
        "SERAPHINA.png": "Shout",
        "seraphina-2.toml": "Taken",
    }
    for file_name, name in names.items():
        path = tmp_path / file_name
        if path.suffix == ".toml":
            path.write_text(f'name = "{name}"\n', encoding="utf-8")
        elif path.suffix == ".json":
            path.write_text(json.dumps({"name": name}), encoding="utf-8")
        else:
            path.write_bytes(raw_png(text_chunk("chara", named(v2_card(), name))))

    first = load_personas_dir(tmp_path)
    again = load_personas_dir(tmp_path)

    assert first.ok, first.errors
    ids = {path.name: pid for pid, path in first.files.items()}
    assert ids == {
        "seraphina.toml": "seraphina",  # a file named like an id keeps it
        "seraphina-2.toml": "seraphina-2",
        "SERAPHINA.png": "seraphina-3",  # then slugs, in file name order
        "Seraphina.json": "seraphina-4",
    }
    assert {path.name: pid for pid, path in again.files.items()} == ids


def test_a_long_name_stays_within_the_id_limit_with_its_suffix() -> None:
    stem = "A" * 80
    ids = assign_persona_ids([Path(f"{stem}.json"), Path(f"{stem}.toml")])

    assert sorted(ids.values(), key=len) == ["a" * 64, "a" * 62 + "-2"]
    assert all(is_valid_persona_id(pid) for pid in ids.values())


def test_missing_folder_is_reported_not_raised(tmp_path: Path) -> None:
    result = load_personas_dir(tmp_path / "nope")

    assert result.personas == {}
    assert len(result.errors) == 1
    assert isinstance(result.errors[0], PersonaFolderError)
    assert "cannot be read" in str(result.errors[0])


def test_oversized_file_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    with path.open("wb") as handle:
        handle.truncate(3 * 1024 * 1024)

    with pytest.raises(CardTooLargeError, match="3,145,728 bytes"):
        load_card_file(path)


def test_unreadable_path_is_a_card_error(tmp_path: Path) -> None:
    (tmp_path / "dir.toml").mkdir()

    with pytest.raises(CardError, match="cannot be read"):
        load_card_file(tmp_path / "dir.toml")
