"""Interaction state and the INTERACTION_CREATE payloads for slash commands, clicks and modals."""

from __future__ import annotations

import copy
import secrets
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from .commands import CommandStore
from .payloads import channel_payload, member_payload, role_payload, user_payload
from .world import Channel, StoredMessage, User, World

ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024

PING = 1
APPLICATION_COMMAND = 2
MESSAGE_COMPONENT = 3
AUTOCOMPLETE = 4
MODAL_SUBMIT = 5

CHAT_INPUT_COMMAND = 1
USER_COMMAND = 2
MESSAGE_COMMAND = 3

_OPTION_SUBCOMMAND = 1
_OPTION_GROUP = 2
_OPTION_STRING = 3
_OPTION_INTEGER = 4
_OPTION_BOOLEAN = 5
_OPTION_USER = 6
_OPTION_CHANNEL = 7
_OPTION_ROLE = 8
_OPTION_MENTIONABLE = 9
_OPTION_NUMBER = 10
_OPTION_ATTACHMENT = 11


@dataclass
class InteractionCall:
    """One request the bot made with an interaction's id or token."""

    kind: str
    """`callback`, `get_original`, `edit_original`, `delete_original`, `followup`,
    `get_followup`, `edit_followup` or `delete_followup`."""
    body: Any
    status: int
    at: float
    callback_type: int | None = None
    message_id: int | None = None


@dataclass
class FakeInteraction:
    """An interaction the fake dispatched, and everything the bot did with it."""

    id: int
    token: str
    type: int
    payload: dict[str, Any]
    channel_id: int
    guild_id: int | None
    user_id: int
    created_at: float
    """On the fake's clock (see `FakeDiscord.advance_clock`)."""
    source_message_id: int | None = None
    response_type: int | None = None
    original_message_id: int | None = None
    followup_ids: list[int] = field(default_factory=list)
    calls: list[InteractionCall] = field(default_factory=list)
    modal: dict[str, Any] | None = None
    autocomplete_choices: list[dict[str, Any]] | None = None

    @property
    def acknowledged(self) -> bool:
        """Whether the initial callback succeeded."""
        return self.response_type is not None

    @property
    def data(self) -> dict[str, Any]:
        """The interaction's `data` object."""
        return dict(self.payload.get("data") or {})


class InteractionStore:
    """Creates interactions with real ids/tokens and finds them again by id or token."""

    def __init__(self, world: World, clock: Callable[[], float]) -> None:
        self.world = world
        self.clock = clock
        self.by_id: dict[int, FakeInteraction] = {}
        self.by_token: dict[str, FakeInteraction] = {}

    def __iter__(self) -> Iterator[FakeInteraction]:
        return iter(self.by_id.values())

    def create(
        self,
        kind: int,
        channel: Channel,
        user_id: int,
        data: dict[str, Any] | None,
        *,
        message: StoredMessage | None = None,
        locale: str = "en-US",
    ) -> FakeInteraction:
        """Build and remember an interaction (dispatching it is the caller's job)."""
        world = self.world
        interaction_id = world.snowflakes.next()
        token = f"aW50ZXJhY3Rpb24{interaction_id}:{secrets.token_urlsafe(32)}"
        guild = world.guild_of(channel)
        payload: dict[str, Any] = {
            "id": str(interaction_id),
            "application_id": str(world.application.id),
            "type": kind,
            "token": token,
            "version": 1,
            "locale": locale,
            "entitlements": [],
            "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
            "channel_id": str(channel.id),
            "channel": {
                **channel_payload(world, channel),
                "permissions": str(world.permissions(user_id, channel.id)),
            },
            "app_permissions": str(world.permissions(world.bot_user.id, channel.id)),
        }
        if data is not None:
            payload["data"] = data
        if guild is not None:
            member = guild.members[user_id]
            payload.update(
                {
                    "guild_id": str(guild.id),
                    "guild": {"id": str(guild.id), "locale": guild.locale, "features": []},
                    "guild_locale": guild.locale,
                    "member": {
                        **member_payload(world, member),
                        "permissions": str(world.permissions(user_id, channel.id)),
                    },
                    "authorizing_integration_owners": {"0": str(guild.id)},
                    "context": 0,
                }
            )
        else:
            payload.update(
                {
                    "user": user_payload(world.users[user_id]),
                    "authorizing_integration_owners": {"0": str(user_id)},
                    "context": 1,
                }
            )
        if message is not None:
            payload["message"] = copy.deepcopy(message.payload)
        interaction = FakeInteraction(
            id=interaction_id,
            token=token,
            type=kind,
            payload=payload,
            channel_id=channel.id,
            guild_id=None if guild is None else guild.id,
            user_id=user_id,
            created_at=self.clock(),
            source_message_id=None if message is None else message.id,
        )
        self.by_id[interaction_id] = interaction
        self.by_token[token] = interaction
        return interaction


