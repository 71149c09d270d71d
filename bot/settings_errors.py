"""Turn a settings validation failure into one line that names every variable to fix."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from bot.config import env_name


def _and(names: list[str]) -> str:
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + " and " + names[-1]


def describe_settings_error(error: ValidationError, *, env_file: Path | None = None) -> str:
    """One human line for all the problems, naming each environment variable.

    Missing variables are grouped ("DISCORD_TOKEN and LLM_API_KEY are not set: ..."); when
    `env_file` is given and does not exist, the line says to create it from `.env.example`.
    """
    missing: list[str] = []
    invalid: list[str] = []
    for problem in error.errors():
        detail = problem["msg"].removeprefix("Value error, ")
        if not problem["loc"]:
            invalid.append(detail)
        elif problem["type"] == "missing":
            missing.append(env_name(str(problem["loc"][0])))
        else:
            invalid.append(f"{env_name(str(problem['loc'][0]))} is invalid: {detail}")
    parts: list[str] = []
    if missing:
        verb = "is" if len(missing) == 1 else "are"
        where = (
            f"there is no {env_file.name} in {env_file.resolve().parent}: copy .env.example "
            f"to {env_file.name} and fill {'it' if len(missing) == 1 else 'them'} in"
            if env_file is not None and not env_file.exists()
            else f"add {'it' if len(missing) == 1 else 'them'} to .env or the environment "
            "(see .env.example)"
        )
        parts.append(f"{_and(missing)} {verb} not set: {where}")
    parts.extend(invalid)
    return "; ".join(parts) + "."
