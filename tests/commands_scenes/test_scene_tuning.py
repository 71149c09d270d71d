"""Per-scene OOC handling (/scene ooc) and generation tuning (/scene tuning), end to end."""

from bot.llm import SamplingParams
from tests.commands_scenes.helpers import EXTENSIONS, turn_over
from tests.fakes.model_server import Reply
from tests.harness import running_commands_scene
from tests.interactions import slash

NARRATOR_CARD = SamplingParams(temperature=0.8, top_p=0.95, max_tokens=450)
"""What personas/narrator.toml sets, with the server's top_p (the card sets none)."""


async def start(scene, *personas: str) -> None:
    options = {f"persona_{i}": p for i, p in enumerate(personas[1:], start=2)}
    answer = await slash(
        scene, "scene start", scene.gm, name="The Rusty Anchor", persona=personas[0], **options
    )
    assert "is on in" in answer.content, answer.content


async def stored(scene):
    return await scene.services.store.get_channel(scene.channel.id)


async def next_request(scene, text: str, answer: str):
    """Alice addresses the Narrator; the request the model got for the reply."""
    before = len(scene.model.requests)
    scene.model.script(Reply(text=answer))
    await scene.say(scene.alice, text)
    await scene.wait_for_reply(answer)
    await turn_over(scene)
    assert len(scene.model.requests) == before + 1
    return scene.model.requests[-1]


def user_lines(request) -> list[str]:
    """Every line of the `user` messages (one speaker's consecutive lines share a message)."""
    contents = [str(m["content"]) for m in request.messages if m["role"] == "user"]
    return [line for content in contents for line in content.splitlines()]


# ---- /scene ooc ------------------------------------------------------------------------------


async def test_ooc_can_be_set_per_scene_and_handed_back_to_the_default(scene):
    await start(scene, "narrator")
    assert (await stored(scene)).ooc_mode is None

    marked = await slash(scene, "scene ooc", scene.gm, handling="mark")
    assert marked.ephemeral
    assert "included in the prompt, marked as OOC (set for this scene)" in marked.content
    assert (await stored(scene)).ooc_mode == "mark"

    dropped = await slash(scene, "scene ooc", scene.gm, handling="drop")
    assert dropped.ephemeral and "kept out of the prompt (set for this scene)" in dropped.content
    assert (await stored(scene)).ooc_mode == "drop"

    default = await slash(scene, "scene ooc", scene.gm, handling="default")
    assert default.ephemeral and "kept out of the prompt (the server default)" in default.content
    assert (await stored(scene)).ooc_mode is None


async def test_ooc_choice_decides_what_the_model_sees(scene):
    await start(scene, "narrator")
    await slash(scene, "scene ooc", scene.gm, handling="mark")
    await scene.say(scene.alice, "((the dragon is my favourite part))")
    request = await next_request(scene, "Narrator, what stirs?", "The dragon stirs.")
    ooc = [c for c in user_lines(request) if "favourite part" in c]
    assert ooc == ["(OOC) ((the dragon is my favourite part))"]

    await slash(scene, "scene ooc", scene.gm, handling="drop")
    request = await next_request(scene, "Narrator, and now?", "It sleeps again.")
    contents = " ".join(user_lines(request))
    assert "Narrator, and now?" in contents
    assert "favourite part" not in contents and "(OOC)" not in contents


async def test_ooc_default_follows_the_server_setting(tmp_path):
    async with running_commands_scene(tmp_path, EXTENSIONS, ooc_mode="mark") as scene:
        await start(scene, "narrator")
        await slash(scene, "scene ooc", scene.gm, handling="drop")
        await scene.say(scene.alice, "((brb, pizza))")
        request = await next_request(scene, "Narrator, hello?", "Hello.")
        assert "pizza" not in " ".join(user_lines(request))

        default = await slash(scene, "scene ooc", scene.gm, handling="default")
        assert "marked as OOC (the server default)" in default.content
        request = await next_request(scene, "Narrator, still there?", "Always.")
        assert "(OOC) ((brb, pizza))" in user_lines(request)


# ---- /scene tuning ---------------------------------------------------------------------------


async def test_tuning_sets_merges_shows_and_resets(scene):
    await start(scene, "narrator", "vex")
    shown = await slash(scene, "scene tuning", scene.gm)
    assert shown.ephemeral and "Nothing is set for this scene" in shown.content
    assert "The Narrator: temperature 0.8 · top_p 0.95 · max tokens 450" in shown.content
    assert "Vex: temperature 0.9 · top_p 0.95 · max tokens 250" in shown.content
    assert "server settings: temperature 1 · top_p 0.95 · max tokens 600" in shown.content
    assert (await stored(scene)).generation == {}

    set_ = await slash(scene, "scene tuning", scene.gm, temperature=0.5, max_tokens=300)
    assert set_.ephemeral and "Tuning updated." in set_.content
    assert "Set for this scene: temperature 0.5 · max tokens 300." in set_.content
    assert "The Narrator: temperature **0.5** · top_p 0.95 · max tokens **300**" in set_.content
    assert "Vex: temperature **0.5** · top_p 0.95 · max tokens **300**" in set_.content
    assert (await stored(scene)).generation == {"temperature": 0.5, "max_tokens": 300}

    merged = await slash(scene, "scene tuning", scene.gm, top_p=0.8)
    assert "temperature **0.5** · top_p **0.8** · max tokens **300**" in merged.content
    assert (await stored(scene)).generation == {"temperature": 0.5, "max_tokens": 300, "top_p": 0.8}
    # What the answer shows is what the engine will send.
    turn = await scene.services.runtime.preview(scene.channel.id, "vex")
    assert turn.params == SamplingParams(temperature=0.5, top_p=0.8, max_tokens=300)

    reset = await slash(scene, "scene tuning", scene.gm, reset=True)
    assert reset.ephemeral and "Tuning reset." in reset.content
    assert "Nothing is set for this scene" in reset.content
    assert "The Narrator: temperature 0.8 · top_p 0.95 · max tokens 450" in reset.content
    assert (await stored(scene)).generation == {}

    await slash(scene, "scene tuning", scene.gm, top_p=0.6)
    assert (await stored(scene)).generation == {"top_p": 0.6}
    both = await slash(scene, "scene tuning", scene.gm, reset=True, temperature=0.7)
    assert "Tuning reset, then updated." in both.content
    assert (await stored(scene)).generation == {"temperature": 0.7}


