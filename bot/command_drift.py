"""Compare the slash commands in the code with those registered on Discord (plain dicts).

Both sides are Discord's JSON shape: the code's from discord.py's `command.to_dict(tree)`,
Discord's from `GET .../commands`. Only what players see and what Discord enforces is
compared; ids, versions and fields Discord fills in by itself are not.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

CHAT_INPUT = 1

_OPTION_DEFAULTS: dict[str, Any] = {
    "required": False,
    "autocomplete": False,
    "choices": [],
    "channel_types": [],
    "min_value": None,
    "max_value": None,
    "min_length": None,
    "max_length": None,
    "name_localizations": {},
    "description_localizations": {},
}


def _localizations(value: Any) -> dict[str, Any]:
    return dict(value or {})


def _choice(choice: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "name": choice.get("name"),
        "value": choice.get("value"),
        "name_localizations": _localizations(choice.get("name_localizations")),
    }


def _option(option: Mapping[str, Any]) -> dict[str, Any]:
    shaped: dict[str, Any] = {
        "type": option.get("type"),
        "name": option.get("name"),
        "description": option.get("description") or "",
    }
    for key, default in _OPTION_DEFAULTS.items():
        value = option.get(key)
        shaped[key] = default if value is None else value
    shaped["name_localizations"] = _localizations(option.get("name_localizations"))
    shaped["description_localizations"] = _localizations(option.get("description_localizations"))
    shaped["choices"] = [_choice(c) for c in option.get("choices") or []]
    shaped["channel_types"] = sorted(option.get("channel_types") or [])
    shaped["options"] = [_option(o) for o in option.get("options") or []]
    return shaped


def command_shape(command: Mapping[str, Any], *, local: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of `command` that matter, normalised so equal commands compare equal.

    `local` is the code's version of the same command: optional fields the code leaves
    unset (contexts, integration types) are not compared, as Discord fills in defaults.
    """
    permissions = command.get("default_member_permissions")
    shaped: dict[str, Any] = {
        "type": int(command.get("type") or CHAT_INPUT),
        "name": command.get("name"),
        "description": command.get("description") or "",
        "name_localizations": _localizations(command.get("name_localizations")),
        "description_localizations": _localizations(command.get("description_localizations")),
        "default_member_permissions": None if permissions is None else str(permissions),
        "nsfw": bool(command.get("nsfw", False)),
        "options": [_option(o) for o in command.get("options") or []],
    }
    for key in ("contexts", "integration_types"):
        if local.get(key) is not None:
            shaped[key] = sorted(command.get(key) or [])
    return shaped


def _key(command: Mapping[str, Any]) -> tuple[str, int]:
    return str(command.get("name")), int(command.get("type") or CHAT_INPUT)


def describe_drift(
    in_code: Iterable[Mapping[str, Any]], registered: Iterable[Mapping[str, Any]]
) -> str | None:
    """How the registered commands differ from the code's, in a few words; None if equal.

    E.g. "not registered: scene, persona; changed: me; no longer in the code: old".
    """
    local = {_key(c): c for c in in_code}
    remote = {_key(c): c for c in registered}
    missing = [name for (name, kind) in local if (name, kind) not in remote]
    extra = [name for (name, kind) in remote if (name, kind) not in local]
    changed = [
        name
        for (name, kind), command in local.items()
        if (name, kind) in remote
        and command_shape(command, local=command)
        != command_shape(remote[(name, kind)], local=command)
    ]
    parts = []
    if missing:
        parts.append("not registered: " + ", ".join(missing))
    if changed:
        parts.append("changed: " + ", ".join(changed))
    if extra:
        parts.append("no longer in the code: " + ", ".join(extra))
    return "; ".join(parts) or None
