"""How long lorebook activation takes for one turn.

    .venv/bin/python bench/bench_lore.py

A 500-entry book (two keys each, a tenth with secondary keys) scanned over the newest 200
lines of a scene, the worst case a turn meets; and the usual case, the book's default depth.
"""

from __future__ import annotations

import statistics
import time

from bot.lore import CompiledBook, Lorebook, LoreEntry, activate


def build_book(entries: int = 500, depth: int = 200) -> CompiledBook:
    made = []
    for n in range(entries):
        secondary = (f"mood{n % 13}",) if n % 10 == 0 else ()
        made.append(
            LoreEntry(
                uid=n,
                keys=(f"Name{n}", f"place {n}"),
                content=f"Lore about name {n}: " + "detail " * 20,
                secondary_keys=secondary,
                selective=bool(secondary),
                order=n % 100,
            )
        )
    return CompiledBook("server", Lorebook(tuple(made), scan_depth=depth))


def measure(book: CompiledBook, lines: list[str], runs: int = 200) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        activate([book], lines, budget_tokens=800, count_tokens=lambda t: len(t) // 4)
        times.append((time.perf_counter() - started) * 1000)
    return times


def main() -> None:
    lines = [
        f"Player{n % 7}: we walk past the old mill towards place {n * 3} and call for Name{n}"
        for n in range(200)
    ]
    started = time.perf_counter()
    deep = build_book(depth=200)
    print(f"compile a 500-entry book: {(time.perf_counter() - started) * 1000:.2f} ms")
    for label, book in (("depth 200", deep), ("depth 4 (default)", build_book(depth=4))):
        times = measure(book, lines)
        median = statistics.median(times)
        p95 = sorted(times)[int(len(times) * 0.95)]
        print(f"activation, 500 entries, {label}: median {median:.3f} ms, p95 {p95:.3f} ms")


if __name__ == "__main__":
    main()
