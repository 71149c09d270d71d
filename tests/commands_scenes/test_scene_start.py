"""/scene start and who may run scenes: greetings posted and remembered, threads, refusals."""

from bot.models import AuthorKind, ReplyStatus
from tests.commands_scenes.helpers import add_persona, add_role, memory_of, public_messages
from tests.fakes.model_server import Reply
from tests.interactions import slash

BARD_CARD = {
    "name": "Odile",
    "description": "A travelling bard.",
    "first_mes": "*{{char}} tunes her lute.* Evening, {{user}}! Who wants a song?",
}


async def test_start_posts_greetings_and_remembers_them(scene):
    answer = await slash(
        scene,
        "scene start",
        scene.gm,
        name="The Rusty Anchor",
        persona="marta",
        persona_2="vex",
        setting="A harbour tavern on a stormy night.",
    )
    assert answer.ephemeral
    assert "The Rusty Anchor" in answer.content and "Marta" in answer.content

    config = await scene.services.store.get_channel(scene.channel.id)
    assert config is not None and config.enabled
    assert config.cast == ("marta", "vex")
    assert (config.scene_name, config.scene_setting) == (
        "The Rusty Anchor",
        "A harbour tavern on a stormy night.",
    )

    lines = await memory_of(scene)
    assert [line.persona_id for line in lines] == ["marta", "vex"]
    for line in lines:
        assert line.kind is AuthorKind.PERSONA and line.status is ReplyStatus.COMPLETE
        posted = [scene.fake.message(mid) for mid in line.discord_ids]
        assert posted and all(m.webhook_id is not None for m in posted)
        assert "".join(m.content for m in posted) == line.text
        persona = await scene.services.personas.get(scene.guild.id, line.persona_id)
        assert persona is not None and posted[0].username == persona.name
        assert "{{" not in line.text

    card = scene.fake.messages_in(scene.channel.id)[1]
    assert card.webhook_id is None and "The Rusty Anchor" in card.content


async def test_the_model_sees_the_greeting_as_the_personas_own_line(scene):
    await add_persona(scene, "odile", BARD_CARD)
    await slash(scene, "scene start", scene.gm, name="Crossroads", persona="odile")
    greeting = (await memory_of(scene))[0].text
    assert greeting == "*Odile tunes her lute.* Evening, everyone! Who wants a song?"

    scene.model.script(Reply(text="A song it is!"))
    await scene.say(scene.alice, "Odile, play us something!")
    await scene.wait_for_reply("A song it is!", count=2)
    messages = scene.model.requests[-1].body["messages"]
    assert {"role": "assistant", "content": greeting} in [
        {"role": m["role"], "content": m["content"]} for m in messages
    ]


async def test_start_in_a_new_thread(scene):
    answer = await slash(
        scene, "scene start", scene.gm, name="Into the Fog", persona="narrator", new_thread=True
    )
    threads = [c for c in scene.fake.world.channels.values() if c.parent_id == scene.channel.id]
    assert len(threads) == 1
    thread = threads[0]
    assert thread.is_thread and thread.name == "Into the Fog"
    assert f"<#{thread.id}>" in answer.content

    store = scene.services.store
    assert (await store.get_channel(thread.id)).enabled
    assert await store.get_channel(scene.channel.id) is None
    greeting = scene.persona_messages(thread.id)[-1]
    assert greeting.webhook_id is not None
    assert [line.discord_ids for line in await memory_of(scene, thread.id)] == [(greeting.id,)]


async def test_players_cannot_start_scenes(scene):
    answer = await slash(scene, "scene start", scene.alice, name="Mine now", persona="narrator")
    assert answer.ephemeral
    assert "Only game masters" in answer.content
    assert "Manage Channels" in answer.content and "Game Master" in answer.content
    assert await scene.services.store.get_channel(scene.channel.id) is None
    assert public_messages(scene) == []


async def test_unknown_personas_and_running_scenes_are_refused(scene):
    answer = await slash(scene, "scene start", scene.gm, name="Nope", persona="nobody-here")
    assert answer.ephemeral and "`nobody-here`" in answer.content
    assert await scene.services.store.get_channel(scene.channel.id) is None

    await slash(scene, "scene start", scene.gm, name="First", persona="narrator")
    again = await slash(scene, "scene start", scene.gm, name="Second", persona="vex")
    assert again.ephemeral and "already running" in again.content
    assert (await scene.services.store.get_channel(scene.channel.id)).scene_name == "First"


async def test_admins_choose_the_game_master_role(scene):
    storyteller = await add_role(scene, "Storyteller")
    dana = scene.fake.add_user("dana", guild_id=scene.guild.id, roles=[storyteller.id])

    refused = await slash(scene, "scene gm-role", scene.gm, role=storyteller.id)
    assert refused.ephemeral and "Manage Guild" in refused.content
    assert (await scene.services.store.get_guild_settings(scene.guild.id)).gm_role_id is None

    answer = await slash(scene, "scene gm-role", scene.admin, role=storyteller.id)
    assert answer.ephemeral and f"<@&{storyteller.id}>" in answer.content
    settings = await scene.services.store.get_guild_settings(scene.guild.id)
    assert settings.gm_role_id == storyteller.id

    by_name = await slash(scene, "scene start", scene.gm, name="Old role", persona="narrator")
    assert "Only game masters" in by_name.content and "Storyteller" in by_name.content
    started = await slash(scene, "scene start", dana, name="New role", persona="narrator")
    assert "is on in" in started.content

    await slash(scene, "scene gm-role", scene.admin)
    assert (await scene.services.store.get_guild_settings(scene.guild.id)).gm_role_id is None
