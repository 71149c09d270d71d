"""Per-channel rate limit emulation against discord.py's real bucket handling."""

from __future__ import annotations

import discord

from tests.fakes.discord import running

LIMIT = 2
WINDOW = 0.15


async def _stream_edits(bot, channel_id: int, count: int) -> discord.Message:
    channel = bot.get_channel(channel_id)
    message = await channel.send("…")
    for n in range(count):
        await message.edit(content=f"token {n}")
    return message


async def test_headers_mode_discord_py_waits_and_never_gets_429(fake, seed, make_bot):
    fake.rate_limit(limit=LIMIT, window=WINDOW, headers=True)
    bot = make_bot()
    async with running(fake, bot):
        message = await _stream_edits(bot, seed.channel.id, 5)
        writes = fake.requests(path_glob=f"/channels/{seed.channel.id}/messages*")
        assert [r.status for r in writes] == [200] * 6
        assert fake.rate_limit_hits == 0
        headers = writes[0].response_headers
        assert headers["X-RateLimit-Limit"] == str(LIMIT)
        assert headers["X-RateLimit-Remaining"] == str(LIMIT - 1)
        assert float(headers["X-RateLimit-Reset-After"]) <= WINDOW
        assert headers["X-RateLimit-Bucket"]
        # 6 writes at 2 per window need at least two full waits.
        assert writes[-1].at - writes[0].at >= 2 * WINDOW * 0.9
        assert fake.message(message.id).content == "token 4"


async def test_surprise_mode_429s_are_retried_successfully(fake, seed, make_bot):
    fake.rate_limit(limit=LIMIT, window=WINDOW, headers=False)
    bot = make_bot()
    async with running(fake, bot):
        message = await _stream_edits(bot, seed.channel.id, 5)
        statuses = [r.status for r in fake.requests(path_glob=f"/channels/{seed.channel.id}/*")]
        assert 429 in statuses
        assert statuses.count(200) == 6
        assert fake.rate_limit_hits == statuses.count(429) > 0
        limited = fake.requests(status=429)[0]
        assert limited.response["global"] is False and limited.response["retry_after"] > 0
        assert limited.response_headers["Via"] and "Retry-After" in limited.response_headers
        assert not any("X-RateLimit-Limit" in r.response_headers for r in fake.requests())
        assert fake.message(message.id).content == "token 4"


async def test_webhook_writes_share_the_channel_bucket(fake, seed, make_bot):
    fake.rate_limit(limit=LIMIT, window=WINDOW, headers=False)
    bot = make_bot()
    async with running(fake, bot):
        hook = await bot.get_channel(seed.channel.id).create_webhook(name="Narrator")
        await bot.get_channel(seed.channel.id).send("bot line")
        for n in range(3):
            await hook.send(f"webhook line {n}", wait=True)
        assert fake.rate_limit_hits >= 1
        assert [m.content for m in fake.messages_in(seed.channel.id)] == [
            "bot line",
            "webhook line 0",
            "webhook line 1",
            "webhook line 2",
        ]


async def test_injected_429_is_honoured(fake, seed, make_bot):
    bot = make_bot()
    async with running(fake, bot):
        fake.fail_next("PATCH", "/channels/*/messages/*", 429, retry_after=0.05)
        message = await bot.get_channel(seed.channel.id).send("a")
        await message.edit(content="b")
        assert [r.status for r in fake.requests("PATCH")] == [429, 200]
        assert fake.rate_limit_hits == 0
