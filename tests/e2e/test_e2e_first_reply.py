"""The harness works end to end: a player addresses the bot and a streamed reply lands."""

from tests.fakes.model_server import Reply
from tests.harness import running_scene


async def test_addressed_message_gets_a_streamed_reply(tmp_path):
    async with running_scene(tmp_path) as scene:
        await scene.enable(cast=("narrator",))
        text = "The storm rattles the shutters. Marta looks up from the bar, eyes narrowed."
        scene.model.script(Reply(text=text, chunks=None, chunk_delay=0.01))
        await scene.say(scene.alice, "Narrator, what do I see as I walk in?")
        reply = await scene.wait_for_reply(text)
        assert reply.content == text
        assert reply.webhook_id is not None  # the persona speaks under its own name
        body = scene.model.requests[-1].body
        assert body["model"] == "minimax/minimax-m2-her"
        assert body["messages"][0]["role"] == "system"
        users = [m for m in body["messages"] if m["role"] == "user"]
        assert users[-1] == {
            "role": "user",
            "name": "Alice",
            "content": "Narrator, what do I see as I walk in?",
        }


async def test_starting_a_scene_readies_each_personas_webhook_before_anyone_speaks(tmp_path):
    async with running_scene(tmp_path) as scene:
        await scene.enable(cast=("narrator", "marta"))

        def hooks() -> list[str]:
            world = scene.fake.world.webhooks.values()
            return sorted(h.name for h in world if h.channel_id == scene.channel.id)

        # Found or made at once, so the first reply does not look them up while a crowd waits.
        await scene.fake.wait_until(lambda: len(hooks()) == 2, timeout=5)
        assert all(name.startswith("Ensemble ") for name in hooks())
        looked_up = len(scene.fake.requests("GET", f"/channels/{scene.channel.id}/webhooks"))
        text = "Marta wipes the bar."
        scene.model.script(Reply(text=text))
        await scene.say(scene.alice, "Marta, a drink please.")
        reply = await scene.wait_for_reply(text)
        assert reply.webhook_id in {h.id for h in scene.fake.world.webhooks.values()}
        assert len(scene.fake.requests("GET", f"/channels/{scene.channel.id}/webhooks")) == (
            looked_up
        )
