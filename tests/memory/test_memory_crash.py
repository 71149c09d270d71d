"""A writer killed at a random moment loses nothing it acknowledged and duplicates nothing."""

import asyncio
import sys
from pathlib import Path

from bot.memory import open_store
from bot.models import ReplyStatus

from .helpers import CHANNEL, human

ROOT = Path(__file__).resolve().parents[2]

CHILD_WRITES_FOREVER = """
import asyncio, sys
from bot.memory import NewMessage, open_store

async def main(path):
    store = await open_store(path)
    reply = await store.begin_reply(600, 500, "narrator", "Narrator")
    await store.save_progress(reply, "The storm rolls", [900001])
    print(f"reply {reply}", flush=True)
    n = 0
    while True:
        n += 1
        await store.add_message(NewMessage(600, 500, 100000 + n, 7, "Aria", f"line {n}"))
        print(f"stored {n}", flush=True)

asyncio.run(main(sys.argv[1]))
"""


async def test_writer_killed_midway(tmp_path: Path) -> None:
    path = tmp_path / "memory.sqlite3"
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CHILD_WRITES_FOREVER, str(path),
        cwd=ROOT, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    acknowledged = 0
    try:
        assert child.stdout is not None
        first = await asyncio.wait_for(child.stdout.readline(), timeout=20)
        reply_id = int(first.split()[1])
        while acknowledged < 300:
            line = await asyncio.wait_for(child.stdout.readline(), timeout=20)
            acknowledged = int(line.split()[1])
    finally:
        child.kill()
        rest, _ = await asyncio.wait_for(child.communicate(), timeout=20)
    for line in rest.splitlines():
        if line.startswith(b"stored "):
            acknowledged = int(line.split()[1])

    async with open_store(path) as store:
        assert await store.integrity_check() == []
        # Opening changes nothing: the reply is still streaming, with what was saved of it.
        unfinished = await store.unfinished_replies()
        assert [(r.id, r.text, r.status, r.discord_ids) for r in unfinished] == [
            (reply_id, "The storm rolls", ReplyStatus.STREAMING, (900001,))
        ]
        # The runtime fixes its Discord message, then finishes it as interrupted.
        await store.finish_reply(reply_id, unfinished[0].text, ReplyStatus.INTERRUPTED)
        assert await store.unfinished_replies() == []
        reply = await store.get_by_discord_id(900001)
        assert reply is not None
        assert (reply.id, reply.text, reply.status) == (
            reply_id,
            "The storm rolls",
            ReplyStatus.INTERRUPTED,
        )
        stored = await store.count_messages(CHANNEL) - 1
        # The child may have committed one more message than it got to print.
        assert acknowledged <= stored <= acknowledged + 1
        window = await store.window(CHANNEL, limit=stored + 1)
        texts = [m.text for m in window if m.id != reply_id]
        assert texts == [f"line {n}" for n in range(1, stored + 1)]

        # The gateway redelivering the same messages after a restart changes nothing.
        for n in (1, acknowledged):
            await store.add_message(human(100000 + n, f"line {n}"))
        assert await store.count_messages(CHANNEL) == stored + 1
