"""Persona webhooks stay inside Discord's hidden per-channel webhook limit while streaming."""

from tests.fakes.model_server import Reply
from tests.harness import running_scene

LIMIT = 6
WINDOW = 3.0
"""A scaled-down hidden limit (Discord's is about 30 per 60 s)."""


def webhook_writes(scene, hook_id):
    """Executes and edits through the persona's webhook, in arrival order."""
    return [
        r
        for r in scene.fake.requests(path_glob=f"/webhooks/{hook_id}/*")
        if r.method in ("POST", "PATCH")
    ]


async def test_a_long_webhook_stream_earns_no_429s_from_the_hidden_channel_limit(tmp_path):
    async with running_scene(
        tmp_path,
        stream_edit_interval=0.1,
        channel_edit_burst=5,
        channel_edit_window=1.0,  # alone, this would allow 15 writes in 3 s
        webhook_channel_limit=LIMIT,
        webhook_channel_window=WINDOW,
    ) as scene:
        scene.fake.rate_limit(
            limit=5,
            window=1.0,
            headers=False,
            webhook_channel_limit=LIMIT,
            webhook_channel_window=WINDOW,
        )
        await scene.enable(cast=("vex",))
        words = [f"step{n} " for n in range(45)]
        scene.model.script(Reply(chunks=words, chunk_delay=0.1))  # about 4.5 s of streaming
        await scene.say(scene.alice, "Vex, walk me through the heist, step by step.")
        reply = await scene.wait_for_reply("step44", timeout=30)

        assert reply.webhook_id is not None and reply.username == "Vex"
        assert reply.content == "".join(words).rstrip()
        assert scene.fake.rate_limit_hits == 0
        assert not scene.fake.requests(status=429)
        writes = webhook_writes(scene, reply.webhook_id)
        # The stream outlasted the window, so the hidden limit was really in play.
        assert len(writes) > LIMIT
        assert writes[-1].json["content"] == reply.content
