"""`python -m bot migrate-db`: copy an SQLite memory into PostgreSQL, then verify the copy."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from bot.memory import StoreError, UnsupportedDatabaseError
from bot.memory.connect import is_postgres_url, postgres_driver_required

if TYPE_CHECKING:
    from bot.memory.postgres.transfer import TransferReport

EXIT_OK = 0
EXIT_FAILED = 1
"""The copy failed or does not match the source; PostgreSQL keeps no partial copy."""
EXIT_USAGE = 2
"""--from or --to is not a database this command can copy from or to."""

_SQLITE_SCHEME = "sqlite:///"


def _say(line: str) -> None:
    print(line)  # noqa: T201 (this command's output is its report)


def _complain(line: str) -> None:
    print(line, file=sys.stderr)  # noqa: T201


def sqlite_path(source: str) -> str:
    """The file an SQLite source names.

    Accepts `sqlite:///relative/path` and `sqlite:////absolute/path` (SQLAlchemy's
    convention), or a plain path.

    Raises:
        ValueError: `source` is another kind of URL, or names no file.

    """
    if source.startswith(_SQLITE_SCHEME):
        path = source.removeprefix(_SQLITE_SCHEME)
    elif "://" in source:
        raise ValueError(f"--from must be sqlite:///path/to/file or a file path, not {source!r}")
    else:
        path = source
    if not path:
        raise ValueError("--from names no SQLite file")
    return path


async def run_migration(source: str, target: str, *, replace: bool = False) -> int:
    """Copy the SQLite memory at `source` into the PostgreSQL URL `target`; the exit code.

        python -m bot migrate-db --from sqlite:///data/ensemble.sqlite3 --to postgresql://...

    Stop the bot first: nothing may write to either database during the copy. The target
    must hold no memory yet unless `replace` (`--replace`), which deletes what it holds.
    Prints progress and a per-table report (row counts and checksums on both sides).
    """
    try:
        path = sqlite_path(source)
    except ValueError as error:
        _complain(f"error: {error}")
        return EXIT_USAGE
    if not is_postgres_url(target):
        _complain("error: --to must be a postgresql:// (or postgres://) URL")
        return EXIT_USAGE
    try:
        with postgres_driver_required():
            from bot.memory.postgres.transfer import TargetNotEmptyError, copy_sqlite_to_postgres
    except UnsupportedDatabaseError as error:
        _complain(f"error: {error}")
        return EXIT_FAILED
    try:
        _say(f"migrate-db: copying {path} into PostgreSQL")
        report = await copy_sqlite_to_postgres(
            path, target, replace=replace, progress=lambda line: _say(f"  {line}")
        )
    except TargetNotEmptyError as error:
        _complain(f"error: {error}. Add --replace to delete what it holds and copy anyway.")
        return EXIT_FAILED
    except StoreError as error:
        _complain(f"error: {error}")
        return EXIT_FAILED
    _print_report(report)
    return EXIT_OK if report.ok else EXIT_FAILED


def _print_report(report: TransferReport) -> None:
    _say(f"migrate-db: verifying {report.source} against {report.target}")
    _say(f"  {'table':<16}{'SQLite':>12}{'PostgreSQL':>12}  checksum (SHA-256)")
    for check in report.checks:
        if check.matches:
            verdict = f"ok        {check.source_checksum[:16]}"
        else:
            verdict = f"MISMATCH  {check.source_checksum[:16]} vs {check.target_checksum[:16]}"
        _say(f"  {check.table:<16}{check.source_rows:>12,}{check.target_rows:>12,}  {verdict}")
    rows = sum(check.source_rows for check in report.checks)
    if report.ok:
        _say(
            f"migrate-db: all {len(report.checks)} tables match ({rows:,} rows) "
            f"in {report.seconds:.1f} s"
        )
        return
    broken = ", ".join(check.table for check in report.checks if not check.matches)
    _complain(
        f"error: the copy does not match the source in {broken}. Was the bot still running? "
        "Stop it and run migrate-db again with --replace."
    )
