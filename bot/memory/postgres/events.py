"""Telling the other processes that share the database what they must drop from memory.

Every process caches windows, sheets, pins and summaries. `forget_user`, `save_sheet` and
`clear_sheet` send a notification in their transaction (delivered on commit, and only
then); each store with a callback listens on one dedicated connection outside the pool,
re-opened if it drops. A notice carries its kind as the key of the user id, the schema
(deployments may share a database) and the sending store's random name: no text.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import asyncpg

from bot.memory.backend import FORGOTTEN, SHEET, UserCallback
from bot.memory.postgres.target import DRIVER_ERRORS, PostgresTarget, translate_error

log = logging.getLogger(__name__)

CHANNEL = "ensemble_memory"
"""The notification channel (database-wide, whatever the schema)."""

KINDS = (FORGOTTEN, SHEET)


def notify_sql(kind: str) -> str:
    """The statement a change of `kind` runs in its transaction, with the user id and the
    sending store's name.
    """
    return (
        f"SELECT pg_notify('{CHANNEL}', json_build_object("
        f"'{kind}', $1::BIGINT, 'schema', COALESCE(current_schema(), ''), 'sender', $2::TEXT"
        ")::TEXT)"
    )


PING_INTERVAL_S = 30.0
"""How often the listening connection is checked, in case it died without a word."""
RECONNECT_DELAYS_S = (0.1, 0.5, 1.0, 2.0, 5.0)
"""Waits between attempts to re-open the listening connection; the last one repeats."""


class MemoryListener:
    """One store's listening connection and the callbacks it reports notices to, by kind."""

    def __init__(self, target: PostgresTarget, sender: str) -> None:
        self._target = target
        self._sender = sender
        self._callbacks: dict[str, list[UserCallback]] = {kind: [] for kind in KINDS}
        self._task: asyncio.Task[None] | None = None
        self._conn: Any = None
        self._schema = ""
        self._closed = False
        self.connections = 0
        """How many times the listening connection was opened (1 unless it dropped)."""

    @property
    def connection_pid(self) -> int | None:
        """The server process of the listening connection, while it is open."""
        conn = self._conn
        return None if conn is None or conn.is_closed() else int(conn.get_server_pid())

    async def subscribe(self, callback: UserCallback, kind: str = FORGOTTEN) -> None:
        """Report notices of `kind` (`FORGOTTEN` or `SHEET`) to `callback`.

        The first call opens the listening connection. After a reconnect every callback, of
        every kind, gets None: notices may have been missed meanwhile.

        Raises:
            DatabaseUnavailableError: the connection could not be opened.

        """
        if self._closed:
            raise RuntimeError("the store is closed")
        self._callbacks[kind].append(callback)
        if self._task is None:
            lost = await self._listen()
            self._task = asyncio.create_task(self._keep_listening(lost), name="memory-listener")

    async def close(self) -> None:
        """Stop listening and close the connection; calling it twice is harmless."""
        self._closed = True
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        conn, self._conn = self._conn, None
        if conn is not None and not conn.is_closed():
            try:
                await asyncio.wait_for(conn.close(), self._target.options.connect_timeout)
            except DRIVER_ERRORS:
                conn.terminate()

    async def _listen(self) -> asyncio.Event:
        """Open a new connection listening on the channel; the event is set when it is lost."""
        options = self._target.options
        try:
            conn = await asyncpg.connect(
                self._target.dsn,
                timeout=options.connect_timeout,
                statement_cache_size=0,
                server_settings=options.server_settings(),
            )
        except DRIVER_ERRORS as exc:
            raise translate_error(exc, self._target) from exc
        lost = asyncio.Event()
        conn.add_termination_listener(lambda _conn: lost.set())
        try:
            self._schema = await conn.fetchval("SELECT COALESCE(current_schema(), '')")
            await conn.add_listener(CHANNEL, self._notified)
        except DRIVER_ERRORS as exc:
            conn.terminate()
            raise translate_error(exc, self._target) from exc
        except BaseException:
            conn.terminate()
            raise
        self._conn = conn
        self.connections += 1
        return lost

    async def _keep_listening(self, lost: asyncio.Event) -> None:
        """Watch the connection; when it drops, open another and report a possible gap."""
        while True:
            await self._watch(lost)
            if self._conn is not None:
                self._conn.terminate()
            log.warning(
                "%s: lost the connection that hears other processes forget users; reconnecting",
                self._target.display,
            )
            lost = await self._reconnect()
            log.info("%s: listening for forgotten users again", self._target.display)
            # Notices committed while nobody listened were missed: all users may be concerned.
            for kind in KINDS:
                self._report(kind, None)

    async def _watch(self, lost: asyncio.Event) -> None:
        """Return when the connection is gone, checking it every PING_INTERVAL_S."""
        conn = self._conn
        while conn is not None and not conn.is_closed():
            try:
                await asyncio.wait_for(lost.wait(), PING_INTERVAL_S)
            except TimeoutError:
                try:
                    await asyncio.wait_for(
                        conn.fetchval("SELECT 1"), self._target.options.connect_timeout
                    )
                except DRIVER_ERRORS:
                    return
            else:
                return

    async def _reconnect(self) -> asyncio.Event:
        attempt = 0
        while True:
            await asyncio.sleep(RECONNECT_DELAYS_S[min(attempt, len(RECONNECT_DELAYS_S) - 1)])
            attempt += 1
            try:
                return await self._listen()
            except Exception as exc:  # keep trying: the store itself stays usable
                if attempt == len(RECONNECT_DELAYS_S):
                    log.warning("%s: still cannot listen: %s", self._target.display, exc)

    def _notified(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        try:
            event: Any = json.loads(payload)
            schema, sender = event["schema"], event["sender"]
            kind = next((k for k in KINDS if k in event), None)
            user_id = event.get(kind) if kind else None
        except (ValueError, TypeError, KeyError):
            log.debug("Ignored a notification on %s that is not Ensemble's", CHANNEL)
            return
        if kind is None or type(user_id) is not int:
            return  # an event this version doesn't know
        if schema != self._schema or sender == self._sender:
            return  # another deployment's, or our own
        self._report(kind, user_id)

    def _report(self, kind: str, user_id: int | None) -> None:
        for callback in list(self._callbacks[kind]):
            try:
                callback(user_id)
            except Exception:
                log.exception("A callback for %s notices failed", kind)
