"""Issue 12 through the whole bot: dialect per turn, recoveries, flags, clean output, usage."""

import asyncio
import logging

from bot.models import ReplyStatus
from tests.fakes.model_server import FakeModelServer, HttpError, ProviderError, Reply
from tests.harness import running_scene

ADVANCED = {"user_system", "group", "sample_message_user", "sample_message_ai"}


def native(request):
    return bool(set(request.roles) & ADVANCED)


async def usage_requests(scene, at_least=1, timeout=5.0):
    """The guild's usage totals once `at_least` requests are in the ledger."""
    async with asyncio.timeout(timeout):
        while True:
            report = await scene.services.store.usage_report(scene.guild.id)
            if report.total.requests >= at_least:
                return report.total
            await asyncio.sleep(0.02)


async def test_an_outage_answers_one_turn_flat_and_the_next_turn_is_native_again(tmp_path):
    async with running_scene(tmp_path, llm_provider="minimax") as scene:
        await scene.enable(cast=("narrator",))
        outage = HttpError(500, "unknown error, 999 (1000)")
        scene.model.script(outage, outage, Reply(text="Flat, this once."), endpoint="minimax")
        await scene.say(scene.alice, "Narrator?")
        await scene.wait_for_reply("Flat, this once.")
        assert [native(r) for r in scene.model.requests] == [True, True, False]

        scene.model.script(Reply(text="Native again."), endpoint="minimax")
        await scene.say(scene.alice, "Narrator, again?")
        await scene.wait_for_reply("Native again.", count=2)
        assert native(scene.model.requests[-1])
        assert scene.services.llm.dialect.current == "native"


async def test_native_failing_turn_after_turn_sticks_to_flat(tmp_path):
    async with (
        FakeModelServer(roles_fail_with_500=True) as model,
        running_scene(tmp_path, model=model, llm_provider="minimax") as scene,
    ):
        await scene.enable(cast=("narrator",))
        for turn in range(1, 4):
            await scene.say(scene.alice, f"Narrator, turn {turn}?")
            await scene.wait_for_reply(f"turn {turn}?", count=turn)
        assert scene.services.llm.dialect.current == "flat"
        sent = len(model.requests)
        await scene.say(scene.alice, "Narrator, turn 4?")
        await scene.wait_for_reply("turn 4?", count=4)
        assert len(model.requests) == sent + 1 and not native(model.requests[-1])


async def test_an_over_length_refusal_shrinks_the_prompt_once_in_the_same_dialect(tmp_path):
    async with running_scene(tmp_path) as scene:
        await scene.enable(cast=("narrator",))
        for n in range(30):
            await scene.say(scene.bob, f"Bob's old line {n}: " + "the storm rages on " * 20)
        await scene.settle(0.3)
        scene.model.script(
            HttpError(400, "This model's maximum context length is 65536 tokens"),
            Reply(text="Shorter, and fine."),
        )
        await scene.say(scene.alice, "Narrator, what now?")
        await scene.wait_for_reply("Shorter, and fine.")
        refused, retried = scene.model.requests[-2:]
        assert native(refused) and native(retried)
        assert len(str(retried.body)) < len(str(refused.body))
        assert retried.messages[-1]["content"] == "Narrator, what now?"


async def test_a_blocked_reply_is_regenerated_once(tmp_path):
    async with running_scene(tmp_path, llm_provider="minimax") as scene:
        await scene.enable(cast=("narrator",))
        scene.model.script(
            ProviderError(1027, "output new_sensitive"),
            Reply(text="A gentler telling."),
            endpoint="minimax",
        )
        await scene.say(scene.alice, "Narrator, describe the battle.")
        reply = await scene.wait_for_reply("A gentler telling.")
        assert "⚠️" not in reply.content
        assert len(scene.model.requests) == 2


async def test_a_reply_blocked_twice_tells_the_players(tmp_path):
    async with running_scene(tmp_path, llm_provider="minimax") as scene:
        await scene.enable(cast=("narrator",))
        blocked = ProviderError(1027, "output new_sensitive")
        scene.model.script(blocked, blocked, endpoint="minimax")
        await scene.say(scene.alice, "Narrator, describe the battle.")
        reply = await scene.wait_for_reply("filter blocked this reply")
        assert "⚠️" in reply.content
        assert len(scene.model.requests) == 2


