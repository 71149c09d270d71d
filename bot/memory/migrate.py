"""Numbered schema migrations: `migrations/<backend>/NNNN_name.sql`, read in version order."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

from bot.memory.errors import SchemaTooNewError

_FILE_NAME = re.compile(r"(?P<version>\d{4})_(?P<name>[a-z0-9_]+)\.sql")


@dataclass(frozen=True, slots=True)
class Migration:
    """One schema step; applying it brings the database to `version`."""

    version: int
    name: str
    sql: str

    @property
    def label(self) -> str:
        """The file name it came from, without `.sql`."""
        return f"{self.version:04d}_{self.name}"


def load_migrations(
    backend: str = "sqlite", directory: Traversable | Path | None = None
) -> tuple[Migration, ...]:
    """Read a backend's migrations (or those in `directory`), lowest version first.

    Raises:
        ValueError: a `.sql` file is misnamed, or the versions do not run 1, 2, ... N.

    """
    folder = directory if directory is not None else files("bot.memory") / "migrations" / backend
    migrations = []
    for entry in folder.iterdir():
        if not entry.name.endswith(".sql"):
            continue
        match = _FILE_NAME.fullmatch(entry.name)
        if match is None:
            raise ValueError(f"migration file {entry.name!r} is not named NNNN_name.sql")
        migrations.append(
            Migration(
                version=int(match["version"]),
                name=match["name"],
                sql=entry.read_text(encoding="utf-8"),
            )
        )
    migrations.sort(key=lambda migration: migration.version)
    versions = [migration.version for migration in migrations]
    if versions != list(range(1, len(versions) + 1)):
        raise ValueError(f"migration versions must run 1..N without gaps, found {versions}")
    return tuple(migrations)


def refuse_newer(version: int, migrations: Sequence[Migration], location: str) -> int:
    """`version`, unless a newer build wrote the database (raises `SchemaTooNewError`)."""
    latest = migrations[-1].version if migrations else 0
    if version > latest:
        raise SchemaTooNewError(
            location,
            f"schema version {version} is newer than this build's {latest}; "
            "run the newer version of the bot, or restore a backup",
        )
    return version


def latest_version(backend: str) -> int:
    """The schema version a backend's migrations bring a database to."""
    return len(load_migrations(backend))


@dataclass(frozen=True, slots=True)
class DatabaseState:
    """What `inspect_database` found, without creating or changing anything."""

    location: str
    """The file path, or the URL with any password redacted."""
    exists: bool
    """Whether the database (the file, or the schema's tables) exists yet."""
    version: int
    """Its schema version (0 when it does not exist)."""
    latest: int
    """The version this build brings it to when the bot starts."""
    problems: tuple[str, ...] = ()
    """What a read-only consistency check found (SQLite only); empty when healthy."""
    runtime_state: Mapping[str, str] = field(default_factory=dict)
    """The small runtime state kept (`Store.get_state`), e.g. the dialect choice (SQLite)."""