async def test_tuning_out_of_range_is_refused_and_changes_nothing(scene):
    await start(scene, "narrator")
    await slash(scene, "scene tuning", scene.gm, temperature=0.5)
    refusals = [
        ({"temperature": 0}, "`temperature` must be from 0.01 to 1", "you gave 0."),
        ({"temperature": 1.5}, "`temperature` must be from 0.01 to 1", "you gave 1.5."),
        ({"top_p": -0.2}, "`top_p` must be from 0.01 to 1", "you gave -0.2."),
        ({"top_p": 1.01}, "`top_p` must be from 0.01 to 1", "you gave 1.01."),
        ({"max_tokens": 0}, "`max_tokens` must be a whole number from 1 to 2048", "gave 0."),
        ({"max_tokens": 4096}, "`max_tokens` must be a whole number from 1 to 2048", "4096."),
        # A valid value next to a bad one is not stored either, and reset is not done.
        ({"temperature": 0.7, "max_tokens": 5000}, "`max_tokens` must be", "you gave 5000."),
        ({"reset": True, "top_p": 2}, "`top_p` must be", "you gave 2."),
    ]
    for options, rule, given in refusals:
        answer = await slash(scene, "scene tuning", scene.gm, **options)
        assert answer.ephemeral, options
        assert answer.content.startswith("Nothing was changed."), (options, answer.content)
        assert rule in answer.content and given in answer.content, (options, answer.content)
        assert (await stored(scene)).generation == {"temperature": 0.5}, options

    both = await slash(scene, "scene tuning", scene.gm, temperature=2, max_tokens=9999)
    assert "`temperature`" in both.content and "`max_tokens`" in both.content

    # Discord itself enforces the same ranges on the options.
    synced = scene.fake.requests("PUT", "/applications/*/commands")[-1].json
    group = next(c for c in synced if c["name"] == "scene")
    tuning = next(o for o in group["options"] if o["name"] == "tuning")
    ranges = {o["name"]: (o.get("min_value"), o.get("max_value")) for o in tuning["options"]}
    assert ranges == {
        "temperature": (0.01, 1.0),
        "top_p": (0.01, 1.0),
        "max_tokens": (1, 2048),
        "reset": (None, None),
    }


async def test_tuning_reaches_the_model_request(scene):
    await start(scene, "narrator")
    await slash(scene, "scene tuning", scene.gm, temperature=0.42, top_p=0.77, max_tokens=123)
    request = await next_request(scene, "Narrator, hello?", "Well met.")
    assert (request.body["temperature"], request.body["top_p"], request.body["max_tokens"]) == (
        0.42,
        0.77,
        123,
    )

    await slash(scene, "scene tuning", scene.gm, reset=True)
    request = await next_request(scene, "Narrator, again?", "Again.")
    assert (request.body["temperature"], request.body["top_p"], request.body["max_tokens"]) == (
        NARRATOR_CARD.temperature,
        NARRATOR_CARD.top_p,
        NARRATOR_CARD.max_tokens,
    )


# ---- who may, and what /scene status shows --------------------------------------------------


async def test_players_cannot_change_ooc_or_tuning(scene):
    await start(scene, "narrator")
    for command, options in (
        ("scene ooc", {"handling": "mark"}),
        ("scene tuning", {"temperature": 0.3}),
        ("scene tuning", {"reset": True}),
    ):
        answer = await slash(scene, command, scene.alice, **options)
        assert answer.ephemeral and "Only game masters" in answer.content, command
    config = await stored(scene)
    assert (config.ooc_mode, config.generation) == (None, {})


async def test_ooc_and_tuning_need_a_running_scene(scene):
    for command, options in (("scene ooc", {"handling": "mark"}), ("scene tuning", {})):
        answer = await slash(scene, command, scene.gm, **options)
        assert answer.ephemeral and "no scene running" in answer.content, command


async def test_status_shows_ooc_handling_and_tuning(scene):
    await start(scene, "narrator")
    plain = await slash(scene, "scene status", scene.alice)
    assert "kept out of the prompt (the server default)" in plain.text
    assert "persona and server defaults" in plain.text

    await slash(scene, "scene ooc", scene.gm, handling="mark")
    await slash(scene, "scene tuning", scene.gm, temperature=0.6, max_tokens=200)
    tuned = await slash(scene, "scene status", scene.alice)
    assert tuned.ephemeral
    assert "included in the prompt, marked as OOC (set for this scene)" in tuned.text
    assert "temperature 0.6 · max tokens 200 (set for this scene)" in tuned.text
