"""/debug prompt, /usage and /budget, and budgets stopping model calls."""

import json
import time

import pytest

from bot.budget import utc_day_start
from bot.memory import UsageRecord
from bot.models import PlayerSheet
from tests.commands_scenes.helpers import slash_despite_defaults, wait_for_memory
from tests.fakes.model_server import HttpError, Reply
from tests.interactions import slash

DAY = 86_400


async def test_debug_prompt_shows_exactly_the_next_request(scene):
    await scene.enable(cast=("narrator",), reply_mode="auto", lull_seconds=0.5)
    scene.model.script(Reply(text="Thunder answers."))
    await scene.say(scene.alice, "I step out into the rain.")
    await wait_for_memory(scene, 1)

    answer = await slash(scene, "debug prompt", scene.admin)
    assert answer.ephemeral
    assert "Next request for The Narrator" in answer.content
    assert "Dialect **native** · native roles (auto: flat only on evidence)" in answer.content
    assert "About **" in answer.content and "tokens** of 63,038 allowed" in answer.content
    assert "estimate not calibrated yet" in answer.content
    assert "cacheable prefix: " in answer.content
    assert "1 line(s) kept, 0 dropped" in answer.content
    assert "Cut to fit" not in answer.content
    assert len(answer.content) <= 2000
    (attached,) = answer.files
    shown = json.loads(attached.data)

    # The lull turn fires after the inspection: its request must be the one shown.
    await scene.wait_for_reply("Thunder answers.")
    assert scene.model.requests[-1].body == shown
    assert "I step out into the rain." in answer.content


async def test_debug_prompt_truncates_long_requests_but_attaches_them_whole(scene):
    await scene.enable(cast=("marta", "vex"))
    for n in range(12):
        await scene.say(scene.alice, f"Line {n}: " + "the rain keeps falling " * 20)
    await wait_for_memory(scene, 12)

    answer = await slash(scene, "debug prompt", scene.admin, persona="vex")
    assert "Next request for Vex" in answer.content
    assert len(answer.content) <= 2000
    assert "chars)" in answer.content  # contents were shortened to fit
    shown = json.loads(answer.files[0].data)
    turn = await scene.services.runtime.preview(scene.channel.id, "vex")
    assert shown["messages"] == turn.prompt.messages
    assert shown["model"] == "minimax/minimax-m2-her" and shown["stream"] is True


async def test_debug_prompt_says_what_was_cut_to_fit_the_window(scene):
    await scene.enable(cast=("narrator",))
    store = scene.services.store
    for player in (scene.alice, scene.bob, scene.carol):
        sheet = PlayerSheet(player.id, player.global_name, "茶屋の常連。" * 4000)
        await store.save_sheet(sheet, None)
    await scene.say(scene.carol, "Carol waves and goes quiet.")
    for n in range(9):
        await scene.say((scene.bob, scene.alice)[n % 2], f"Line {n}.")
    await wait_for_memory(scene, 10)

    answer = await slash(scene, "debug prompt", scene.admin)

    assert "✂️ Cut to fit the window: sheet of dropped (Carol), ~" in answer.content
    assert len(answer.content) <= 2000
    shown = json.loads(answer.files[0].data)
    sheets = [m["name"] for m in shown["messages"] if m["role"] == "user_system"]
    assert sheets == ["Bob", "Alice"]
    assert shown["messages"][-1]["content"] == "Line 8."


async def test_admin_commands_refuse_non_admins_at_run_time(scene):
    await scene.enable(cast=("narrator",))
    for command, options in (
        ("debug prompt", {}),
        ("usage", {}),
        ("budget server", {"usd": 1.0}),
        ("budget user", {"usd": 1.0}),
        ("budget clear", {}),
    ):
        with pytest.raises(ValueError, match="lacks the permissions"):
            await slash(scene, command, scene.gm, **options)  # Discord hides it from them
        answer = await slash_despite_defaults(scene, command, scene.gm, **options)
        assert answer.ephemeral, command
        assert answer.content == "You need the Manage Guild permission to do that.", command
    settings = await scene.services.store.get_guild_settings(scene.guild.id)
    assert settings.daily_budget_usd is None and settings.user_daily_budget_usd is None


async def test_admin_groups_default_to_manage_server(scene):
    registered = {c["name"]: c for c in scene.fake.commands()}
    for name in ("debug", "usage", "budget"):
        assert int(registered[name]["default_member_permissions"]) == 1 << 5, name
        assert registered[name]["dm_permission"] is False, name


