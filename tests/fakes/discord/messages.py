"""Creating, editing and deleting messages: payloads, mentions, attachments and dispatch."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from .attachments import AttachmentStore
from .errors import field_error, invalid_form_body
from .gateway import GatewayHub
from .payloads import member_payload, user_payload
from .recording import RecordedFile
from .snowflakes import now_iso, snowflake_iso
from .validation import check_edit_result, check_message_body
from .world import Channel, Guild, StoredMessage, World

DEFAULT_PARSE = ("users", "roles", "everyone")
FLAG_EPHEMERAL = 1 << 6
FLAG_LOADING = 1 << 7
FLAG_HAS_THREAD = 1 << 5
FLAG_SUPPRESS_EMBEDS = 1 << 2
FLAG_SUPPRESS_NOTIFICATIONS = 1 << 12
FLAG_COMPONENTS_V2 = 1 << 15
SENDABLE_FLAGS = FLAG_SUPPRESS_EMBEDS | FLAG_SUPPRESS_NOTIFICATIONS | FLAG_COMPONENTS_V2
"""Flags a bot or webhook may set on a new message; anything else is dropped, as Discord does."""

_USER_MENTION = re.compile(r"<@!?(\d+)>")
_ROLE_MENTION = re.compile(r"<@&(\d+)>")
_EVERYONE = re.compile(r"@(everyone|here)\b")


@dataclass(frozen=True)
class Author:
    """Who a new message is from, as the message object shows it."""

    payload: dict[str, Any]
    user_id: int | None = None
    """The real user id (None for webhook pseudo-users)."""
    webhook_id: int | None = None
    application_id: int | None = None
    can_mention_everyone: bool = False
    default_parse: tuple[str, ...] = DEFAULT_PARSE


class MessageService:
    """The single place that turns request bodies into stored, dispatched messages."""

    def __init__(self, world: World, hub: GatewayHub, attachments: AttachmentStore) -> None:
        self.world = world
        self.hub = hub
        self.attachments = attachments

    # -- create / edit / delete -----------------------------------------------------------

    def create(
        self,
        channel: Channel,
        author: Author,
        body: dict[str, Any],
        files: Sequence[RecordedFile] = (),
        *,
        message_type: int | None = None,
        extra_mentions: Iterable[int] = (),
        interaction_metadata: dict[str, Any] | None = None,
        interaction_id: int | None = None,
        avatar_url: str | None = None,
        validate: bool = True,
        allowed_flags: int = SENDABLE_FLAGS,
    ) -> StoredMessage:
        """Validate `body`, store the new message and dispatch MESSAGE_CREATE (unless ephemeral)."""
        if validate:
            check_message_body(body, creating=True, has_files=bool(files))
        message_id = self.world.snowflakes.next()
        flags = int(body.get("flags") or 0) & allowed_flags
        reference = self._reference(channel, body.get("message_reference"))
        kind = message_type if message_type is not None else (19 if reference else 0)
        payload: dict[str, Any] = {
            "id": str(message_id),
            "channel_id": str(channel.id),
            "type": kind,
            "content": str(body.get("content") or ""),
            "author": author.payload,
            "attachments": self._new_attachments(
                body.get("attachments"), files, keep=_served(body.get("attachments"))
            ),
            "embeds": list(body.get("embeds") or []),
            "components": list(body.get("components") or []),
            "sticker_items": [],
            "pinned": False,
            "tts": bool(body.get("tts", False)),
            "timestamp": snowflake_iso(message_id),
            "edited_timestamp": None,
            "flags": flags,
        }
        if "nonce" in body and body["nonce"] is not None:
            payload["nonce"] = body["nonce"]
        if author.webhook_id is not None:
            payload["webhook_id"] = str(author.webhook_id)
        if author.application_id is not None:
            payload["application_id"] = str(author.application_id)
        if interaction_metadata is not None:
            payload["interaction_metadata"] = interaction_metadata
            payload["interaction"] = {
                "id": interaction_metadata["id"],
                "type": interaction_metadata["type"],
                "name": interaction_metadata.get("name", ""),
                "user": interaction_metadata["user"],
            }
        if body.get("poll") is not None:
            payload["poll"] = body["poll"]
        replied_author: int | None = None
        if reference is not None:
            ref_payload, referenced = reference
            payload["message_reference"] = ref_payload
            payload["referenced_message"] = _without_reference(referenced.payload)
            if referenced.webhook_id is None:
                replied_author = referenced.author_id
        stored = StoredMessage(
            payload=payload,
            allowed_mentions=body.get("allowed_mentions"),
            avatar_url=avatar_url,
            content_history=[payload["content"]],
            interaction_id=interaction_id,
        )
        self._apply_mentions(
            stored,
            channel,
            author,
            body.get("allowed_mentions"),
            extra=extra_mentions,
            replied_author=replied_author,
        )
        self.world.store_message(stored)
        if not flags & FLAG_EPHEMERAL:
            self.dispatch("MESSAGE_CREATE", stored)
        return stored

    def edit(
        self,
        stored: StoredMessage,
        author: Author,
        body: dict[str, Any],
        files: Sequence[RecordedFile] = (),
    ) -> StoredMessage:
        """Apply an edit body (absent fields stay unchanged) and dispatch MESSAGE_UPDATE."""
        check_message_body(body, creating=False, has_files=bool(files))
        payload = stored.payload
        changed = dict(payload)
        if "content" in body:
            changed["content"] = str(body["content"] or "")
        if "embeds" in body:
            changed["embeds"] = list(body["embeds"] or [])
        if "components" in body:
            changed["components"] = list(body["components"] or [])
        if "flags" in body and body["flags"] is not None:
            # Only display flags can change; ephemeral/loading stay as the message was created.
            keep = payload.get("flags", 0) & (FLAG_EPHEMERAL | FLAG_HAS_THREAD)
            changed["flags"] = (int(body["flags"]) & ~(FLAG_EPHEMERAL | FLAG_LOADING)) | keep
        if "attachments" in body or files:
            existing = {a["id"]: a for a in payload.get("attachments", [])}
            wanted = body.get("attachments")
            kept = (
                [existing[str(a["id"])] for a in wanted or [] if str(a.get("id")) in existing]
                if "attachments" in body
                else list(existing.values())
            )
            changed["attachments"] = self._new_attachments(wanted, files, keep=kept)
        check_edit_result(changed)
        changed["edited_timestamp"] = now_iso()
        payload.clear()
        payload.update(changed)
        if "allowed_mentions" in body:
            stored.allowed_mentions = body["allowed_mentions"]
        channel = self.world.channels[stored.channel_id]
        if "content" in body:
            stored.content_history.append(payload["content"])
            self._apply_mentions(stored, channel, author, body.get("allowed_mentions"))
        if not payload.get("flags", 0) & FLAG_EPHEMERAL:
            self.dispatch("MESSAGE_UPDATE", stored)
        return stored

    def clear_loading(self, stored: StoredMessage) -> None:
        """Drop the LOADING flag (a deferred response got its real content)."""
        stored.payload["flags"] = int(stored.payload.get("flags", 0)) & ~FLAG_LOADING

    def delete(self, stored: StoredMessage) -> None:
        """Mark a message deleted and dispatch MESSAGE_DELETE."""
        if stored.deleted:
            return
        stored.deleted = True
        channel = self.world.channels.get(stored.channel_id)
        if stored.flags & FLAG_EPHEMERAL or channel is None:
            return
        data: dict[str, Any] = {"id": str(stored.id), "channel_id": str(stored.channel_id)}
        if channel.guild_id is not None:
            data["guild_id"] = str(channel.guild_id)
        self.hub.dispatch("MESSAGE_DELETE", data, guild_id=channel.guild_id)

    # -- gateway --------------------------------------------------------------------------

    def dispatch(self, event: str, stored: StoredMessage) -> None:
        """Dispatch MESSAGE_CREATE / MESSAGE_UPDATE with the gateway-only fields added."""
        channel = self.world.channels[stored.channel_id]
        self.hub.dispatch(event, self.gateway_payload(stored), guild_id=channel.guild_id)

    def gateway_payload(self, stored: StoredMessage) -> dict[str, Any]:
        """The message plus `guild_id` and the author's partial `member` (gateway shape)."""
        channel = self.world.channels[stored.channel_id]
        data = dict(stored.payload)
        if channel.guild_id is None:
            return data
        data["guild_id"] = str(channel.guild_id)
        guild = self.world.guilds[channel.guild_id]
        if stored.webhook_id is None:
            member = guild.members.get(stored.author_id)
            if member is not None:
                data["member"] = member_payload(self.world, member, with_user=False)
        return data

    # -- helpers --------------------------------------------------------------------------

    def find(self, channel_id: int, message_id: int) -> StoredMessage | None:
        """A live message in a channel."""
        stored = self.world.messages.get(message_id)
        if stored is None or stored.deleted or stored.channel_id != channel_id:
            return None
        return stored

    def _reference(self, channel: Channel, raw: Any) -> tuple[dict[str, Any], StoredMessage] | None:
        if not raw:
            return None
        message_id = int(raw.get("message_id") or 0)
        ref_channel = int(raw.get("channel_id") or channel.id)
        target = self.find(ref_channel, message_id)
        if target is None:
            if raw.get("fail_if_not_exists", True):
                raise invalid_form_body(
                    {
                        "message_reference": field_error(
                            "MESSAGE_REFERENCE_UNKNOWN_MESSAGE", "Unknown message"
                        )
                    }
                )
            return None
        ref: dict[str, Any] = {
            "type": 0,
            "message_id": str(target.id),
            "channel_id": str(target.channel_id),
        }
        if channel.guild_id is not None:
            ref["guild_id"] = str(channel.guild_id)
        return ref, target

    def _new_attachments(
        self, wanted: Any, files: Sequence[RecordedFile], *, keep: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        if not files:
            return keep
        by_index = {}
        for f in files:
            match = re.fullmatch(r"files\[(\d+)\]", f.field)
            by_index[match.group(1) if match else f.field] = f
        descriptions = {
            str(a.get("id")): a.get("description") for a in wanted or [] if isinstance(a, dict)
        }
        created = [
            self.attachments.add(
                f.filename,
                f.data,
                content_type=f.content_type or None,
                description=descriptions.get(key),
            )
            for key, f in by_index.items()
        ]
        return keep + created

    def _apply_mentions(
        self,
        stored: StoredMessage,
        channel: Channel,
        author: Author,
        allowed: dict[str, Any] | None,
        *,
        extra: Iterable[int] = (),
        replied_author: int | None = None,
    ) -> None:
        content = stored.content
        guild = self.world.guild_of(channel)
        if allowed is None:
            parse, users, roles, replied = set(author.default_parse), set(), set(), True
        else:
            parse = set(allowed.get("parse") or [])
            users = {int(u) for u in allowed.get("users") or []}
            roles = {int(r) for r in allowed.get("roles") or []}
            replied = bool(allowed.get("replied_user", False))
        user_ids: list[int] = []
        for raw in _USER_MENTION.findall(content):
            uid = int(raw)
            if uid in self.world.users and ("users" in parse or uid in users):
                user_ids.append(uid)
        user_ids.extend(extra)
        if replied_author is not None and replied:
            user_ids.append(replied_author)
        role_ids = [
            int(raw)
            for raw in _ROLE_MENTION.findall(content)
            if guild is not None
            and int(raw) in guild.roles
            and ("roles" in parse or int(raw) in roles)
        ]
        everyone = (
            "everyone" in parse and author.can_mention_everyone and bool(_EVERYONE.search(content))
        )
        stored.payload["mentions"] = [
            self._mention_payload(uid, guild) for uid in dict.fromkeys(user_ids)
        ]
        stored.payload["mention_roles"] = [str(r) for r in dict.fromkeys(role_ids)]
        stored.payload["mention_everyone"] = everyone

    def _mention_payload(self, user_id: int, guild: Guild | None) -> dict[str, Any]:
        data = user_payload(self.world.users[user_id])
        member = guild.members.get(user_id) if guild is not None else None
        if member is not None:
            data["member"] = member_payload(self.world, member, with_user=False)
        return data


def _served(attachments: Any) -> list[dict[str, Any]]:
    """Attachment objects that already point at served bytes (user messages)."""
    return [dict(a) for a in attachments or [] if isinstance(a, dict) and "url" in a]


def _without_reference(payload: dict[str, Any]) -> dict[str, Any]:
    nested = dict(payload)
    nested.pop("referenced_message", None)
    return nested
