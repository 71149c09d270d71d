"""Per-channel rate limit emulation against discord.py's real bucket handling."""

from __future__ import annotations

import aiohttp
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


async def _raw(session, method: str, url: str, content: str):
    async with session.request(method, url, json={"content": content}) as response:
        body = await response.json() if response.content_type == "application/json" else None
        return response.status, dict(response.headers), body


async def test_hidden_webhook_limit_serves_unannounced_429s(fake, seed):
    fake.rate_limit(
        limit=50, window=5.0, headers=True, webhook_channel_limit=3, webhook_channel_window=30.0
    )
    hook = fake.add_webhook(seed.channel.id, "Personas")
    execute = f"{fake.api_base}/webhooks/{hook.id}/{hook.token}?wait=true"
    async with aiohttp.ClientSession() as session:
        first = await _raw(session, "POST", execute, "one")
        await _raw(session, "POST", execute, "two")
        message = f"{fake.api_base}/webhooks/{hook.id}/{hook.token}/messages/{first[2]['id']}"
        edited = await _raw(session, "PATCH", message, "one, edited")
        limited = await _raw(session, "POST", execute, "three")
        edit_limited = await _raw(session, "PATCH", message, "one, again")
        deleted = await _raw(session, "DELETE", message, "")
    assert [first[0], edited[0]] == [200, 200]
    # The visible bucket still announces plenty of room: the hidden limit is not in headers.
    assert edited[1]["X-RateLimit-Remaining"] == str(50 - 3)
    status, headers, body = limited
    assert status == 429 and edit_limited[0] == 429
    assert body["retry_after"] > 25 and body["global"] is False
    assert headers["Via"] and int(headers["Retry-After"]) >= 26
    assert not any(
        name.startswith("X-RateLimit-") and name != "X-RateLimit-Scope" for name in headers
    )
    assert deleted[0] == 204  # deletes are not executes or edits
    assert fake.rate_limit_hits == 2
    assert [m.content for m in fake.messages_in(seed.channel.id) if not m.deleted] == ["two"]


async def test_hidden_webhook_limit_ignores_bot_writes_and_other_channels(fake, seed):
    fake.rate_limit(
        limit=50, window=5.0, headers=True, webhook_channel_limit=2, webhook_channel_window=30.0
    )
    other = fake.add_text_channel(seed.guild.id, "docks")
    hooks = [fake.add_webhook(seed.channel.id, "A"), fake.add_webhook(other.id, "B")]
    headers = {"Authorization": f"Bot {fake.token}"}
    async with aiohttp.ClientSession(headers=headers) as session:
        for n in range(4):
            status, _, _ = await _raw(
                session, "POST", f"{fake.api_base}/channels/{seed.channel.id}/messages", f"b{n}"
            )
            assert status == 200
        statuses = []
        for hook in hooks:
            url = f"{fake.api_base}/webhooks/{hook.id}/{hook.token}?wait=true"
            statuses += [(await _raw(session, "POST", url, f"w{n}"))[0] for n in range(3)]
    assert statuses == [200, 200, 429, 200, 200, 429]
    assert fake.rate_limit_hits == 2


async def test_hidden_webhook_limit_is_a_sliding_window_that_discord_py_retries(
    fake, seed, make_bot
):
    fake.rate_limit(
        limit=50, window=5.0, headers=True, webhook_channel_limit=2, webhook_channel_window=0.3
    )
    bot = make_bot()
    async with running(fake, bot):
        hook = await bot.get_channel(seed.channel.id).create_webhook(name="Narrator")
        for n in range(5):
            await hook.send(f"webhook line {n}", wait=True)
    writes = fake.requests("POST", f"/webhooks/{hook.id}/*")
    assert fake.rate_limit_hits == [r.status for r in writes].count(429) > 0
    accepted = [r.at for r in writes if r.status == 200]
    assert len(accepted) == 5
    for i, start in enumerate(accepted):
        # `at` is stamped on arrival, a hair before the limiter looks: allow for that.
        assert len([t for t in accepted[i:] if t - start < 0.25]) <= 2
    assert [m.content for m in fake.messages_in(seed.channel.id)] == [
        f"webhook line {n}" for n in range(5)
    ]


async def test_hidden_webhook_limit_is_off_unless_asked_for(fake, seed):
    fake.rate_limit(limit=50, window=5.0, headers=True)
    hook = fake.add_webhook(seed.channel.id, "Personas")
    url = f"{fake.api_base}/webhooks/{hook.id}/{hook.token}?wait=true"
    async with aiohttp.ClientSession() as session:
        statuses = [(await _raw(session, "POST", url, f"w{n}"))[0] for n in range(40)]
    assert statuses == [200] * 40
    assert fake.rate_limit_hits == 0
