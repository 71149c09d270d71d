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
