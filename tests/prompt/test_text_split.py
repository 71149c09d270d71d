"""Splitting long replies into Discord-sized messages without breaking Markdown."""

import random
import re

import pytest

from bot.text import split_for_discord


def squash(text):
    return re.sub(r"\s+", "", text)


def check_invariants(text, chunks, limit):
    """Each chunk fits, no chunk is blank, and no chunk leaves `**`, `||` or a fence open."""
    assert chunks
    for chunk in chunks:
        assert 0 < len(chunk) <= limit
        assert chunk == chunk.strip()
        assert chunk.count("**") % 2 == 0, chunk
        assert chunk.count("||") % 2 == 0, chunk
        assert chunk.count("```") % 2 == 0, chunk


def without_reopened(chunks, opener, closer):
    """Undo what the splitter adds when it cuts a construct: closer at the end, opener at start."""
    inner = []
    for index, chunk in enumerate(chunks):
        if index > 0:
            assert chunk.startswith(opener), chunk[:40]
            chunk = chunk[len(opener) :]
        if index < len(chunks) - 1:
            assert chunk.endswith(closer), chunk[-40:]
            chunk = chunk.removesuffix(closer)
        inner.append(chunk)
    return inner


def test_short_text_is_one_chunk():
    assert split_for_discord("  hello  ") == ["hello"]
    assert split_for_discord("x" * 2000) == ["x" * 2000]


@pytest.mark.parametrize("text", ["", "   ", "\n\n\t"])
def test_blank_text_gives_no_chunks(text):
    assert split_for_discord(text) == []


def test_limit_must_leave_room_for_markup():
    with pytest.raises(ValueError, match="limit"):
        split_for_discord("text", limit=10)


def test_splits_at_paragraphs_first():
    paragraphs = [f"Paragraph {i}. " + "The rain keeps falling. " * 5 for i in range(6)]
    text = "\n\n".join(p.strip() for p in paragraphs)
    chunks = split_for_discord(text, limit=300)
    check_invariants(text, chunks, 300)
    assert all(chunk.startswith("Paragraph") for chunk in chunks)
    assert "\n\n".join(chunks) == text


def test_splits_at_sentences_inside_a_long_paragraph():
    text = " ".join(f"Sentence number {i} ends here." for i in range(60))
    chunks = split_for_discord(text, limit=200)
    check_invariants(text, chunks, 200)
    assert all(chunk.endswith("ends here.") for chunk in chunks)
    assert " ".join(chunks) == text


def test_splits_at_words_when_there_is_no_sentence_end():
    words = [f"word{i}" for i in range(400)]
    text = " ".join(words)
    chunks = split_for_discord(text, limit=100)
    check_invariants(text, chunks, 100)
    assert all(set(chunk.split()) <= set(words) for chunk in chunks)
    assert " ".join(chunks) == text


def test_sentence_end_before_closing_markup_counts():
    text = ("*She pours the tea.* " * 3 + "x" * 40 + " ") * 10
    chunks = split_for_discord(text, limit=120)
    check_invariants(text, chunks, 120)
    assert squash("".join(chunks)) == squash(text)


def test_one_giant_word_is_cut_hard():
    text = "https://example.com/" + "a" * 250
    chunks = split_for_discord(text, limit=100)
    assert [len(chunk) for chunk in chunks] == [100, 100, 70]
    assert "".join(chunks) == text


def test_cjk_text_splits_after_sentence_marks():
    text = "猫が静かにお茶を注いでいる。" * 30
    chunks = split_for_discord(text, limit=100)
    check_invariants(text, chunks, 100)
    assert all(chunk.endswith("。") for chunk in chunks)
    assert "".join(chunks) == text


def test_cjk_text_without_punctuation_splits_between_characters():
    text = "漢字" * 150
    chunks = split_for_discord(text, limit=100)
    assert [len(chunk) for chunk in chunks] == [100, 100, 100]
    assert "".join(chunks) == text


def test_does_not_split_inside_bold_or_spoilers():
    text = " ".join(
        f"**bold phrase number {i}** and ||hidden spoiler {i}|| then words" for i in range(40)
    )
    chunks = split_for_discord(text, limit=150)
    check_invariants(text, chunks, 150)
    assert " ".join(chunks) == text


def test_does_not_split_inside_italics_strike_or_inline_code():
    text = " ".join(
        f"*soft italic {i}* ~~struck out {i}~~ __under {i}__ `inline code {i}`" for i in range(40)
    )
    chunks = split_for_discord(text, limit=130)
    for chunk in chunks:
        assert len(chunk) <= 130
        assert chunk.count("~~") % 2 == 0
        assert chunk.count("__") % 2 == 0
        assert chunk.count("`") % 2 == 0
        assert chunk.count("*") % 2 == 0
    assert " ".join(chunks) == text


