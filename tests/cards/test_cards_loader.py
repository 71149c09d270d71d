"""Loading a personas folder: every good card loads, every problem is reported at once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cards import (
    CardError,
    CardTooLargeError,
    load_card_file,
    load_personas_dir,
    split_avatar,
)

from .helpers import raw_png, text_chunk, v2_card, v3_card


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


def test_duplicate_ids_and_names_are_errors(tmp_path: Path) -> None:
    (tmp_path / "bard.json").write_text(json.dumps({"name": "Lirael"}), encoding="utf-8")
    (tmp_path / "bard.toml").write_text('name = "Someone else"\n', encoding="utf-8")
    (tmp_path / "lira.toml").write_text('name = "LIRAEL"\n', encoding="utf-8")

    result = load_personas_dir(tmp_path)

    assert list(result.personas) == ["bard"]
    assert [(Path(e.source).name, e.field) for e in result.errors] == [
        ("bard.toml", "id"),
        ("lira.toml", "name"),
    ]
    assert "already used by" in str(result.errors[0])


def test_missing_folder_is_reported_not_raised(tmp_path: Path) -> None:
    result = load_personas_dir(tmp_path / "nope")

    assert result.personas == {}
    assert len(result.errors) == 1
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