# -- slash commands -------------------------------------------------------------------------


def slash_data(
    world: World,
    commands: CommandStore,
    command_path: str,
    options: Mapping[str, Any],
    *,
    guild_id: int | None,
    channel: Channel,
    attach: Callable[[str, bytes], dict[str, Any]],
    focused: str | None = None,
) -> dict[str, Any]:
    """The `data` of a chat-input interaction for "command [group] [subcommand]" and options."""
    parts = command_path.split()
    if not parts:
        raise ValueError("command_path must name a command")
    command = commands.find(parts[0], guild_id)
    if command is None:
        registered = [c["name"] for c in commands.in_scope(guild_id) + commands.in_scope(None)]
        raise ValueError(
            f"/{parts[0]} is not registered (registered: {registered}); sync the command tree first"
        )
    definitions: list[dict[str, Any]] = command.get("options") or []
    chain: list[tuple[str, int]] = []
    for part in parts[1:]:
        match = next(
            (
                o
                for o in definitions
                if o["name"] == part and o["type"] in (_OPTION_SUBCOMMAND, _OPTION_GROUP)
            ),
            None,
        )
        if match is None:
            raise ValueError(f"/{command_path}: no subcommand or group named {part!r}")
        chain.append((part, int(match["type"])))
        definitions = match.get("options") or []
    if any(o["type"] in (_OPTION_SUBCOMMAND, _OPTION_GROUP) for o in definitions):
        names = [o["name"] for o in definitions]
        raise ValueError(f"/{command_path} needs a subcommand: one of {names}")
    resolved: dict[str, dict[str, Any]] = {}
    leaf = [
        _option_payload(world, definitions, name, value, resolved, channel, attach, focused == name)
        for name, value in options.items()
    ]
    missing = [o["name"] for o in definitions if o.get("required") and o["name"] not in options]
    if missing and focused is None:
        raise ValueError(f"/{command_path} is missing required options {missing}")
    nested: list[dict[str, Any]] = leaf
    for name, kind in reversed(chain):
        nested = [{"name": name, "type": kind, "options": nested}]
    data: dict[str, Any] = {
        "id": command["id"],
        "name": command["name"],
        "type": command["type"],
        "options": nested,
    }
    if "guild_id" in command:
        data["guild_id"] = command["guild_id"]
    if resolved:
        data["resolved"] = resolved
    return data


def _option_payload(
    world: World,
    definitions: list[dict[str, Any]],
    name: str,
    value: Any,
    resolved: dict[str, dict[str, Any]],
    channel: Channel,
    attach: Callable[[str, bytes], dict[str, Any]],
    focused: bool,
) -> dict[str, Any]:
    definition = next((o for o in definitions if o["name"] == name), None)
    if definition is None:
        raise ValueError(
            f"unknown option {name!r}; expected one of {[o['name'] for o in definitions]}"
        )
    kind = int(definition["type"])
    option: dict[str, Any] = {"name": name, "type": kind}
    if focused:
        option["focused"] = True
        option["value"] = str(value)
        return option
    if kind == _OPTION_STRING:
        option["value"] = str(value)
    elif kind == _OPTION_INTEGER:
        option["value"] = int(value)
    elif kind == _OPTION_NUMBER:
        option["value"] = float(value)
    elif kind == _OPTION_BOOLEAN:
        option["value"] = bool(value)
    elif kind in (_OPTION_USER, _OPTION_MENTIONABLE) and _as_id(value) in world.users:
        user_id = _as_id(value)
        option["value"] = str(user_id)
        resolved.setdefault("users", {})[str(user_id)] = user_payload(world.users[user_id])
        guild = world.guild_of(channel)
        member = None if guild is None else guild.members.get(user_id)
        if member is not None:
            resolved.setdefault("members", {})[str(user_id)] = {
                **member_payload(world, member, with_user=False),
                "permissions": str(world.permissions(user_id, channel.id)),
            }
    elif kind in (_OPTION_ROLE, _OPTION_MENTIONABLE):
        guild = world.guild_of(channel)
        role = None if guild is None else guild.roles.get(_as_id(value))
        if role is None:
            raise ValueError(f"option {name!r}: {value!r} is not a role in this guild")
        option["value"] = str(role.id)
        resolved.setdefault("roles", {})[str(role.id)] = role_payload(role)
    elif kind == _OPTION_CHANNEL:
        target = world.channels.get(_as_id(value))
        if target is None:
            raise ValueError(f"option {name!r}: no channel {value!r}")
        option["value"] = str(target.id)
        resolved.setdefault("channels", {})[str(target.id)] = {
            **channel_payload(world, target),
            "permissions": str(world.permissions(world.bot_user.id, target.id)),
        }
    elif kind == _OPTION_ATTACHMENT:
        attachment = value if isinstance(value, dict) else attach(*value)
        option["value"] = attachment["id"]
        resolved.setdefault("attachments", {})[attachment["id"]] = attachment
    else:
        raise ValueError(f"option {name!r}: unsupported option type {kind} or value {value!r}")
    return option


