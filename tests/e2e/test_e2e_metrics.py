"""The metrics endpoint scraped after a real reply, and /healthz following the gateway.

Discord 429s come from an aiohttp trace on discord.py's session; active scenes, queued turns
and gateway state are sampled at scrape time; replies, latencies, provider errors and tokens
are reported by the scene runtime as each reply lives.
"""

import asyncio
import os
import sys
from pathlib import Path

from bot.bot import create_bot
from bot.monitoring import monitoring
from bot.services import open_services
from bot.startup import connect_to_discord
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord.harness import pointed_at
from tests.fakes.model_server import FakeModelServer, HttpError, Reply
from tests.harness import build_settings, populate
from tests.metrics_scrape import MetricsEndpoint, monitored_scene

ROOT = Path(__file__).resolve().parents[2]


async def test_scrape_after_one_reply(tmp_path):
    async with monitored_scene(tmp_path) as (scene, endpoint):
        before = await endpoint.scrape()
        await scene.enable(cast=("narrator",))
        # Discord answers the persona's first webhook post with a 429; discord.py retries.
        scene.fake.fail_next("POST", "/webhooks/*", 429, retry_after=0.05)
        scene.model.script(Reply(text="The fire crackles."))
        await scene.say(scene.alice, "Narrator, what do I see?")
        await scene.wait_for_reply("The fire crackles.")

        after = await endpoint.scrape()

    assert before.value("ensemble_active_scenes") == 0
    assert after.value("ensemble_active_scenes") == 1
    assert after.value("ensemble_gateway_connected") == 1
    served = scene.fake.requests(None, None, status=429)
    assert len(served) == 1
    assert after.value("ensemble_discord_429_total", scope="webhook") == 1
    assert after.total("ensemble_discord_429_total") == 1
    assert before.total("ensemble_discord_429_total") == 0
    assert after.value("ensemble_replies_total", outcome="completed") == 1
    for histogram in ("event_to_request", "first_token_to_text", "last_token_to_final"):
        assert after.value(f"ensemble_{histogram}_seconds_count") == 1, histogram
        assert 0 < after.value(f"ensemble_{histogram}_seconds_sum") < 5, histogram
    request = scene.model.requests[0]
    assert after.value("ensemble_tokens_total", kind="prompt") > 0
    assert after.value("ensemble_tokens_total", kind="completion") == 3  # three chunks
    assert after.value("ensemble_cost_usd_total") == Reply().cost  # OpenRouter's usage.cost
    assert after.value("ensemble_queued_turns") == 0
    assert request.body["messages"]


async def test_first_token_to_text_is_timed_once_per_reply_however_many_edits(tmp_path):
    async with monitored_scene(tmp_path) as (scene, endpoint):
        await scene.enable(cast=("narrator",))
        chunks = [f"step {n}, " for n in range(8)] + ["done."]
        scene.model.script(Reply(chunks=chunks, chunk_delay=0.25))
        await scene.say(scene.alice, "Narrator, walk me through it.")
        await scene.wait_for_reply("done.", timeout=15)
        after = await endpoint.scrape()

    edits = scene.fake.requests("PATCH", "/webhooks/*")
    assert len(edits) >= 2  # the reply grew over several edits
    assert after.value("ensemble_first_token_to_text_seconds_count") == 1
    assert after.value("ensemble_last_token_to_final_seconds_count") == 1


async def test_provider_errors_and_failed_replies_are_counted(tmp_path):
    async with monitored_scene(tmp_path, llm_max_attempts=1) as (scene, endpoint):
        await scene.enable(cast=("narrator",))
        scene.model.script(HttpError(503), Reply(text="", chunks=("",)))
        await scene.say(scene.alice, "Narrator?")
        await scene.wait_for_reply("⚠️")
        await scene.say(scene.alice, "Narrator, again?")
        await scene.wait_for_reply("No reply came", count=2)
        after = await endpoint.scrape()
    assert after.value("ensemble_replies_total", outcome="failed") == 2
    assert after.total("ensemble_provider_errors_total") == 1
    assert after.value("ensemble_event_to_request_seconds_count") == 2


async def test_rate_limited_edits_are_all_counted(tmp_path):
    """Surprise 429s from the per-channel limit (no headers): each one served is counted."""
    async with monitored_scene(tmp_path, stream_edit_interval=0.0) as (scene, endpoint):
        await scene.enable(cast=("narrator",))
        scene.fake.rate_limit(limit=2, window=0.5, headers=False)
        words = " ".join(f"word{i}" for i in range(40))
        scene.model.script(Reply(text=words, chunk_delay=0.02))
        await scene.say(scene.alice, "Narrator, talk to me.")
        await scene.wait_for_reply(words, timeout=30)
        scraped = await endpoint.scrape()

    served = scene.fake.requests(None, None, status=429)
    assert served, "the limit should have answered some writes with 429"
    assert scene.fake.rate_limit_hits == len(served)
    assert scraped.total("ensemble_discord_429_total") == len(served)


async def probe(port: int) -> int:
    """`python -m bot.healthcheck`, as Docker's HEALTHCHECK runs it; its exit code."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.healthcheck",
        env={**os.environ, "PYTHONPATH": str(ROOT), "METRICS_PORT": str(port)},
        stdout=asyncio.subprocess.DEVNULL,
    )
    return await proc.wait()


async def wait_for_health(endpoint: MetricsEndpoint, status: int, timeout: float = 30.0) -> str:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        got, body = await endpoint.health()
        if got == status:
            return body
        assert asyncio.get_running_loop().time() < deadline, f"/healthz stayed {got}: {body}"
        await asyncio.sleep(0.05)


async def test_healthz_follows_the_gateway(tmp_path):
    """The production start path (reconnecting), with the fake gateway taken down and back."""
    async with FakeDiscord() as fake, FakeModelServer() as model:
        populate(fake)
        settings = build_settings(fake, model, tmp_path, metrics_port=0)
        with pointed_at(fake):
            async with open_services(settings) as services:
                bot = create_bot(services, guild_ready_timeout=0.05)
                async with (
                    bot,
                    monitoring(
                        services.metrics, services.store, bot, host="127.0.0.1", port=0
                    ) as server,
                ):
                    assert server is not None
                    endpoint = MetricsEndpoint(f"http://127.0.0.1:{server.port}")
                    running = asyncio.create_task(connect_to_discord(bot, fake.token, timeout=10))
                    assert await wait_for_health(endpoint, 200) == "ok\n"
                    assert await probe(server.port) == 0

                    await fake.gateway_down()
                    body = await wait_for_health(endpoint, 503)
                    assert body == "unhealthy: Discord gateway disconnected\n"
                    assert await probe(server.port) == 1
                    assert (await endpoint.scrape()).value("ensemble_gateway_connected") == 0

                    fake.gateway_up()
                    await wait_for_health(endpoint, 200)
                    await bot.close()
                    await running
