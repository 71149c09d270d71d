"""Text hygiene helpers: invisible characters, Discord markup, OOC, names, mentions."""

import pytest

from bot.text import (
    is_ooc,
    neutralize_mass_mentions,
    render_discord_markup,
    sanitize_speaker_name,
    sanitize_webhook_name,
    strip_invisible,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plain text", "plain text"),
        ("multi\nline\ttext", "multi\nline\ttext"),
        ("zero\u200bwidth\u200c non\u2060joiner\ufeff", "zerowidth nonjoiner"),
        ("soft\u00adhyphen", "softhyphen"),
        ("bidi \u202eevil\u202c \u2066x\u2069", "bidi evil x"),
        ("filler \u3164\u115f\u2800 blank", "filler  blank"),
        ("bell\x07 null\x00 del\x7f", "bell null del"),
        ("two\nlines\x1b[0m\tand an escape", "two\nlines[0m\tand an escape"),
        ("windows\r\nline\rend", "windows\nline\nend"),
        ("tag\U000e0041\U000e0042s", "tags"),
        ("stray \ufe0f and \u200d joiners", "stray  and  joiners"),
        ("中文\u200b文本", "中文文本"),
    ],
)
def test_strip_invisible(text, expected):
    assert strip_invisible(text) == expected


@pytest.mark.parametrize(
    "emoji",
    ["\u2764\ufe0f", "👨\u200d👩\u200d👧", "👍🏽", "1\ufe0f\u20e3", "🏳\ufe0f\u200d🌈"],
)
def test_strip_invisible_keeps_emoji_sequences(emoji):
    assert strip_invisible(f"a {emoji} b") == f"a {emoji} b"


def test_strip_invisible_leaves_mostly_invisible_text_empty():
    assert strip_invisible("\u200b" * 50 + "\u2060" * 50) == ""


USERS = {1: "Alice", 2: "Bob"}
ROLES = {10: "Game Master"}
CHANNELS = {20: "tea-house"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hi <@1> and <@!2>", "hi @Alice and @Bob"),
        ("<@999> left", "@unknown-user left"),
        ("ping <@&10> / <@&11>", "ping @Game Master / @unknown-role"),
        ("see <#20> or <#21>", "see #tea-house or #unknown-channel"),
        ("nice <:blobcat:123456> <a:party_wave:789>", "nice :blobcat: :party_wave:"),
        ("at <t:1618953630:t>", "at 21:20 UTC"),
        ("at <t:1618953630:T>", "at 21:20:30 UTC"),
        ("on <t:1618953630:d>", "on 2021-04-20"),
        ("on <t:1618953630:D>", "on 20 April 2021"),
        ("at <t:1618953630>", "at 2021-04-20 21:20 UTC"),
        ("at <t:1618953630:F>", "at Tuesday, 20 April 2021 21:20 UTC"),
        ("ends <t:1618953630:R>", "ends 2021-04-20 21:20 UTC"),
        ("bad <t:9999999999999:f>", "bad <t:9999999999999:f>"),
        ("use </roll dice:42>", "use /roll dice"),
        ("a < b and <notatag>", "a < b and <notatag>"),
        ("no markup", "no markup"),
    ],
)
def test_render_discord_markup(text, expected):
    assert render_discord_markup(text, users=USERS, roles=ROLES, channels=CHANNELS) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("((brb))", True),
        ("  (( back in 5", True),
        ("// afk", True),
        ("OOC: is this canon?", True),
        ("ooc : sure", True),
        ("[OOC] quick question", True),
        ("(ooc) lol", True),
        ("She smiles. ((not ooc at the end))", False),
        ("(a single paren)", False),
        ("https://example.com", False),
        ("Oocelot the cat", False),
        ("", False),
    ],
)
def test_is_ooc(text, expected):
    assert is_ooc(text) is expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("  Alice  ", "Alice"),
        ("Sir\nLancelot\tthe  Brave", "Sir Lancelot the Brave"),
        ("\u200bZed\u200b", "Zed"),
        ("", "Someone"),
        ("\u200b\u2060 ", "Someone"),
        ("x" * 100, "x" * 64),
        ("a" * 63 + " b", "a" * 63),
    ],
)
def test_sanitize_speaker_name(name, expected):
    assert sanitize_speaker_name(name) == expected
    assert sanitize_speaker_name(name) == sanitize_speaker_name(name)


def test_sanitize_speaker_name_options():
    assert sanitize_speaker_name("", fallback="Player") == "Player"
    assert sanitize_speaker_name("abcdef", max_length=3) == "abc"


HAIR = "\u200a"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Mira", "Mira"),
        ("Discord Bot", f"D{HAIR}iscord Bot"),
        ("myclydefriend", f"myc{HAIR}lydefriend"),
        ("CLYDE", f"C{HAIR}LYDE"),
        ("code```block", f"code`{HAIR}`{HAIR}`block"),
        ("everyone", f"ev{HAIR}eryone"),
        ("Here", f"He{HAIR}re"),
        ("everyone else", "everyone else"),
        ("  multi\nline  ", "multi line"),
        ("", "Narrator"),
        ("\u200b", "Narrator"),
        ("x" * 100, "x" * 80),
    ],
)
def test_sanitize_webhook_name(name, expected):
    assert sanitize_webhook_name(name) == expected


@pytest.mark.parametrize(
    "name", ["discord", "Clyde", "```", "everyone", "here", "a" * 200, "", "Discord" * 20]
)
def test_sanitized_webhook_names_follow_discord_rules(name):
    cleaned = sanitize_webhook_name(name)
    assert 1 <= len(cleaned) <= 80
    assert "discord" not in cleaned.casefold()
    assert "clyde" not in cleaned.casefold()
    assert "```" not in cleaned
    assert cleaned.casefold() not in {"everyone", "here"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("@everyone look", "@\u200beveryone look"),
        ("hey @here!", "hey @\u200bhere!"),
        ("@everyones @heretic", "@\u200beveryones @\u200bheretic"),
        ("@Everyone is not a mass mention", "@Everyone is not a mass mention"),
        ("mail me@example.com", "mail me@example.com"),
    ],
)
def test_neutralize_mass_mentions(text, expected):
    assert neutralize_mass_mentions(text) == expected
