"""A process killed while writing to PostgreSQL loses nothing acknowledged, duplicates nothing."""

import asyncio
import sys
from pathlib import Path

import pytest

from bot.memory import open_store
from bot.models import ReplyStatus

from .helpers import CHANNEL, human

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[2]

CHILD_WRITES_FOREVER = """
import asyncio, sys
from bot.memory import NewMessage, open_store

async def main(url):
    store = await open_store(url)
    reply = await store.begin_reply(600, 500, "narrator", "Narrator")
    await store.save_progress(reply, "The storm rolls", [900001])
    print(f"reply {reply}", flush=True)
    n = 0
    while True:
        n += 1
        await store.add_message(NewMessage(600, 500, 100000 + n, 7, "Aria", f"line {n}"))
        await store.save_progress(reply, f"The storm rolls {n}", [900001, 900002])
        print(f"stored {n}", flush=True)

asyncio.run(main(sys.argv[1]))
"""


async def test_writer_killed_midway(pg_url: str) -> None:
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CHILD_WRITES_FOREVER, pg_url,
        cwd=ROOT, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    acknowledged = 0
    try:
        assert child.stdout is not None
        first = await asyncio.wait_for(child.stdout.readline(), timeout=20)
        reply_id = int(first.split()[1])
        while acknowledged < 200:
            line = await asyncio.wait_for(child.stdout.readline(), timeout=20)
            acknowledged = int(line.split()[1])
    finally:
        child.kill()
        rest, _ = await asyncio.wait_for(child.communicate(), timeout=20)
    for line in rest.splitlines():
        if line.startswith(b"stored "):
            acknowledged = int(line.split()[1])

    async with open_store(pg_url) as store:
        assert await store.integrity_check() == []
        unfinished = await store.unfinished_replies([CHANNEL])
        assert [r.id for r in unfinished] == [reply_id]
        assert unfinished[0].status is ReplyStatus.STREAMING
        assert unfinished[0].discord_ids == (900001, 900002)
        reply = await store.finish_reply(
            reply_id, unfinished[0].text, ReplyStatus.INTERRUPTED, unfinished[0].discord_ids
        )
        assert reply == await store.get_by_discord_id(900002)
        assert reply.status is ReplyStatus.INTERRUPTED
        assert reply.discord_ids == (900001, 900002)
        stored = await store.count_messages(CHANNEL) - 1
        # The child may have committed one more message than it got to print.
        assert acknowledged <= stored <= acknowledged + 1
        assert reply.text in {f"The storm rolls {n}" for n in (stored - 1, stored)}
        window = await store.window(CHANNEL, limit=stored + 1)
        texts = [m.text for m in window if m.id != reply_id]
        assert texts == [f"line {n}" for n in range(1, stored + 1)]

        for n in (1, acknowledged):
            await store.add_message(human(100000 + n, f"line {n}"))
        assert await store.count_messages(CHANNEL) == stored + 1