def _as_id(value: Any) -> int:
    if isinstance(value, User):
        return value.id
    return int(getattr(value, "id", value))


def context_menu_data(
    world: World,
    commands: CommandStore,
    name: str,
    command_type: int,
    *,
    guild_id: int | None,
    channel: Channel,
    target_id: int,
) -> dict[str, Any]:
    """The `data` of a user (type 2) or message (type 3) context-menu command."""
    command = commands.find(name, guild_id, command_type)
    if command is None:
        raise ValueError(f"context-menu command {name!r} (type {command_type}) is not registered")
    resolved: dict[str, dict[str, Any]] = {}
    if command_type == USER_COMMAND:
        resolved["users"] = {str(target_id): user_payload(world.users[target_id])}
        guild = world.guild_of(channel)
        member = None if guild is None else guild.members.get(target_id)
        if member is not None:
            resolved["members"] = {
                str(target_id): {
                    **member_payload(world, member, with_user=False),
                    "permissions": str(world.permissions(target_id, channel.id)),
                }
            }
    else:
        message = world.messages[target_id]
        resolved["messages"] = {str(target_id): copy.deepcopy(message.payload)}
    data: dict[str, Any] = {
        "id": command["id"],
        "name": name,
        "type": command_type,
        "target_id": str(target_id),
        "resolved": resolved,
    }
    if "guild_id" in command:
        data["guild_id"] = command["guild_id"]
    return data


# -- components and modals ------------------------------------------------------------------


def walk_components(components: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Every component in a message or modal, depth first (rows, sections, containers, labels)."""
    for component in components:
        yield component
        children = list(component.get("components") or [])
        for key in ("accessory", "component"):
            if isinstance(component.get(key), dict):
                children.append(component[key])
        yield from walk_components(children)


def component_data(
    message: StoredMessage, custom_id: str, values: list[str] | None
) -> dict[str, Any]:
    """The `data` of a click on (or selection in) a message component."""
    component = next(
        (c for c in walk_components(message.components) if c.get("custom_id") == custom_id), None
    )
    if component is None:
        ids = [
            c.get("custom_id") for c in walk_components(message.components) if c.get("custom_id")
        ]
        raise ValueError(f"message {message.id} has no component {custom_id!r} (has {ids})")
    if component.get("disabled"):
        raise ValueError(f"component {custom_id!r} is disabled; Discord would not send the click")
    data: dict[str, Any] = {"custom_id": custom_id, "component_type": int(component["type"])}
    if int(component["type"]) != 2:
        data["values"] = list(values or [])
    return data


def modal_data(
    modal: dict[str, Any] | None, custom_id: str, values: Mapping[str, Any]
) -> dict[str, Any]:
    """The `data` of a modal submission, mirroring the shown modal's layout when known."""
    if modal is None:
        rows = [
            {"type": 1, "components": [_submitted(4, key, value)]} for key, value in values.items()
        ]
        return {"custom_id": custom_id, "components": rows}
    return {
        "custom_id": custom_id,
        "components": [_mirror(c, values) for c in modal.get("components", [])],
    }


def _mirror(component: dict[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    kind = int(component["type"])
    if kind == 1:
        return {
            "type": 1,
            "components": [_mirror(c, values) for c in component.get("components", [])],
        }
    if kind == 18:
        return {"type": 18, "component": _mirror(component["component"], values)}
    if kind == 10:
        return {"type": 10}
    custom_id = str(component.get("custom_id", ""))
    return _submitted(kind, custom_id, values.get(custom_id, component.get("value", "")))


def _submitted(kind: int, custom_id: str, value: Any) -> dict[str, Any]:
    if kind == 4:
        return {"type": 4, "custom_id": custom_id, "value": str(value)}
    picked = value if isinstance(value, list | tuple) else [value]
    return {"type": kind, "custom_id": custom_id, "values": [str(v) for v in picked]}