def test_code_block_is_moved_whole_when_it_fits():
    code = "```py\n" + "\n".join(f"print({i})" for i in range(10)) + "\n```"
    text = "Intro sentence here. " * 8 + "\n\n" + code + "\n\nAfter the code."
    chunks = split_for_discord(text, limit=200)
    check_invariants(text, chunks, 200)
    assert any(chunk.startswith(code) for chunk in chunks)


def test_long_code_block_is_closed_and_reopened_with_its_language():
    lines = [f"    value_{i} = compute({i})  # step {i}" for i in range(80)]
    text = "```python\n" + "\n".join(lines) + "\n```"
    chunks = split_for_discord(text, limit=500)
    check_invariants(text, chunks, 500)
    assert len(chunks) > 3
    inner = without_reopened(chunks, "```python\n", "\n```")
    assert "\n".join(inner) == text
    for chunk in chunks:
        body = chunk.removeprefix("```python\n").removesuffix("\n```")
        assert all(line in lines for line in body.split("\n"))


def test_text_around_a_long_code_block():
    text = (
        "Here is the spell:\n```\n"
        + "\n".join(f"rune {i}" for i in range(120))
        + "\n```\nIt glows."
    )
    chunks = split_for_discord(text, limit=300)
    check_invariants(text, chunks, 300)
    assert chunks[0] == "Here is the spell:"
    assert chunks[1].startswith("```\nrune 0\n")
    assert chunks[-1].endswith("\n```\nIt glows.")
    assert squash("".join(without_reopened(chunks[1:], "```\n", "\n```"))) == squash(text[19:])


def test_long_bold_span_is_closed_and_reopened():
    text = "**" + " ".join(f"shout{i}" for i in range(100)) + "**"
    chunks = split_for_discord(text, limit=120)
    check_invariants(text, chunks, 120)
    assert all(chunk.startswith("**") and chunk.endswith("**") for chunk in chunks)
    assert " ".join(without_reopened(chunks, "**", "**")) == text


def test_long_spoiler_with_bold_inside_keeps_both_balanced():
    text = "||" + " ".join(f"secret **{i}** more" for i in range(60)) + "||"
    chunks = split_for_discord(text, limit=100)
    check_invariants(text, chunks, 100)
    assert " ".join(without_reopened(chunks, "||", "||")) == text


def test_block_quote_is_reopened():
    text = ">>> " + " ".join(f"quoted {i}." for i in range(80))
    chunks = split_for_discord(text, limit=150)
    assert all(chunk.startswith(">>> ") for chunk in chunks)
    assert " ".join(without_reopened(chunks, ">>> ", "")) == text


def test_emoji_sequences_are_not_cut_apart():
    family = "👨\u200d👩\u200d👧"
    text = family * 60
    chunks = split_for_discord(text, limit=64)
    assert "".join(chunks) == text
    assert all(chunk.startswith("👨") and chunk.endswith("👧") for chunk in chunks)


ATOMS = [
    "word",
    "tea",
    "lantern",
    "Rain falls.",
    "Really?",
    "**bold words here**",
    "||a spoiler||",
    "*quiet italics*",
    "~~struck~~",
    "`code`",
    "\n",
    "\n\n",
    "\n```js\nlet x = 1;\nlet y = 2;\n```\n",
    "ünïcödé",
    "茶を飲む。",
]


@pytest.mark.parametrize("seed", range(25))
@pytest.mark.parametrize("limit", [64, 150, 2000])
def test_random_documents_keep_the_invariants(seed, limit):
    rng = random.Random(seed)
    text = " ".join(rng.choice(ATOMS) for _ in range(rng.randint(50, 900))).strip()
    chunks = split_for_discord(text, limit=limit)
    check_invariants(text, chunks, limit)
    joined = "".join(chunks)
    # Code blocks in ATOMS are shorter than any limit, so nothing needs reopening.
    assert squash(joined) == squash(text)


def test_long_quote_line_is_reopened():
    text = "Intro.\n> " + " ".join(f"echo{i}" for i in range(60)) + "\nOutro."
    chunks = split_for_discord(text, limit=120)
    assert chunks[0] == "Intro."
    assert all(chunk.startswith("> ") for chunk in chunks[1:-1])
    assert chunks[-1].endswith("\nOutro.")
    assert squash("".join(without_reopened(chunks[1:], "> ", ""))) == squash(text[7:])
