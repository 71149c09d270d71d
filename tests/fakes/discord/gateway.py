"""Gateway v10 over aiohttp websockets: sessions, sharding, intents, resume and control ops."""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from .intents import PRIVILEGED_INTENTS, Intent, required_intent
from .payloads import guild_create_payload, member_payload, user_payload
from .snowflakes import shard_of
from .world import Guild, World

OP_DISPATCH = 0
OP_HEARTBEAT = 1
OP_IDENTIFY = 2
OP_PRESENCE = 3
OP_VOICE_STATE = 4
OP_RESUME = 6
OP_RECONNECT = 7
OP_REQUEST_MEMBERS = 8
OP_INVALID_SESSION = 9
OP_HELLO = 10
OP_HEARTBEAT_ACK = 11


@dataclass(frozen=True)
class SentEvent:
    """One dispatch as a session received it (after intent filtering and redaction)."""

    session_id: str
    shard: tuple[int, int] | None
    seq: int
    event: str
    data: dict[str, Any]
    at: float


@dataclass
class _Close:
    code: int
    message: str


class _Connection:
    """One websocket plus an ordered writer, so dispatch never awaits the socket."""

    def __init__(self, ws: web.WebSocketResponse) -> None:
        self.ws = ws
        self.queue: asyncio.Queue[str | _Close] = asyncio.Queue()
        self.session: GatewaySession | None = None
        self.server_closed = False
        self.writer = asyncio.create_task(self._write())

    def send(self, frame: dict[str, Any]) -> None:
        self.queue.put_nowait(json.dumps(frame))

    def send_text(self, text: str) -> None:
        self.queue.put_nowait(text)

    def close(self, code: int, message: str = "") -> None:
        self.server_closed = True
        self.queue.put_nowait(_Close(code, message))

    async def _write(self) -> None:
        try:
            while True:
                item = await self.queue.get()
                try:
                    if isinstance(item, _Close):
                        await self.ws.close(code=item.code, message=item.message.encode())
                        return
                    await self.ws.send_str(item)
                except (ConnectionError, RuntimeError):
                    return
                finally:
                    self.queue.task_done()
        finally:
            while not self.queue.empty():
                self.queue.get_nowait()
                self.queue.task_done()


@dataclass
class GatewaySession:
    """An identified gateway session; survives its websocket so it can be RESUMEd."""

    id: str
    intents: int
    shard: tuple[int, int] | None
    identify: dict[str, Any]
    seq: int = 0
    frames: list[tuple[int, str]] = field(default_factory=list)
    """Every dispatch as serialized when sent, kept for RESUME replay."""
    connection: _Connection | None = field(default=None, repr=False)
    invalidated: bool = False
    resumes: int = 0

    @property
    def connected(self) -> bool:
        """Whether a websocket is currently attached."""
        return self.connection is not None

    def owns_guild(self, guild_id: int) -> bool:
        """Whether this session's shard receives the guild's events."""
        if self.shard is None:
            return True
        return shard_of(guild_id, self.shard[1]) == self.shard[0]

    @property
    def receives_dms(self) -> bool:
        """DMs go to shard 0 only."""
        return self.shard is None or self.shard[0] == 0


