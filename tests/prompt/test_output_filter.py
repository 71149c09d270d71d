"""The reply filter: no own speaker prefix, nothing written for anyone else, nothing flashed."""

import pytest

from bot.prompt.output import ReplyFilter

OTHERS = ["Bob", "Alice", "Bram", "Al", "艾琳", "Scene notes", "Story so far"]


def run(text, pieces=None, own="Vex"):
    """Feed `text` in `pieces` (default: one character at a time); return shown, filter."""
    reply = ReplyFilter(own, OTHERS)
    shown = []
    parts = pieces if pieces is not None else list(text)
    for part in parts:
        shown.append(reply.feed(part))
    shown.append(reply.finish())
    return shown, reply


@pytest.mark.parametrize(
    "text",
    [
        "Vex: Hello there.",
        "Vex:Hello there.",
        "**Vex:** Hello there.",
        "*Vex*: Hello there.",
        "vex : Hello there.",
        "  Vex: Hello there.",
    ],
)
def test_a_leading_self_prefix_is_stripped_and_never_shown(text):
    shown, reply = run(text)
    assert "".join(shown) == "Hello there."
    assert not any("Vex" in piece or "vex" in piece for piece in shown)
    assert reply.stripped and reply.cut == ""


@pytest.mark.parametrize(
    ("text", "kept", "cut"),
    [
        ("Welcome in.\nbob: thanks!", "Welcome in.", "bob: thanks!"),
        ("Welcome in.\n\n**Alice:** *sits*", "Welcome in.", "**Alice:** *sits*"),
        ("Welcome.\nBram: Hmph.\nVex: again", "Welcome.", "Bram: Hmph.\nVex: again"),
        ("Welcome.\nuser name=bob\nhi", "Welcome.", "user name=bob\nhi"),
        ("Welcome.\nuser\nhi", "Welcome.", "user\nhi"),
        ("你好。\n艾琳：谢谢", "你好。", "艾琳：谢谢"),
        ("Sure.\nScene notes: the bridge", "Sure.", "Scene notes: the bridge"),
        ("Sure.\n> Al: quoted", "Sure.", "> Al: quoted"),
    ],
)
def test_a_line_written_for_someone_else_cuts_the_reply(text, kept, cut):
    shown, reply = run(text)
    assert "".join(shown) == kept
    assert reply.cut == cut
    assert reply.done


@pytest.mark.parametrize(
    "text",
    [
        "I told Bob: no.",
        "Very well, *Vexing* as it is.",
        "Bobby: is not Bob.",
        "Alicia smiles.",
        "group of riders approach.",
        "users of magic beware.",
        "The System: offline.",
        "Vexed, she sighs.",
        "*Bram nods*\nAnd then?",
    ],
)
def test_ordinary_text_passes_untouched(text):
    shown, reply = run(text)
    assert "".join(shown) == text
    assert reply.cut == "" and not reply.stripped


def test_the_own_prefix_is_stripped_at_any_line_start():
    shown, _ = run("*smiles*\nVex: Welcome.")
    assert "".join(shown) == "*smiles*\nWelcome."


def test_text_is_held_only_while_it_could_still_be_a_label():
    reply = ReplyFilter("Vex", OTHERS)
    assert reply.feed("Hello") == "Hello"
    assert reply.feed(" there\nB") == " there"  # "B" may start "Bob:" or "Bram:"
    assert reply.feed("ut") == "\nBut"  # "But" is no name: released with its newline
    assert reply.feed("\n") == ""  # trailing whitespace waits for what follows
    assert reply.feed("Bob") == ""
    assert reply.feed(" grins.") == "\nBob grins."
    assert reply.finish() == ""


def test_trailing_whitespace_is_dropped_and_a_pending_fragment_released_at_the_end():
    shown, _ = run("Done.\n\nBo")
    assert "".join(shown) == "Done.\n\nBo"
    shown, _ = run("Done.  \n\n")
    assert "".join(shown) == "Done."


def test_a_long_line_that_starts_like_a_name_is_released():
    reply = ReplyFilter("Vex", ["Alexander the Great of Macedon"])
    assert reply.feed("Alexander the") == ""
    assert reply.feed(" Great of Macedon rode") == "Alexander the Great of Macedon rode"


def test_after_a_cut_nothing_more_is_shown_and_everything_is_kept_for_the_log():
    reply = ReplyFilter("Vex", OTHERS)
    assert reply.feed("Hi.\nBob: a") == "Hi."
    assert reply.feed("nd more") == ""
    assert reply.finish() == ""
    assert reply.cut == "Bob: and more"
    assert reply.text == "Hi.\nBob: and more"


def test_big_chunks_and_single_characters_give_the_same_text():
    text = "Vex: *bows* Welcome.\nThe fire crackles.\nAlice: thanks\nmore"
    by_char, _ = run(text)
    whole, _ = run(text, pieces=[text])
    assert "".join(by_char) == "".join(whole) == "*bows* Welcome.\nThe fire crackles."
