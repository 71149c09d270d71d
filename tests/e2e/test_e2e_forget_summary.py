"""/me forget also takes away the rolling summaries written from the player's messages.

The summaries go, every version; the other players' messages stay, and the scene folds them
into a new summary on its own. Neither the engine's caches nor a fold that was running when
the player was forgotten bring the old summary back.
"""

from tests.fakes.model_server import RecordedRequest, Reply
from tests.harness import Scene, running_commands_scene
from tests.interactions import press, slash

SECRET = "Quillfeather"
"""In Alice's lines, and in every summary written from them."""
OLD_RECAP = f"Alice schemed over the {SECRET} key while Bob hauled crates."
NEW_RECAP = "Bob hauled crates at the dock all night."
NARRATOR = "The Narrator speaks."


def is_summary_request(request: RecordedRequest) -> bool:
    messages = request.messages
    return bool(messages) and "running summary" in str(messages[0].get("content"))


def model_reply(request: RecordedRequest) -> Reply:
    """Summaries say whether they were written from Alice's lines; turns get a fixed line."""
    if is_summary_request(request):
        return Reply(text=OLD_RECAP if SECRET in str(request.messages) else NEW_RECAP)
    return Reply(text=NARRATOR)


async def store_history(scene: Scene) -> None:
    """Alice's lines, then Bob's: more than the history budget, as if seen earlier."""
    lines = [
        (scene.alice, f"I hide the {SECRET} key under loose board {n}. " * 3) for n in range(8)
    ]
    lines += [
        (scene.bob, f"Bob hauls crates at the dock, load {n} of many. " * 4) for n in range(40)
    ]
    for n, (user, text) in enumerate(lines):
        await scene.remember(user, text, discord_id=50_000 + n)


async def forget_alice(scene: Scene) -> str:
    question = await slash(scene, "me forget", scene.alice)
    assert "summaries written from your messages are erased too" in question.content
    done = await press(
        scene,
        question.message_id,
        "Forget me",
        scene.alice,
        until=lambda i: any(c.kind == "edit_original" for c in i.calls),
    )
    return done.content


async def test_forgetting_erases_the_summary_and_the_scene_folds_a_new_one_without_it(tmp_path):
    async with running_commands_scene(tmp_path, ("cogs.players",), history_tokens=1000) as scene:
        await scene.enable(cast=("narrator",))
        store, runtime, channel_id = scene.services.store, scene.services.runtime, scene.channel.id
        scene.model.default_reply = model_reply
        await store_history(scene)
        await scene.say(scene.bob, "Narrator, how goes the night?")
        await scene.wait_for_reply(NARRATOR)

        async def recap_is(text):
            return await scene.summary_text() == text

        await scene.eventually(lambda: recap_is(OLD_RECAP), timeout=10)
        folded = await store.get_summary(channel_id)
        assert folded is not None and folded.text == OLD_RECAP
        # A game master's hand edit on top: lost with the rest, as the confirmation says.
        await runtime.save_summary(channel_id, f"GM: mind the {SECRET}.", scene.gm.id)
        turn = await runtime.preview(channel_id, "narrator")
        assert turn is not None and SECRET in str(turn.prompt.messages)  # cached from here on

        answer = await forget_alice(scene)

        assert answer.startswith("Done. Erased 8 messages, 0 sheets and 0 pins,")
        assert "2 summary versions in 1 scene" in answer
        assert "game masters' edits included" in answer
        assert await store.summary_history(channel_id, limit=50) == []
        turn = await runtime.preview(channel_id, "narrator")
        assert SECRET not in str(turn.prompt.messages)  # no cached summary survived
        asked = len(scene.model.requests)
        await scene.say(scene.bob, "Narrator, and now?")
        await scene.wait_for_reply(NARRATOR, count=2)
        await scene.eventually(lambda: recap_is(NEW_RECAP), timeout=10)

        after = scene.model.requests[asked:]
        turn_request = next(r for r in after if not is_summary_request(r))
        assert "Narrator, and now?" in str(turn_request.messages)
        assert "Bob hauls crates" in str(turn_request.messages)
        for request in after:
            assert SECRET not in str(request.messages)
            assert "schemed" not in str(request.messages)
        refold = next(r for r in after if is_summary_request(r))
        assert "(none yet" in refold.messages[-1]["content"]  # rebuilt from scratch
        assert "Bob hauls crates at the dock, load 0 " in refold.messages[-1]["content"]
        rebuilt = await store.summary_history(channel_id, limit=50)
        assert [(s.text, s.version) for s in rebuilt] == [(NEW_RECAP, 1)]
        assert await store.count_messages(channel_id) == 40 + 4  # Bob's lines, two turns


async def test_a_fold_running_when_the_player_is_forgotten_never_saves_its_summary(tmp_path):
    async with running_commands_scene(tmp_path, ("cogs.players",), history_tokens=1000) as scene:
        await scene.enable(cast=("narrator",))
        store, runtime, channel_id = scene.services.store, scene.services.runtime, scene.channel.id

        def slow_summary(request: RecordedRequest) -> Reply:
            if is_summary_request(request):
                # Streams a word, then waits: the player is forgotten meanwhile.
                return Reply(text=OLD_RECAP, stall_after=1, stall_seconds=3.0)
            return Reply(text=NARRATOR)

        scene.model.default_reply = slow_summary
        await store_history(scene)
        await scene.say(scene.bob, "Narrator, how goes the night?")
        await scene.wait_for_reply(NARRATOR)
        summary_request = await scene.fake.wait_until(
            lambda: next(
                (r for r in scene.model.requests if is_summary_request(r) and r.first_token_at),
                None,
            ),
            timeout=10,
        )
        assert SECRET in str(summary_request.messages)
        assert channel_id in runtime.folding_now()

        answer = await forget_alice(scene)

        assert "No scene summary had been written from your messages." in answer
        # Wait until the fold is over and the model has stopped streaming its summary.
        await scene.fake.wait_until(
            lambda: channel_id not in runtime.folding_now() and summary_request.finished_at,
            timeout=10,
        )
        assert await store.summary_history(channel_id, limit=50) == []
        turn = await runtime.preview(channel_id, "narrator")
        assert OLD_RECAP not in str(turn.prompt.messages)
