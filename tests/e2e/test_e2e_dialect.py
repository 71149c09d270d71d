"""An endpoint that refuses M2-her's roleplay roles gets the flat prompt, once and for good."""

from tests.fakes.model_server import FakeModelServer, Reply
from tests.harness import running_scene

ADVANCED = {"user_system", "group", "sample_message_user", "sample_message_ai"}


def roles(request):
    return {m["role"] for m in request.body["messages"]}


async def test_refused_roles_fall_back_to_flat_and_stay_flat(tmp_path):
    async with (
        FakeModelServer(rejects_roles=True) as model,
        running_scene(tmp_path, model=model, llm_dialect="auto") as scene,
    ):
        await scene.enable(cast=("narrator",))
        model.script(Reply(text="Flat but fine."), Reply(text="Still flat."))
        await scene.say(scene.alice, "Narrator?")
        await scene.wait_for_reply("Flat but fine.")
        assert roles(model.requests[0]) & ADVANCED  # the native attempt was refused
        assert not roles(model.requests[-1]) & ADVANCED
        flat_system = model.requests[-1].body["messages"][0]["content"]
        assert "Alice" in flat_system  # the players' sheets are folded into the system text
        sent = len(model.requests)
        await scene.say(scene.alice, "Narrator, again?")
        await scene.wait_for_reply("Still flat.", count=2)
        assert len(model.requests) == sent + 1  # remembered: no second native attempt
        assert not roles(model.requests[-1]) & ADVANCED


async def test_minimax_native_endpoint_gets_the_roleplay_roles(tmp_path):
    async with running_scene(tmp_path, llm_provider="minimax") as scene:
        await scene.enable(cast=("narrator",))
        scene.model.script(Reply(text="Native and fine."), endpoint="minimax")
        await scene.say(scene.alice, "Narrator?")
        await scene.wait_for_reply("Native and fine.")
        request = scene.model.requests[-1]
        assert request.path == "/v1/text/chatcompletion_v2"
        assert request.body["model"] == "M2-her"
        assert "max_completion_tokens" in request.body
        messages = request.body["messages"]
        assert messages[0]["role"] == "system" and messages[0]["name"] == "The Narrator"
        assert [m["role"] for m in messages].count("group") == 1
        assert {"name": "Alice", "role": "user_system"}.items() <= next(
            m for m in messages if m["role"] == "user_system"
        ).items()
