"""Lorebooks in and out: SillyTavern World Info and cards' character_book, losslessly."""

import copy
import dataclasses
import json

import pytest

from bot.lore import (
    Logic,
    LoreError,
    decode,
    export,
    from_storage,
    parse,
    to_card_book,
    to_storage,
    to_world_info,
)
from bot.lore.formats import MAX_BOOK_BYTES, MAX_CONTENT_CHARS, MAX_ENTRIES

WORLD_INFO = {
    "entries": {
        "0": {
            "uid": 0, "key": ["Glimmerblade", "silver sword"], "keysecondary": [],
            "comment": "The sword", "content": "The Glimmerblade glows near goblins.",
            "constant": False, "vectorized": False, "selective": True, "selectiveLogic": 0,
            "addMemo": True, "order": 100, "position": 0, "disable": False,
            "excludeRecursion": False, "preventRecursion": False, "delayUntilRecursion": False,
            "probability": 100, "useProbability": True, "depth": 4, "group": "",
            "groupOverride": False, "groupWeight": 100, "scanDepth": None,
            "caseSensitive": None, "matchWholeWords": None, "useGroupScoring": None,
            "automationId": "", "role": None, "sticky": 0, "cooldown": 0, "delay": 0,
            "displayIndex": 0,
        },
        "7": {
            "uid": 7, "key": ["Tavern"], "keysecondary": ["night", "midnight"],
            "selective": True, "selectiveLogic": 3, "content": "At night the tavern is loud.",
            "order": 50, "disable": True, "constant": False, "scanDepth": 2,
        },
    },
    "originalData": {"name": "Old book"},
}  # fmt: skip

CARD_BOOK = {
    "name": "Harbour lore",
    "description": "",
    "scan_depth": 6,
    "token_budget": 500,
    "recursive_scanning": True,
    "extensions": {"world": "harbour"},
    "entries": [
        {
            "keys": ["Marta"], "content": "Marta owns the Rusty Anchor.", "extensions": {},
            "enabled": True, "insertion_order": 5, "case_sensitive": None, "name": "Marta",
            "priority": 10, "id": 3, "comment": "", "selective": False, "secondary_keys": [],
            "constant": False, "position": "before_char", "someone_elses_field": [1, 2],
        },
        {
            "keys": ["harbour"], "content": "Fog every morning.",
            "extensions": {"selectiveLogic": 2, "match_whole_words": False},
            "enabled": True, "insertion_order": 1,
        },
    ],
}  # fmt: skip


def test_world_info_reads_its_fields():
    book = parse(WORLD_INFO)
    sword, tavern = book.entries
    assert sword.keys == ("Glimmerblade", "silver sword") and sword.order == 100
    assert sword.whole_words and not sword.case_sensitive and sword.enabled
    assert tavern.logic is Logic.AND_ALL and tavern.secondary_keys == ("night", "midnight")
    assert not tavern.enabled and tavern.scan_depth == 2 and tavern.uid == 7


@pytest.mark.parametrize("data", [WORLD_INFO, CARD_BOOK], ids=["world info", "card book"])
def test_a_round_trip_in_the_same_format_gives_the_book_back(data):
    original = copy.deepcopy(data)
    book = parse(data)
    again = to_world_info(book) if "uid" in str(data) else to_card_book(book)
    assert again == original
    assert from_storage(to_storage(book)) == book


def test_an_edit_changes_only_what_was_edited():
    book = parse(WORLD_INFO)
    edited = dataclasses.replace(book.entries[0], order=7)
    out = to_world_info(dataclasses.replace(book, entries=(edited, book.entries[1])))
    sword = out["entries"]["0"]
    assert sword["order"] == 7
    assert sword["sticky"] == 0 and sword["automationId"] == "" and sword["caseSensitive"] is None
    assert out["entries"]["7"] == WORLD_INFO["entries"]["7"]


def test_a_card_wraps_its_book_and_cross_format_keeps_the_rules():
    card = {"spec": "chara_card_v2", "data": {"name": "Marta", "character_book": CARD_BOOK}}
    book = parse(card)
    assert [e.uid for e in book.entries] == [3, 1]
    harbour = book.entries[1]
    assert harbour.logic is Logic.NOT_ANY and not harbour.whole_words
    as_wi = export(book, "world_info")
    back = parse(json.loads(json.dumps(as_wi)))
    assert [(e.keys, e.content, e.order, e.logic, e.whole_words) for e in back.entries] == [
        (e.keys, e.content, e.order, e.logic, e.whole_words) for e in book.entries
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "must be a JSON object"),
        ({"name": "x"}, "not a lorebook"),
        ({"entries": {"0": "text"}}, "Entry 0 is not an object"),
        ({"entries": {"0": {"key": "a", "content": 5}}}, "Entry 0: `content` must be text"),
        ({"entries": {"0": {"key": ["a"], "content": "x", "selectiveLogic": 9}}}, "0, 1, 2 or 3"),
        ({"entries": {"0": {"key": [], "content": "x"}}}, "could never fire"),
        ({"entries": {"0": {"key": ["a"], "content": "x", "scanDepth": 1000}}}, "scan depth"),
        ({"entries": [{"keys": ["a"], "content": "x", "id": 1}, {"keys": ["b"], "content": "y",
                                                               "id": 1}]}, "share the id 1"),
        ({"entries": {"0": {"key": ["a"], "content": "x" * (MAX_CONTENT_CHARS + 1)}}}, "limit"),
        ({"entries": {str(n): {"key": ["a"], "content": "x"} for n in range(MAX_ENTRIES + 1)}},
         "limit is"),
        ({"entries": {"0": {"key": ["k" * 300], "content": "x"}}}, "over 200 characters"),
        ({"entries": {"0": {"key": ["a"], "content": "x", "disable": "maybe"}}}, "true or false"),
    ],
)  # fmt: skip
def test_bad_books_are_refused_whole_with_the_entry_and_field_named(data, message):
    with pytest.raises(LoreError, match=message):
        parse(data)


def test_huge_or_broken_files_are_refused():
    with pytest.raises(LoreError, match="may be"):
        decode(b" " * (MAX_BOOK_BYTES + 1))
    with pytest.raises(LoreError, match="not valid JSON"):
        decode(b"{oops")
    with pytest.raises(LoreError, match="not UTF-8"):
        decode(b"\xff\xfe{}")


def test_hostile_keys_are_kept_as_text():
    data = {
        "entries": {
            "0": {"key": ["/.*(a+)+$/i", "🗡️ blade", "زهرة", "Z̸̡̛a̵l̶g̷o"], "content": "x"},
        }
    }
    book = parse(data)
    assert book.entries[0].keys == ("/.*(a+)+$/i", "🗡️ blade", "زهرة", "Z̸̡̛a̵l̶g̷o")
