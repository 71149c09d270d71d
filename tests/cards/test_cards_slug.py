"""Persona ids derived from names."""

from __future__ import annotations

import pytest

from bot.cards import is_valid_persona_id, slugify


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("The Narrator", "the-narrator"),
        ("Marta Greyhollow", "marta-greyhollow"),
        ("Zoë O'Brien", "zoe-obrien"),
        ("MERIDIAN-7", "meridian-7"),
        ("  __Vex__  ", "vex"),
        ("Ça va? Très bien!", "ca-va-tres-bien"),
        ("x" * 100, "x" * 64),
        ("a" * 63 + " b", "a" * 63),
    ],
)
def test_slugify(name: str, slug: str) -> None:
    assert slugify(name) == slug
    assert is_valid_persona_id(slug)


def test_name_without_ascii_gets_a_stable_hashed_id() -> None:
    first = slugify("花子")

    assert first == slugify("花子")
    assert first != slugify("太郎")
    assert first.startswith("persona-")
    assert is_valid_persona_id(first)


@pytest.mark.parametrize(
    "value", ["", "Bard", "bard_1", "-bard", "bard-", "bard--one", "bärd", "a" * 65]
)
def test_invalid_ids(value: str) -> None:
    assert not is_valid_persona_id(value)
