"""A real `python -m bot` process: `docker stop` (SIGTERM) ends it gracefully, and after a
`kill -9` the next start settles the half-written reply and answers what was missed.
"""

from __future__ import annotations

import signal
import time

from bot.memory import ChannelConfig, open_store
from bot.models import ReplyStatus
from tests.fakes.discord import FakeDiscord
from tests.fakes.model_server import FakeModelServer, Reply
from tests.processes import BotProcess, bot_env

DOCKER_GRACE_SECONDS = 10.0
LONG = " ".join(f"word{n}" for n in range(300))


async def enabled_scene(fake: FakeDiscord, database: str):
    owner = fake.add_user("owner")
    guild = fake.add_guild("Harbour", owner_id=owner.id)
    channel = fake.add_text_channel(guild.id, "tavern")
    alice = fake.add_user("alice", global_name="Alice", guild_id=guild.id)
    async with await open_store(database) as store:
        await store.save_channel(
            ChannelConfig(
                channel_id=channel.id, guild_id=guild.id, enabled=True, cast=("narrator",)
            )
        )
    return channel, alice


def persona_messages(fake: FakeDiscord, channel_id: int):
    return [m for m in fake.messages_in(channel_id) if m.webhook_id is not None]


async def test_sigterm_ends_replies_interrupted_and_exits_zero_in_time(tmp_path):
    database = str(tmp_path / "memory.sqlite3")
    async with FakeDiscord() as fake, FakeModelServer() as model:
        channel, alice = await enabled_scene(fake, database)
        bot = BotProcess("bot", bot_env(fake, model, database), tmp_path)
        try:
            await bot.start()
            await bot.wait_ready()
            model.script(Reply(text=LONG, chunk_delay=0.05))
            await fake.user_says(channel.id, alice.id, "Narrator, a long tale please.")
            streaming = await fake.wait_until(
                lambda: next(iter(persona_messages(fake, channel.id)), None), timeout=15
            )
            sent = time.monotonic()
            await bot.signal(signal.SIGTERM)
            code = await bot.wait_exit(timeout=DOCKER_GRACE_SECONDS + 5)
            took = time.monotonic() - sent
        finally:
            await bot.stop()
        assert code == 0, "\n".join(bot.lines[-20:])
        assert took < DOCKER_GRACE_SECONDS, took
        message = fake.message(streaming.id)
        assert not message.content.endswith("▌") and "shutting down" in message.content
        assert not any(
            c.get("custom_id", "").startswith("ens:stop:")
            for row in message.components
            for c in row.get("components", [])
        )
        async with await open_store(database) as store:
            record = await store.get_by_discord_id(streaming.id)
            assert record is not None and record.status is ReplyStatus.INTERRUPTED
            assert record.text == message.content.split("\n-# ")[0]
            assert await store.unfinished_replies() == []


async def test_after_kill_9_the_next_start_settles_the_reply_and_answers(tmp_path):
    database = str(tmp_path / "memory.sqlite3")
    async with FakeDiscord() as fake, FakeModelServer() as model:
        channel, alice = await enabled_scene(fake, database)
        first = BotProcess("first", bot_env(fake, model, database), tmp_path)
        second = BotProcess("second", bot_env(fake, model, database), tmp_path)
        try:
            await first.start()
            await first.wait_ready()
            model.script(Reply(text=LONG, chunk_delay=0.05))
            await fake.user_says(channel.id, alice.id, "Narrator, a long tale please.")
            frozen = await fake.wait_until(
                lambda: next(
                    (m for m in persona_messages(fake, channel.id) if m.edit_count >= 2), None
                ),
                timeout=15,
            )
            await first.signal(signal.SIGKILL)
            await first.wait_exit(timeout=10)
            assert fake.message(frozen.id).content.endswith("▌")  # frozen, as a crash leaves it
            await fake.user_says(channel.id, alice.id, "Narrator? Are you still there?")
            model.script(Reply(text="I am here. Where were we?"))
            await second.start()
            await second.wait_ready()
            answer = await fake.wait_until(
                lambda: next(
                    (
                        m
                        for m in persona_messages(fake, channel.id)
                        if "Where were we" in m.content and not m.content.endswith("▌")
                    ),
                    None,
                ),
                timeout=15,
            )
            await second.signal(signal.SIGTERM)
            assert await second.wait_exit(timeout=DOCKER_GRACE_SECONDS) == 0
        finally:
            await first.stop()
            await second.stop()
        settled = fake.message(frozen.id)
        assert not settled.content.endswith("▌") and "restarted" in settled.content
        assert answer.id != frozen.id
        assert len(model.requests) == 2  # the missed line was answered once, nothing twice
        async with await open_store(database) as store:
            record = await store.get_by_discord_id(frozen.id)
            assert record is not None and record.status is ReplyStatus.INTERRUPTED
            assert await store.unfinished_replies() == []
            lines = [r.text for r in await store.window(channel.id, limit=10)]
        assert "Narrator? Are you still there?" in lines
