"""Numbered schema migrations: `migrations/<backend>/NNNN_name.sql`, read in version order."""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

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
