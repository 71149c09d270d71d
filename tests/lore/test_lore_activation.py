"""Which entries fire for the newest lines, and which fit the one lore budget."""

from bot.lore import CompiledBook, Logic, Lorebook, LoreEntry, activate


def words(text: str) -> int:
    return len(text.split())


def entry(uid, keys, content="lore", **fields):
    return LoreEntry(uid=uid, keys=tuple(keys), content=content, **fields)


def fire(books, lines, budget=1000):
    result = activate(books, lines, budget_tokens=budget, count_tokens=words)
    return [(hit.scope, hit.entry.uid) for hit in result.fired], result


def test_keys_match_whole_words_case_insensitively_by_default():
    book = CompiledBook("scene", Lorebook((entry(0, ["Ann"]), entry(1, ["sword"]))))
    assert fire([book], ["Bob: Annoying swords!"])[0] == []
    assert fire([book], ["Bob: ann has a SWORD."])[0] == [("scene", 1), ("scene", 0)]


def test_case_sensitive_and_part_word_entries():
    book = CompiledBook(
        "scene",
        Lorebook(
            (
                entry(0, ["Rose"], case_sensitive=True),
                entry(1, ["fire"], whole_words=False),
            )
        ),
    )
    assert fire([book], ["a rose in the campfire"])[0] == [("scene", 1)]
    assert fire([book], ["Rose"])[0] == [("scene", 0)]


def test_cjk_keys_match_inside_text():
    book = CompiledBook("scene", Lorebook((entry(0, ["银剑"]),)))
    assert fire([book], ["他拔出了银剑。"])[0] == [("scene", 0)]


def test_secondary_key_logic():
    def book(logic):
        one = entry(0, ["tavern"], secondary_keys=("night", "rain"), selective=True, logic=logic)
        return [CompiledBook("scene", Lorebook((one,)))]

    night = ["the tavern at night"]
    both = ["the tavern at night in the rain"]
    neither = ["the tavern"]
    assert [bool(fire(book(Logic.AND_ANY), t)[0]) for t in (night, both, neither)] == [
        True, True, False]  # fmt: skip
    assert [bool(fire(book(Logic.AND_ALL), t)[0]) for t in (night, both, neither)] == [
        False, True, False]  # fmt: skip
    assert [bool(fire(book(Logic.NOT_ANY), t)[0]) for t in (night, both, neither)] == [
        False, False, True]  # fmt: skip
    assert [bool(fire(book(Logic.NOT_ALL), t)[0]) for t in (night, both, neither)] == [
        True, False, True]  # fmt: skip


def test_constant_disabled_and_scan_depth():
    book = CompiledBook(
        "server",
        Lorebook(
            (
                entry(0, [], constant=True),
                entry(1, ["dragon"], enabled=False),
                entry(2, ["goblin"], scan_depth=1),
                entry(3, ["goblin"]),
            ),
            scan_depth=3,
        ),
    )
    lines = ["old: a goblin", "x", "y", "newest: nothing"]
    assert fire([book], lines)[0] == [("server", 0)]
    assert fire([book], ["old: a goblin", "y", "newest"])[0] == [("server", 3), ("server", 0)]


def test_recursion_is_bounded_and_honours_exclusion():
    book = CompiledBook(
        "scene",
        Lorebook(
            (
                entry(0, ["king"], "The king owns the crown."),
                entry(1, ["crown"], "The crown was forged by the smith."),
                entry(2, ["smith"], "The smith lives by the sea."),
                entry(3, ["sea"], "Sea monsters."),
                entry(4, ["crown"], "Secret.", exclude_recursion=True),
            ),
            recursive=True,
        ),
    )
    fired, _ = fire([book], ["Where is the king?"])
    assert sorted(uid for _, uid in fired) == [0, 1, 2]  # two rounds deep, never the excluded


def test_one_budget_for_all_scopes_by_insertion_order_and_scope():
    persona = CompiledBook("persona", Lorebook((entry(0, ["sword"], "a b c", order=10),)))
    scene = CompiledBook("scene", Lorebook((entry(0, ["sword"], "d e f", order=10),)))
    server = CompiledBook("server", Lorebook((entry(0, ["sword"], "g h i j", order=50),)))
    fired, result = fire([server, scene, persona], ["the sword"], budget=7)
    assert fired == [("persona", 0), ("server", 0)]  # server's order 50 first, then persona
    assert [(hit.scope, hit.tokens) for hit in result.left_out] == [("scene", 3)]
    reasons = [hit.reason for hit in result.fired]
    assert reasons == ["key “sword”", "key “sword”"]


def test_a_500_entry_book_over_200_lines():
    entries = tuple(entry(n, [f"name{n}", f"place{n}"], f"Lore {n}.") for n in range(500))
    book = CompiledBook("server", Lorebook(entries, scan_depth=200))
    lines = [f"Player{n % 7}: we go to place{n} and meet someone" for n in range(200)]
    fired, _ = fire([book], lines, budget=100_000)
    assert sorted(uid for _, uid in fired) == list(range(200))  # bench/bench_lore.py times it