async def test_usage_by_channel_user_and_persona_per_period(scene):
    store = scene.services.store
    now = time.time()
    other = scene.fake.add_text_channel(scene.guild.id, "docks")

    async def spend(cost, *, at, channel, user, persona, cached=0):
        await store.record_usage(
            UsageRecord(
                guild_id=scene.guild.id,
                channel_id=channel,
                user_id=user,
                persona_id=persona,
                prompt_tokens=1000,
                completion_tokens=500,
                cached_tokens=cached,
                cost_usd=cost,
                created_at=at,
            )
        )

    today = max(utc_day_start(now), now - 60)
    await spend(
        0.5, at=today, channel=scene.channel.id, user=scene.alice.id, persona="marta", cached=900
    )
    await spend(0.25, at=now - 3 * DAY, channel=other.id, user=scene.bob.id, persona="vex")
    await spend(2.0, at=now - 30 * DAY, channel=scene.channel.id, user=None, persona="marta")

    answer = await slash(scene, "usage", scene.admin)
    assert answer.ephemeral
    text = answer.text
    assert "today $0.5000 · 1.5k | 7 days $0.7500 · 3.0k | all time $2.75 · 4.5k" in text
    assert f"<#{scene.channel.id}>: $0.5000 · 1.5k | $0.5000 · 1.5k | $2.50 · 3.0k" in text
    assert f"<#{other.id}>: — | $0.2500 · 1.5k | $0.2500 · 1.5k" in text
    assert f"<@{scene.alice.id}>: $0.5000 · 1.5k | $0.5000 · 1.5k | $0.5000 · 1.5k" in text
    assert "(no player): — | — | $2.00 · 1.5k" in text
    assert "Marta Greyhollow: $0.5000 · 1.5k | $0.5000 · 1.5k | $2.50 · 3.0k" in text
    assert "No daily budgets" in text
    # 900 of 1,000 prompt tokens cached today: 90 %, saving 900 x $0.27/M.
    assert (
        "Prompt tokens served from the provider's cache: today 90% (saved $0.0002) | "
        "7 days 45% (saved $0.0002) | all time 30% (saved $0.0002)"
    ) in text


async def test_budgets_are_saved_and_cleared(scene):
    store = scene.services.store
    server = await slash(scene, "budget server", scene.admin, usd=2.5)
    assert server.ephemeral and "server $2.50/day" in server.content
    user = await slash(scene, "budget user", scene.admin, usd=0.5)
    assert "each player $0.5000/day" in user.content
    settings = await store.get_guild_settings(scene.guild.id)
    assert (settings.daily_budget_usd, settings.user_daily_budget_usd) == (2.5, 0.5)

    usage = await slash(scene, "usage", scene.admin)
    assert "server $2.50/day ($0.0000 spent today)" in usage.text

    await slash(scene, "budget clear", scene.admin, which="user")
    settings = await store.get_guild_settings(scene.guild.id)
    assert (settings.daily_budget_usd, settings.user_daily_budget_usd) == (2.5, None)
    await slash(scene, "budget clear", scene.admin)
    settings = await store.get_guild_settings(scene.guild.id)
    assert (settings.daily_budget_usd, settings.user_daily_budget_usd) == (None, None)


async def test_a_spent_server_budget_stops_the_model_call(scene):
    await scene.enable(cast=("narrator",))
    await slash(scene, "budget server", scene.admin, usd=0.01)
    await scene.services.store.record_usage(
        UsageRecord(
            guild_id=scene.guild.id,
            channel_id=scene.channel.id,
            user_id=scene.bob.id,
            persona_id="narrator",
            prompt_tokens=10,
            completion_tokens=10,
            cost_usd=0.02,
            created_at=time.time(),
        )
    )
    await scene.say(scene.alice, "Narrator, describe the room.")
    notice = await scene.fake.wait_until(
        lambda: next(
            (m for m in scene.fake.messages_in(scene.channel.id) if "💤" in m.content), None
        )
    )
    assert "today's model budget ($0.01)" in notice.content
    assert scene.model.requests == []


async def test_a_spent_player_budget_stops_only_that_player(scene):
    await scene.enable(cast=("narrator",))
    await slash(scene, "budget user", scene.admin, usd=0.01)
    await scene.services.store.record_usage(
        UsageRecord(
            guild_id=scene.guild.id,
            channel_id=scene.channel.id,
            user_id=scene.alice.id,
            persona_id="narrator",
            prompt_tokens=10,
            completion_tokens=10,
            cost_usd=0.05,
            created_at=time.time(),
        )
    )
    await scene.say(scene.alice, "Narrator, again!")
    notice = await scene.fake.wait_until(
        lambda: next(
            (m for m in scene.fake.messages_in(scene.channel.id) if "💤" in m.content), None
        )
    )
    assert f"<@{scene.alice.id}> has used their daily share" in notice.content
    assert scene.model.requests == []

    scene.model.script(Reply(text="Bob is answered."))
    await scene.say(scene.bob, "Narrator, what about me?")
    await scene.wait_for_reply("Bob is answered.")
    assert len(scene.model.requests) == 1


async def test_alerts_go_to_the_chosen_channel_once(scene):
    alerts = scene.fake.add_text_channel(scene.guild.id, "mod-log")
    await scene.fake.announce_channel(alerts.id)
    answer = await slash(scene, "alerts", scene.admin, channel=alerts.id)
    assert answer.ephemeral
    assert "Admin alerts will go to" in answer.content
    settings = await scene.services.store.get_guild_settings(scene.guild.id)
    assert settings.log_channel_id == alerts.id
    await scene.enable(cast=("narrator",))
    scene.model.script(HttpError(402), HttpError(402))
    await scene.say(scene.alice, "Narrator?")
    await scene.wait_for_reply("out of model credits")
    await scene.say(scene.alice, "Narrator, please?")
    await scene.wait_for_reply("out of model credits", count=2)
    await scene.settle(0.3)
    posted = [m for m in scene.fake.messages_in(alerts.id) if "out of credits" in m.content]
    assert len(posted) == 1
    dm = scene.fake.dm_channel(scene.admin.id)
    assert not scene.fake.messages_in(dm.id)


async def test_alerts_refuse_non_admins(scene):
    answer = await slash_despite_defaults(scene, "alerts", scene.gm)
    assert answer.content == "You need the Manage Guild permission to do that."