class GatewayHub:
    """All gateway sessions of the fake; routes dispatches by shard and intents."""

    def __init__(
        self,
        world: World,
        *,
        token: str,
        heartbeat_interval_ms: int,
        resume_url: Callable[[], str],
    ) -> None:
        self.world = world
        self.token = token
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self._resume_url = resume_url
        self.sessions: dict[str, GatewaySession] = {}
        self.sent: list[SentEvent] = []
        self.received: list[dict[str, Any]] = []
        self._connections: set[_Connection] = set()
        self.changed: Callable[[], None] = lambda: None
        self.accepting = True
        """False while the gateway is "down": websocket upgrades get 503."""

    # -- websocket endpoint ---------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """The aiohttp handler for `/gateway/`."""
        if not self.accepting:
            return web.Response(status=503, text="gateway down")
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        conn = _Connection(ws)
        self._connections.add(conn)
        conn.send({"op": OP_HELLO, "d": {"heartbeat_interval": self.heartbeat_interval_ms}})
        try:
            async for msg in ws:
                if msg.type is WSMsgType.TEXT:
                    self._on_frame(conn, json.loads(msg.data))
                elif msg.type is WSMsgType.ERROR:
                    break
        finally:
            client_ended = not conn.server_closed and ws.close_code in (1000, 1001)
            if conn.session is not None and client_ended:
                conn.session.invalidated = True  # a clean client close ends the session
            self._detach(conn)
            await self._stop(conn)
            self.changed()
        return ws

    def _detach(self, conn: _Connection) -> None:
        self._connections.discard(conn)
        if conn.session is not None and conn.session.connection is conn:
            conn.session.connection = None

    async def _stop(self, conn: _Connection) -> None:
        if not conn.writer.done():
            conn.writer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await conn.writer
        if not conn.ws.closed:
            await conn.ws.close()

    def _on_frame(self, conn: _Connection, frame: dict[str, Any]) -> None:
        self.received.append(frame)
        op = frame.get("op")
        data = frame.get("d")
        if op == OP_HEARTBEAT:
            conn.send({"op": OP_HEARTBEAT_ACK})
        elif op == OP_IDENTIFY:
            self._identify(conn, data or {})
        elif op == OP_RESUME:
            self._resume(conn, data or {})
        elif conn.session is None:
            conn.close(4003, "Not authenticated.")
        elif op == OP_REQUEST_MEMBERS:
            self._request_members(conn, data or {})
        elif op in (OP_PRESENCE, OP_VOICE_STATE):
            pass  # accepted and ignored, as a text-only bot needs nothing back
        else:
            conn.close(4001, "Unknown opcode.")
        self.changed()

    def _identify(self, conn: _Connection, data: dict[str, Any]) -> None:
        if conn.session is not None:
            conn.close(4005, "Already authenticated.")
            return
        if data.get("token") != self.token:
            conn.close(4004, "Authentication failed.")
            return
        intents = data.get("intents")
        if not isinstance(intents, int):
            conn.close(4013, "Invalid intent(s).")
            return
        if intents & PRIVILEGED_INTENTS & ~self.world.application.approved_intents:
            conn.close(4014, "Disallowed intent(s).")
            return
        raw_shard = data.get("shard")
        shard: tuple[int, int] | None = None
        if raw_shard is not None:
            shard = (int(raw_shard[0]), int(raw_shard[1]))
            if not 0 <= shard[0] < shard[1]:
                conn.close(4010, "Invalid shard.")
                return
        session = GatewaySession(
            id=secrets.token_hex(16), intents=intents, shard=shard, identify=data
        )
        self.sessions[session.id] = session
        session.connection = conn
        conn.session = session
        self._send_ready(session)

    def _send_ready(self, session: GatewaySession) -> None:
        world = self.world
        guilds = [g for g in world.guilds.values() if session.owns_guild(g.id)]
        ready: dict[str, Any] = {
            "v": 10,
            "user": {**user_payload(world.bot_user), "verified": True, "mfa_enabled": False},
            "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
            "session_id": session.id,
            "session_type": "normal",
            "resume_gateway_url": self._resume_url(),
            "application": {"id": str(world.application.id), "flags": self.application_flags()},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "user_settings": {},
            "auth": {},
        }
        if session.shard is not None:
            ready["shard"] = list(session.shard)
        self._send_dispatch(session, "READY", ready)
        for guild in guilds:
            if session.intents & Intent.GUILDS:
                self._send_dispatch(session, "GUILD_CREATE", self._guild_create(session, guild))

    def _guild_create(self, session: GatewaySession, guild: Guild) -> dict[str, Any]:
        all_members = bool(session.intents & Intent.GUILD_PRESENCES)
        return guild_create_payload(self.world, guild, all_members=all_members)

    def dispatch_guild_create(self, guild: Guild) -> None:
        """GUILD_CREATE for a guild joined after READY, shaped per session's intents."""
        for session in self.sessions.values():
            if session.invalidated or not session.owns_guild(guild.id):
                continue
            if session.intents & Intent.GUILDS:
                payload = self._guild_create(session, guild)
                del payload["unavailable"]  # absent `unavailable` is how a join is told apart
                self._send_dispatch(session, "GUILD_CREATE", payload)
        self.changed()

    def application_flags(self) -> int:
        """Application flags advertising the approved ("limited") privileged intents."""
        approved = self.world.application.approved_intents
        flags = 0
        if approved & Intent.GUILD_PRESENCES:
            flags |= 1 << 13
        if approved & Intent.GUILD_MEMBERS:
            flags |= 1 << 15
        if approved & Intent.MESSAGE_CONTENT:
            flags |= 1 << 19
        return flags

    def _resume(self, conn: _Connection, data: dict[str, Any]) -> None:
        session = self.sessions.get(str(data.get("session_id")))
        if data.get("token") != self.token:
            conn.close(4004, "Authentication failed.")
            return
        if session is None or session.invalidated:
            conn.send({"op": OP_INVALID_SESSION, "d": False})
            return
        old = session.connection
        if old is not None and old is not conn:
            old.session = None
            old.close(4000, "Session resumed elsewhere.")
        session.connection = conn
        conn.session = session
        session.resumes += 1
        last_seq = int(data.get("seq") or 0)
        for seq, text in session.frames:
            if seq > last_seq:
                conn.send_text(text)
        self._send_dispatch(session, "RESUMED", {})

    def _request_members(self, conn: _Connection, data: dict[str, Any]) -> None:
        session = conn.session
        assert session is not None
        raw_ids = data.get("guild_id")
        guild_ids: list[Any] = raw_ids if isinstance(raw_ids, list) else [raw_ids]
        wanted_users = {int(u) for u in data.get("user_ids") or []}
        query = str(data.get("query") or "").lower()
        for raw in guild_ids:
            guild = self.world.guilds.get(int(raw or 0))
            if guild is None or not session.owns_guild(guild.id):
                continue
            members = [
                m
                for m in guild.members.values()
                if (not wanted_users or m.user_id in wanted_users)
                and self.world.users[m.user_id].username.lower().startswith(query)
            ]
            limit = int(data.get("limit") or 0)
            if limit:
                members = members[:limit]
            chunk: dict[str, Any] = {
                "guild_id": str(guild.id),
                "members": [member_payload(self.world, m) for m in members],
                "chunk_index": 0,
                "chunk_count": 1,
                "not_found": [],
            }
            if "nonce" in data:
                chunk["nonce"] = data["nonce"]
            self._send_dispatch(session, "GUILD_MEMBERS_CHUNK", chunk)

    # -- dispatching ----------------------------------------------------------------------

    def _send_dispatch(self, session: GatewaySession, event: str, data: dict[str, Any]) -> None:
        session.seq += 1
        # Serialize now: the world's dicts keep changing after the event went out.
        text = json.dumps({"op": OP_DISPATCH, "t": event, "s": session.seq, "d": data})
        session.frames.append((session.seq, text))
        snapshot = json.loads(text)["d"]
        self.sent.append(
            SentEvent(session.id, session.shard, session.seq, event, snapshot, time.monotonic())
        )
        if session.connection is not None:
            session.connection.send_text(text)

    def dispatch(self, event: str, data: dict[str, Any], *, guild_id: int | None) -> int:
        """Send an event to every session that should see it; returns how many did."""
        in_guild = guild_id is not None
        needed = required_intent(event, in_guild=in_guild)
        delivered = 0
        for session in self.sessions.values():
            if session.invalidated:
                continue
            if guild_id is not None and not session.owns_guild(guild_id):
                continue
            if guild_id is None and not session.receives_dms:
                continue
            if needed and not session.intents & needed:
                continue
            self._send_dispatch(session, event, self._redact(session, event, data, in_guild))
            delivered += 1
        self.changed()
        return delivered

    def _redact(
        self, session: GatewaySession, event: str, data: dict[str, Any], in_guild: bool
    ) -> dict[str, Any]:
        """MESSAGE_CONTENT rule: strip others' guild messages unless the bot is mentioned."""
        if event not in ("MESSAGE_CREATE", "MESSAGE_UPDATE") or not in_guild:
            return data
        if session.intents & Intent.MESSAGE_CONTENT:
            return data
        return redact_message(data, self.world.bot_user.id)

    # -- control --------------------------------------------------------------------------

    def _targets(self, session_id: str | None) -> list[GatewaySession]:
        if session_id is not None:
            return [self.sessions[session_id]]
        return [s for s in self.sessions.values() if s.connection is not None]

    def reconnect(self, session_id: str | None = None) -> None:
        """Send op 7 RECONNECT; discord.py reconnects and RESUMEs."""
        for session in self._targets(session_id):
            if session.connection is not None:
                session.connection.send({"op": OP_RECONNECT, "d": None})

    def invalidate(self, session_id: str | None = None, *, resumable: bool = False) -> None:
        """Send op 9 INVALID_SESSION; unless resumable the session is gone for good."""
        for session in self._targets(session_id):
            if not resumable:
                session.invalidated = True
            if session.connection is not None:
                session.connection.send({"op": OP_INVALID_SESSION, "d": resumable})

    def close(self, code: int = 4000, session_id: str | None = None, message: str = "") -> None:
        """Close sessions' websockets with a close code (the session stays resumable)."""
        for session in self._targets(session_id):
            if session.connection is not None:
                session.connection.close(code, message)

    async def drain(self, timeout: float = 5.0) -> None:
        """Wait until every queued frame has been written to its socket."""
        joins = [c.queue.join() for c in list(self._connections)]
        if joins:
            await asyncio.wait_for(asyncio.gather(*joins), timeout)

    async def shutdown(self) -> None:
        """Close every websocket (1001 going away) and stop the writers."""
        for conn in list(self._connections):
            conn.close(1001, "Server shutting down.")
        with contextlib.suppress(TimeoutError):
            await self.drain(timeout=2.0)
        for conn in list(self._connections):
            await self._stop(conn)


def redact_message(data: dict[str, Any], bot_user_id: int) -> dict[str, Any]:
    """A guild message as a bot without the MESSAGE_CONTENT intent sees it."""
    author = data.get("author") or {}
    if str(author.get("id")) == str(bot_user_id):
        return data
    if any(str(u.get("id")) == str(bot_user_id) for u in data.get("mentions") or []):
        return data
    redacted = {**data, "content": "", "embeds": [], "attachments": [], "components": []}
    redacted.pop("poll", None)
    return redacted
