"""Content ratings: what counts as adult, and what personas and players are told."""

from bot.models import Persona
from bot.ratings import (
    ADULT_RATING,
    GENERAL_RATING,
    is_adult,
    pause_notice,
    rating_line,
    seating_refusal,
)


def persona(tags) -> Persona:
    return Persona(id="p", name="Vex", card={"tags": tags})


def test_card_tags_mark_adult_personas():
    assert is_adult(persona(["Fantasy", "NSFW"]))
    assert is_adult(persona("romance, 18+"))
    assert not is_adult(persona(["fantasy", "nsfw-free-ish"]))
    assert not is_adult(persona(None))
    assert not is_adult(Persona(id="p", name="Vex"))


def test_an_admins_mark_wins_over_tags():
    assert not is_adult(persona(["nsfw"]), override=False)
    assert is_adult(persona(["sfw"]), override=True)


def test_what_the_model_and_the_players_are_told():
    assert rating_line(False) == GENERAL_RATING and "suitable for all ages" in GENERAL_RATING
    assert rating_line(True) == ADULT_RATING
    refusal = seating_refusal(["Vex"], "<#1>")
    assert "**Vex**" in refusal and "Age-Restricted Channel" in refusal and "thread" in refusal
    assert "paused" in pause_notice(["Vex"]) and "/scene cast remove" in pause_notice(["Vex"])