async def test_invisible_characters_are_stripped_and_the_request_sent_once_more(tmp_path):
    async with (
        FakeModelServer(rejects_invisible=True) as model,
        running_scene(tmp_path, model=model, llm_provider="minimax") as scene,
    ):
        await scene.enable(cast=("narrator",))
        await scene.say(scene.alice, "Narrator, my family 👨\u200d👩\u200d👧 waits.")
        reply = await scene.wait_for_reply("Echo:")
        assert "⚠️" not in reply.content
        assert len(model.requests) == 2
        last = model.requests[-1].messages[-1]["content"]
        assert last == "Narrator, my family 👨👩👧 waits."


async def test_a_rate_limit_body_served_as_an_event_stream_reads_as_busy(tmp_path):
    async with running_scene(tmp_path, llm_provider="minimax") as scene:
        await scene.enable(cast=("narrator",))
        busy = ProviderError(1002, "rate limit exceeded", bare=True)
        scene.model.script(busy, busy, endpoint="minimax")
        await scene.say(scene.alice, "Narrator?")
        reply = await scene.wait_for_reply("⚠️")
        assert "busy right now (rate limited)" in reply.content
        assert "connection" not in reply.content


async def test_a_flagged_reply_with_text_is_delivered_and_logged_for_what_it_is(tmp_path, caplog):
    caplog.set_level(logging.WARNING)
    async with running_scene(tmp_path, llm_provider="minimax") as scene:
        await scene.enable(cast=("narrator",))
        scene.model.script(Reply(text="The duel ends in blood.", output_flag=6), endpoint="minimax")
        await scene.say(scene.alice, "Narrator, the duel?")
        reply = await scene.wait_for_reply("The duel ends in blood.")
        assert "⚠️" not in reply.content
        record = await scene.services.store.get_by_discord_id(reply.id)
        assert record.status is ReplyStatus.COMPLETE
        assert "flagged the reply as violence or terror (type 6)" in caplog.text
        assert "code 6" not in caplog.text
        totals = await usage_requests(scene)
        assert totals.requests == 1


async def test_the_reply_is_clean_and_its_label_never_flashes(tmp_path):
    async with running_scene(tmp_path, stream_edit_interval=0.01) as scene:
        await scene.enable(cast=("narrator",))
        scene.model.script(
            Reply(
                chunks=(
                    "The Narr",
                    "ator: ",
                    "*The wind howls.* ",
                    "The ferry waits.\n",
                    "Ali",
                    "ce: I board it!\n",
                    "The Narrator: And so",
                ),
                chunk_delay=0.05,
            )
        )
        await scene.say(scene.alice, "Narrator, where is the ferry?")
        reply = await scene.wait_for_reply("The ferry waits.")
        await scene.settle(0.3)
        reply = scene.fake.message(reply.id)
        for shown in reply.content_history:
            assert "Narrator:" not in shown and "Alice:" not in shown and "I board" not in shown
        assert reply.content.startswith("*The wind howls.* The ferry waits.")
        record = await scene.services.store.get_by_discord_id(reply.id)
        assert record.text == "*The wind howls.* The ferry waits."
        assert record.status is ReplyStatus.COMPLETE
        totals = await usage_requests(scene)
        assert totals.requests == 1 and totals.prompt_tokens > 0  # estimated: cut before usage


async def test_a_reply_cut_mid_stream_still_records_its_usage(tmp_path):
    async with running_scene(tmp_path) as scene:
        await scene.enable(cast=("narrator",))
        scene.model.script(
            Reply(chunks=["The bridge ", "creaks and "], error_after=2, chunk_delay=0.02)
        )
        await scene.say(scene.alice, "Narrator, I cross the bridge.")
        await scene.wait_for_reply("interrupted")
        totals = await usage_requests(scene)
        assert totals.requests == 1
        assert totals.prompt_tokens > 0 and totals.completion_tokens > 0
