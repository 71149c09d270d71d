"""A ScenePort without discord.py: records every write, and fails on request.

Messages are split every `part_size` characters so multi-part replies are cheap to make.
`fail("edit", 2, PortError(...))` makes the second edit fail; `times=None` fails every one
from then on. A message can be deleted by a player (`delete(id)`): touching it then raises
`MessageGone`, as Discord's 404 10008 does.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field

from bot.engine import (
    Ending,
    IncomingMessage,
    Look,
    MessageGone,
    PortError,
    ReplyText,
    Shown,
)
from bot.models import Persona

STREAMING = "streaming"


@dataclass
class Message:
    """One message a reply created, with every look it was given."""

    id: int
    channel_id: int
    persona_id: str
    looks: list[tuple[str, str]] = field(default_factory=list)
    """(look, content) per write; look is "streaming" or a terminal `Look`."""
    deleted: bool = False

    @property
    def look(self) -> str:
        return self.looks[-1][0]

    @property
    def content(self) -> str:
        return self.looks[-1][1]


@dataclass
class Fault:
    kind: str
    nth: int
    error: PortError
    times: int | None = 1


class RecordingPort:
    """The engine's ScenePort, recording what Discord would show."""

    def __init__(self, *, part_size: int = 60, ids: Iterator[int] | None = None) -> None:
        self.part_size = part_size
        self.messages: dict[int, Message] = {}
        self.notices: list[tuple[int, str]] = []
        self.alerts: list[tuple[int, str]] = []
        self.missed: dict[int, list[IncomingMessage]] = {}
        self.available: set[int] | None = None
        self.age_restricted: set[int] = set()
        self.counts: dict[str, int] = {"send": 0, "edit": 0, "settle": 0, "delete": 0}
        self.readied: list[tuple[int, tuple[str, ...]]] = []
        self.faults: list[Fault] = []
        self._ids = ids if ids is not None else itertools.count(10_000)
        """Message ids; share one counter with the players' lines so ids grow with time."""

    # ---- test controls -----------------------------------------------------------------------

    def fail(self, kind: str, nth: int, error: PortError, *, times: int | None = 1) -> None:
        """Make the `nth` request of `kind` (send/edit/settle) fail, `times` times."""
        self.faults.append(Fault(kind, nth, error, times))

    def delete(self, message_id: int) -> None:
        """A player deletes a message."""
        self.messages[message_id].deleted = True

    def check(self, kind: str) -> None:
        self.counts[kind] += 1
        for fault in self.faults:
            if fault.kind == kind and self.counts[kind] >= fault.nth and fault.times != 0:
                if fault.times is not None:
                    fault.times -= 1
                raise fault.error

    def reply_messages(self, channel_id: int | None = None) -> list[Message]:
        return [
            m for m in self.messages.values() if channel_id is None or m.channel_id == channel_id
        ]

    # ---- ScenePort ---------------------------------------------------------------------------

    def open_reply(
        self, channel_id: int, persona: Persona, *, message_ids: Sequence[int] = ()
    ) -> RecordingOutlet:
        return RecordingOutlet(self, channel_id, persona, list(message_ids))

    async def get_ready(self, channel_id: int, personas: Sequence[Persona]) -> None:
        self.readied.append((channel_id, tuple(p.id for p in personas)))

    async def notice(self, channel_id: int, text: str, *, lifetime: float | None = None) -> bool:
        self.notices.append((channel_id, text))
        return True

    async def retire_controls(self, channel_id: int, persona: Persona, message_id: int) -> None:
        message = self.messages.get(message_id)
        if message is not None and not message.deleted:
            message.looks.append(("retired", message.content))

    async def missed_messages(
        self, channel_id: int, after_discord_id: int | None, limit: int
    ) -> list[IncomingMessage]:
        found = [
            m for m in self.missed.get(channel_id, []) if m.discord_id > (after_discord_id or 0)
        ]
        return found[:limit]

    async def tell_admins(self, guild_id: int, text: str, log_channel_id: int | None) -> bool:
        self.alerts.append((guild_id, text))
        return True

    def is_age_restricted(self, channel_id: int) -> bool:
        return channel_id in self.age_restricted

    def is_available(self, channel_id: int) -> bool:
        return self.available is None or channel_id in self.available


class RecordingOutlet:
    """One reply's messages in the recording port."""

    def __init__(
        self, port: RecordingPort, channel_id: int, persona: Persona, ids: list[int]
    ) -> None:
        self._port = port
        self._channel_id = channel_id
        self._persona = persona
        self._ids = ids
        self._parts: list[str] = [
            port.messages[i].content if i in port.messages else "" for i in ids
        ]
        self._text = "\n\n".join(self._parts)

    @property
    def shown(self) -> Shown:
        return Shown(self._text, tuple(self._ids), tuple(self._parts))

    def drop(self, message_id: int) -> None:
        if message_id in self._ids:
            index = self._ids.index(message_id)
            del self._ids[index], self._parts[index]
            self._text = "\n\n".join(self._parts)

    async def mirror(self, text: ReplyText, reply_id: int) -> AsyncIterator[Shown]:
        streamed = self._text if self._ids else None
        while not text.done:
            if text.text == streamed or not text.text.strip():
                await text.changed()
                continue
            await self._write(text.text, STREAMING)
            streamed = text.text
            yield self.shown

    async def read_back(self) -> Shown:
        alive = [i for i in self._ids if not self._port.messages[i].deleted]
        parts = [
            self._port.messages[i].content.split("\n-# ")[0].removesuffix(" ▌").strip()
            for i in alive
        ]
        self._ids, self._parts = alive, parts
        self._text = "\n\n".join(p for p in parts if p)
        return self.shown

    async def settle(self, ending: Ending) -> Shown:
        if not self._ids and not ending.text.strip() and not ending.note:
            return self.shown
        self._port.check("settle")
        await self._write(ending.text, ending.look.value, note=ending.note)
        return self.shown

    async def _write(self, text: str, look: str, *, note: str = "") -> None:
        port = self._port
        size = port.part_size
        body = text.strip()
        chunks = [body[i : i + size] for i in range(0, len(body), size)] or [""]
        for index, chunk in enumerate(chunks):
            shown = chunk + (" ▌" if look == STREAMING and index == len(chunks) - 1 else "")
            if index == len(chunks) - 1 and note:
                shown += f"\n-# {note}"
            if index < len(self._ids):
                message = port.messages[self._ids[index]]
                if message.deleted:
                    self.drop(message.id)
                    raise MessageGone(message.id)
                port.check("edit")
                message.looks.append((look if index == len(chunks) - 1 else "part", shown))
                self._parts[index] = chunk
            else:
                port.check("send")
                message = Message(next(port._ids), self._channel_id, self._persona.id)
                message.looks.append((look if index == len(chunks) - 1 else "part", shown))
                port.messages[message.id] = message
                self._ids.append(message.id)
                self._parts.append(chunk)
        if look != STREAMING:
            while len(self._ids) > len(chunks):
                extra = self._ids.pop()
                self._parts.pop()
                port.messages[extra].deleted = True
        self._text = body


TERMINAL = {look.value for look in Look} | {"part", "retired"}
