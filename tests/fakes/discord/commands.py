"""Registered application commands (global and per guild), with Discord's validation."""

from __future__ import annotations

import re
from typing import Any

from .errors import DiscordError, field_error, invalid_form_body
from .snowflakes import SnowflakeFactory

_CHAT_INPUT = 1
_NAME = re.compile(r"^[-_\w]{1,32}$")
_MENU_NAME = re.compile(r"^[-_'\w ]{1,32}$")
"""User and message (context-menu) commands may use capitals and spaces."""
_SUBCOMMAND_TYPES = (1, 2)


class CommandStore:
    """Commands as `PUT .../commands` left them; ids stay stable across re-syncs."""

    def __init__(self, snowflakes: SnowflakeFactory, application_id: int) -> None:
        self._snowflakes = snowflakes
        self._application_id = application_id
        self._scopes: dict[int | None, dict[tuple[str, int], dict[str, Any]]] = {}
        self._ids: dict[tuple[int | None, str, int], int] = {}

    def overwrite(self, guild_id: int | None, body: Any) -> list[dict[str, Any]]:
        """Bulk overwrite a scope (global when `guild_id` is None); returns the stored list."""
        if not isinstance(body, list):
            raise invalid_form_body(
                {"_errors": [{"code": "LIST_TYPE_CONVERT", "message": "Must be a list."}]}
            )
        errors: dict[str, Any] = {}
        seen: set[tuple[str, int]] = set()
        for index, command in enumerate(body):
            problem = _command_errors(command)
            key = (str(command.get("name")), int(command.get("type") or _CHAT_INPUT))
            if key in seen:
                problem = problem or field_error(
                    "APPLICATION_COMMANDS_DUPLICATE_NAME",
                    f"Application command names must be unique ({key[0]})",
                )
            seen.add(key)
            if problem:
                errors[str(index)] = problem
        if errors:
            raise invalid_form_body(errors)
        scope = {}
        for command in body:
            stored = self._stored(guild_id, command)
            scope[(stored["name"], stored["type"])] = stored
        self._scopes[guild_id] = scope
        return list(scope.values())

    def upsert(self, guild_id: int | None, command: Any) -> dict[str, Any]:
        """Create or replace one command."""
        problem = _command_errors(command)
        if problem:
            raise invalid_form_body(problem)
        stored = self._stored(guild_id, command)
        self._scopes.setdefault(guild_id, {})[(stored["name"], stored["type"])] = stored
        return stored

    def delete(self, guild_id: int | None, command_id: int) -> None:
        """Delete one command by id."""
        scope = self._scopes.get(guild_id, {})
        for key, command in list(scope.items()):
            if int(command["id"]) == command_id:
                del scope[key]
                return
        raise DiscordError(404, 10063, "Unknown application command")

    def in_scope(self, guild_id: int | None) -> list[dict[str, Any]]:
        """Commands registered in a scope."""
        return list(self._scopes.get(guild_id, {}).values())

    def find(
        self, name: str, guild_id: int | None, command_type: int = _CHAT_INPUT
    ) -> dict[str, Any] | None:
        """The command a user would invoke: guild-scoped first, then global."""
        scopes = (guild_id, None) if guild_id is not None else (None,)
        for scope in scopes:
            command = self._scopes.get(scope, {}).get((name, command_type))
            if command is not None:
                return command
        return None

    def _stored(self, guild_id: int | None, command: dict[str, Any]) -> dict[str, Any]:
        kind = int(command.get("type") or _CHAT_INPUT)
        key = (guild_id, str(command["name"]), kind)
        command_id = self._ids.setdefault(key, self._snowflakes.next())
        stored: dict[str, Any] = {
            "id": str(command_id),
            "application_id": str(self._application_id),
            "version": str(self._snowflakes.next()),
            "type": kind,
            "name": command["name"],
            "name_localizations": command.get("name_localizations"),
            "description": command.get("description", ""),
            "description_localizations": command.get("description_localizations"),
            "options": command.get("options") or [],
            "default_member_permissions": command.get("default_member_permissions"),
            "dm_permission": command.get("dm_permission", True),
            "contexts": command.get("contexts"),
            "integration_types": command.get("integration_types") or [0],
            "nsfw": bool(command.get("nsfw", False)),
        }
        if guild_id is not None:
            stored["guild_id"] = str(guild_id)
        return stored


def _command_errors(command: Any) -> dict[str, Any]:
    if not isinstance(command, dict):
        return field_error("DICT_TYPE_CONVERT", "Only dictionaries may be used in a ModelType")
    kind = int(command.get("type") or _CHAT_INPUT)
    errors: dict[str, Any] = {}
    name = command.get("name")
    pattern = _NAME if kind == _CHAT_INPUT else _MENU_NAME
    if (
        not isinstance(name, str)
        or not pattern.match(name)
        or (kind == _CHAT_INPUT and name != name.lower())
    ):
        errors["name"] = field_error(
            "APPLICATION_COMMAND_INVALID_NAME", f"Command name is invalid: {name!r}"
        )
    description = command.get("description") or ""
    if kind == _CHAT_INPUT and not 1 <= len(description) <= 100:
        errors["description"] = field_error(
            "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length."
        )
    if kind != _CHAT_INPUT and description:
        errors["description"] = field_error(
            "APPLICATION_COMMAND_CONTEXT_MENU_DESCRIPTION",
            "Context menu commands cannot have description",
        )
    if kind != _CHAT_INPUT and command.get("options"):
        errors["options"] = field_error(
            "APPLICATION_COMMAND_OPTIONS_INVALID", "Context menu commands cannot have options"
        )
    option_errors = _options_errors(command.get("options") or [])
    if option_errors:
        errors["options"] = option_errors
    return errors


def _options_errors(options: list[dict[str, Any]]) -> dict[str, Any]:
    if len(options) > 25:
        return field_error("BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
    errors: dict[str, Any] = {}
    seen_optional = False
    for index, option in enumerate(options):
        one: dict[str, Any] = {}
        name = option.get("name")
        if not isinstance(name, str) or not _NAME.match(name) or name != name.lower():
            one["name"] = field_error(
                "APPLICATION_COMMAND_INVALID_NAME", f"Option name is invalid: {name!r}"
            )
        if not 1 <= len(option.get("description") or "") <= 100:
            one["description"] = field_error(
                "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length."
            )
        if len(option.get("choices") or []) > 25:
            one["choices"] = field_error("BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
        if option.get("type") in _SUBCOMMAND_TYPES:
            nested = _options_errors(option.get("options") or [])
            if nested:
                one["options"] = nested
        elif option.get("required"):
            if seen_optional:
                one["required"] = field_error(
                    "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                    "Required options must be placed before non-required options",
                )
        else:
            seen_optional = True
        if one:
            errors[str(index)] = one
    return errors
