"""Driving slash commands, forms and buttons on the fake Discord, and reading the bot's answers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.discord import FakeInteraction, RecordedFile, User
from tests.fakes.discord.interactions import walk_components
from tests.harness import Scene

EPHEMERAL = 64
MESSAGE = 4
DEFERRED = 5
UPDATE = 7
MODAL = 9


@dataclass
class Answer:
    """What the bot finally said in answer to one interaction."""

    interaction: FakeInteraction
    callback_type: int
    body: dict[str, Any]
    """The message data (content, embeds, flags, components), or the modal for type 9."""
    files: list[RecordedFile] = field(default_factory=list)

    @property
    def content(self) -> str:
        return str(self.body.get("content") or "")

    @property
    def text(self) -> str:
        """Content plus every embed's title, description, fields and footer, for searching."""
        parts = [self.content]
        for embed in self.body.get("embeds") or []:
            parts += [embed.get("title") or "", embed.get("description") or ""]
            for item in embed.get("fields") or []:
                parts += [item["name"], item["value"]]
            parts.append((embed.get("footer") or {}).get("text") or "")
        return "\n".join(p for p in parts if p)

    @property
    def ephemeral(self) -> bool:
        return bool(int(self.body.get("flags") or 0) & EPHEMERAL)

    @property
    def message_id(self) -> int | None:
        return self.interaction.original_message_id


def final_answer(interaction: FakeInteraction) -> tuple[int, dict[str, Any]] | None:
    """The callback type and the last message body the bot sent, or None while it owes one.

    A deferred answer only counts once a followup or edit arrives, and keeps the defer's flags
    (an ephemeral "thinking…" stays ephemeral). After any other callback, a later followup or
    edit is what the user ends up reading, so its body wins over the callback's.
    """
    ok = [c for c in interaction.calls if c.status < 300]
    first = next((c for c in ok if c.kind == "callback"), None)
    if first is None or first.callback_type is None:
        return None
    later = [c for c in ok if c.kind in ("followup", "edit_original")]
    if first.callback_type == DEFERRED:
        if not later:
            return None
        deferred_flags = int((first.body.get("data") or {}).get("flags") or 0)
        body = dict(later[-1].body or {})
        body["flags"] = int(body.get("flags") or 0) | deferred_flags
        return DEFERRED, body
    if later:
        return first.callback_type, dict(later[-1].body or {})
    return first.callback_type, dict(first.body.get("data") or {})


async def answer_of(
    scene: Scene,
    interaction: FakeInteraction,
    *,
    until: Callable[[FakeInteraction], bool] | None = None,
    timeout: float = 5.0,
) -> Answer:
    """Wait for the bot's (final) answer to an interaction; `until` can demand more calls first."""

    def ready() -> tuple[int, dict[str, Any]] | None:
        found = final_answer(interaction)
        if found is None or (until is not None and not until(interaction)):
            return None
        return found

    callback_type, body = await scene.fake.wait_until(ready, timeout=timeout)
    files = [f for r in scene.fake.requests() if interaction.token in r.path for f in r.files]
    return Answer(interaction, callback_type, body, files)


async def slash(
    scene: Scene,
    command: str,
    user: User,
    *,
    channel_id: int | None = None,
    timeout: float = 5.0,
    **options: Any,
) -> Answer:
    """Run a slash command as `user` (in #tavern unless told) and wait for its answer."""
    interaction = await scene.fake.slash(
        command, user_id=user.id, channel_id=channel_id or scene.channel.id, options=options
    )
    return await answer_of(scene, interaction, timeout=timeout)


async def message_command(scene: Scene, name: str, message_id: int, user: User) -> Answer:
    """Use a message context-menu command on a message and wait for the answer."""
    interaction = await scene.fake.message_command(name, message_id=message_id, user_id=user.id)
    return await answer_of(scene, interaction)


async def submit(scene: Scene, modal: Answer, user: User, **values: str) -> Answer:
    """Submit the form `modal` opened, with `values` by input custom id (others as prefilled)."""
    assert modal.callback_type == MODAL, f"expected a modal, got {modal.body}"
    interaction = await scene.fake.submit_modal(
        modal.body["custom_id"], values, user.id, scene.channel.id
    )
    return await answer_of(scene, interaction)


def modal_inputs(modal: Answer) -> dict[str, dict[str, Any]]:
    """The text inputs of a modal by custom id."""
    return {
        c["custom_id"]: c
        for c in walk_components(modal.body.get("components") or [])
        if c.get("type") == 4
    }


def button_id(scene: Scene, message_id: int, label: str) -> str:
    """The custom id of the button labelled `label` on a message."""
    components = scene.fake.message(message_id).payload.get("components") or []
    for component in walk_components(components):
        if component.get("type") == 2 and component.get("label") == label:
            return str(component["custom_id"])
    raise AssertionError(f"no button {label!r} on message {message_id}: {components}")


async def press(
    scene: Scene,
    message_id: int,
    label: str,
    user: User,
    *,
    until: Callable[[FakeInteraction], bool] | None = None,
) -> Answer:
    """Click a button by label and wait for the bot's answer to the click."""
    interaction = await scene.fake.click(message_id, button_id(scene, message_id, label), user.id)
    return await answer_of(scene, interaction, until=until)
