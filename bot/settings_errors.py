"""Turn a settings validation failure into one line that names the variable."""

from __future__ import annotations

from pydantic import ValidationError

from bot.config import env_name


def describe_settings_error(error: ValidationError) -> str:
    """One human line per problem, naming the environment variable to fix."""
    lines: list[str] = []
    for problem in error.errors():
        detail = problem["msg"].removeprefix("Value error, ")
        if not problem["loc"]:
            lines.append(f"{detail}.")
            continue
        variable = env_name(str(problem["loc"][0]))
        if problem["type"] == "missing":
            lines.append(
                f"{variable} is not set: add it to .env or the environment (see .env.example)."
            )
        else:
            lines.append(f"{variable} is invalid: {detail}.")
    return "\n".join(lines)
