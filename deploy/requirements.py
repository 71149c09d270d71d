"""Print the dependencies in pyproject.toml, one per line, for a cached Docker layer.

    python deploy/requirements.py pyproject.toml postgres > requirements.txt

The image installs these before it copies the code, so editing the code does not reinstall
them. Extras named after the file (e.g. `postgres`) are added to the runtime dependencies.
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path


def requirements(pyproject: Path, extras: list[str]) -> list[str]:
    """The project's runtime dependencies plus those of `extras`, in file order."""
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    optional = project.get("optional-dependencies", {})
    unknown = [extra for extra in extras if extra not in optional]
    if unknown:
        raise SystemExit(f"error: {pyproject} has no extra named {', '.join(unknown)}")
    found = list(project["dependencies"])
    for extra in extras:
        found.extend(optional[extra])
    return list(dict.fromkeys(found))


if __name__ == "__main__":
    if len(sys.argv) < 2:
        raise SystemExit("usage: python requirements.py PYPROJECT [EXTRA ...]")
    print("\n".join(requirements(Path(sys.argv[1]), sys.argv[2:])))  # noqa: T201
