"""Interaction callbacks, `@original` and followups, with the 3 s ack and 15 min token rules."""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web

from .bodies import body_of, json_object, snowflake_param
from .core import Core
from .errors import (
    DiscordError,
    already_acknowledged,
    field_error,
    invalid_form_body,
    invalid_webhook_token,
    json_response,
    unknown_interaction,
    unknown_message,
    unknown_webhook,
)
from .interactions import (
    APPLICATION_COMMAND,
    AUTOCOMPLETE,
    MESSAGE_COMPONENT,
    MODAL_SUBMIT,
    PING,
    FakeInteraction,
    InteractionCall,
)
from .messages import FLAG_EPHEMERAL, FLAG_LOADING, SENDABLE_FLAGS
from .payloads import user_payload
from .world import StoredMessage

PONG = 1
CHANNEL_MESSAGE = 4
DEFERRED_CHANNEL_MESSAGE = 5
DEFERRED_UPDATE_MESSAGE = 6
UPDATE_MESSAGE = 7
AUTOCOMPLETE_RESULT = 8
MODAL = 9

_ALLOWED_CALLBACKS = {
    PING: {PONG},
    APPLICATION_COMMAND: {CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE, MODAL},
    MESSAGE_COMPONENT: {
        CHANNEL_MESSAGE,
        DEFERRED_CHANNEL_MESSAGE,
        DEFERRED_UPDATE_MESSAGE,
        UPDATE_MESSAGE,
        MODAL,
    },
    AUTOCOMPLETE: {AUTOCOMPLETE_RESULT},
    MODAL_SUBMIT: {
        CHANNEL_MESSAGE,
        DEFERRED_CHANNEL_MESSAGE,
        DEFERRED_UPDATE_MESSAGE,
        UPDATE_MESSAGE,
    },
}


class InteractionRoutes:
    """Handlers for `/interactions/...` and interaction-token `/webhooks/{app_id}/{token}/...`."""

    def __init__(self, core: Core) -> None:
        self.core = core

    def register(self, router: web.UrlDispatcher, prefix: str) -> None:
        """Add the callback route (the webhook routes delegate here by token)."""
        router.add_post(prefix + "/interactions/{interaction_id}/{token}/callback", self.callback)

    def owns(self, webhook_id: int, token: str) -> FakeInteraction | None:
        """The interaction behind an application-id webhook URL, if it is one."""
        if webhook_id != self.core.world.application.id:
            return None
        return self.core.interactions.by_token.get(token)

    # -- initial response -----------------------------------------------------------------

    async def callback(self, request: web.Request) -> web.Response:
        """POST /interactions/{id}/{token}/callback (answered 200 + JSON, as with_response=1)."""
        interaction = self.core.interactions.by_id.get(snowflake_param(request, "interaction_id"))
        if interaction is None or interaction.token != request.match_info["token"]:
            raise unknown_interaction()
        body = json_object(request)
        try:
            response = self._respond(interaction, body)
        except DiscordError as exc:
            self._log(interaction, "callback", body, exc.status, callback_type=body.get("type"))
            raise
        self._log(
            interaction,
            "callback",
            body,
            200,
            callback_type=body.get("type"),
            message_id=interaction.original_message_id,
        )
        if not request.query.get("with_response"):
            return web.Response(status=204)
        return json_response(response)

    def _respond(self, interaction: FakeInteraction, body: dict[str, Any]) -> dict[str, Any]:
        if self.core.clock() - interaction.created_at > self.core.timing.ack_deadline:
            raise unknown_interaction()
        if interaction.acknowledged:
            raise already_acknowledged()
        kind = body.get("type")
        if kind not in _ALLOWED_CALLBACKS.get(interaction.type, set()):
            raise invalid_form_body(
                {
                    "type": field_error(
                        "INTERACTION_RESPONSE_TYPE_INVALID", f"Invalid response type {kind}"
                    )
                }
            )
        data = body.get("data") or {}
        message: StoredMessage | None = None
        if kind in (CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE):
            message = self._original(interaction, data, deferred=kind == DEFERRED_CHANNEL_MESSAGE)
        elif kind == UPDATE_MESSAGE:
            message = self._source(interaction)
            self.core.messages.edit(message, self.core.interaction_author(), data)
        elif kind == MODAL:
            interaction.modal = data
        elif kind == AUTOCOMPLETE_RESULT:
            interaction.autocomplete_choices = list(data.get("choices") or [])
        interaction.response_type = int(kind)
        if message is not None and kind in (CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE):
            interaction.original_message_id = message.id
        summary: dict[str, Any] = {"id": str(interaction.id), "type": interaction.type}
        response: dict[str, Any] = {"interaction": summary}
        if message is not None:
            summary.update(
                {
                    "response_message_id": str(message.id),
                    "response_message_loading": bool(message.flags & FLAG_LOADING),
                    "response_message_ephemeral": bool(message.flags & FLAG_EPHEMERAL),
                }
            )
            response["resource"] = {"type": kind, "message": message.payload}
        return response

    def _original(
        self, interaction: FakeInteraction, data: dict[str, Any], *, deferred: bool
    ) -> StoredMessage:
        channel = self.core.channel(interaction.channel_id)
        flags = int(data.get("flags") or 0) & FLAG_EPHEMERAL
        body = {"flags": flags | FLAG_LOADING, "content": ""} if deferred else data
        return self.core.messages.create(
            channel,
            self.core.interaction_author(),
            body,
            message_type=20 if interaction.type == APPLICATION_COMMAND else 0,
            interaction_metadata=self._metadata(interaction),
            interaction_id=interaction.id,
            validate=not deferred,
            allowed_flags=SENDABLE_FLAGS | FLAG_EPHEMERAL | FLAG_LOADING,
        )

    def _metadata(self, interaction: FakeInteraction) -> dict[str, Any]:
        world = self.core.world
        metadata: dict[str, Any] = {
            "id": str(interaction.id),
            "type": interaction.type,
            "user": user_payload(world.users[interaction.user_id]),
            "authorizing_integration_owners": interaction.payload.get(
                "authorizing_integration_owners", {}
            ),
        }
        if interaction.type == APPLICATION_COMMAND:
            metadata["name"] = interaction.data.get("name", "")
            metadata["command_type"] = interaction.data.get("type", 1)
        if interaction.source_message_id is not None:
            metadata["interacted_message_id"] = str(interaction.source_message_id)
        return metadata

    def _source(self, interaction: FakeInteraction) -> StoredMessage:
        if interaction.source_message_id is None:
            raise invalid_form_body(
                {"type": field_error("INTERACTION_RESPONSE_TYPE_INVALID", "No message to update")}
            )
        stored = self.core.world.messages.get(interaction.source_message_id)
        if stored is None or stored.deleted:
            raise unknown_message()
        return stored

    # -- @original and followups ------------------------------------------------------------

    def _check_token(self, interaction: FakeInteraction) -> None:
        if self.core.clock() - interaction.created_at > self.core.timing.token_lifetime:
            raise invalid_webhook_token()

    def _target(self, interaction: FakeInteraction, ref: str) -> StoredMessage:
        """The message `@original` or a followup id refers to."""
        if ref == "@original":
            if interaction.response_type in (DEFERRED_UPDATE_MESSAGE, UPDATE_MESSAGE):
                return self._source(interaction)
            message_id = interaction.original_message_id
        else:
            if not ref.isdigit():
                raise unknown_message()
            message_id = int(ref)
            owned = {interaction.original_message_id, *interaction.followup_ids}
            if message_id not in owned:
                raise unknown_message()
        stored = None if message_id is None else self.core.world.messages.get(message_id)
        if stored is None or stored.deleted:
            raise unknown_message()
        return stored

    async def followup(self, request: web.Request, interaction: FakeInteraction) -> web.Response:
        """POST /webhooks/{app_id}/{token}: a followup (the first after a defer fills it)."""
        body = json_object(request)
        try:
            self._check_token(interaction)
            if not interaction.acknowledged:
                raise unknown_webhook()
            self.core.limit_interaction(request, interaction.channel_id)
            stored = self._create_followup(interaction, body, request)
        except DiscordError as exc:
            self._log(interaction, "followup", body, exc.status)
            raise
        self._log(interaction, "followup", body, 200, message_id=stored.id)
        return json_response(stored.payload)

    def _create_followup(
        self, interaction: FakeInteraction, body: dict[str, Any], request: web.Request
    ) -> StoredMessage:
        files = body_of(request).files
        placeholder = (
            self.core.world.messages.get(interaction.original_message_id)
            if interaction.original_message_id is not None
            else None
        )
        if (
            placeholder is not None
            and not placeholder.deleted
            and placeholder.flags & FLAG_LOADING
            and not interaction.followup_ids
        ):
            # Discord's documented legacy behaviour: the first followup edits the loading message.
            self.core.messages.clear_loading(placeholder)
            self.core.messages.edit(placeholder, self.core.interaction_author(), body, files)
            return placeholder
        channel = self.core.channel(interaction.channel_id)
        stored = self.core.messages.create(
            channel,
            self.core.interaction_author(),
            body,
            files,
            interaction_metadata=self._metadata(interaction),
            interaction_id=interaction.id,
            allowed_flags=SENDABLE_FLAGS | FLAG_EPHEMERAL,
        )
        interaction.followup_ids.append(stored.id)
        return stored

    async def message(
        self, request: web.Request, interaction: FakeInteraction, ref: str
    ) -> web.Response:
        """GET/PATCH/DELETE /webhooks/{app_id}/{token}/messages/{@original|id}."""
        method = request.method
        kind = ("get_" if method == "GET" else "edit_" if method == "PATCH" else "delete_") + (
            "original" if ref == "@original" else "followup"
        )
        body = json_object(request) if method == "PATCH" else None
        try:
            self._check_token(interaction)
            stored = self._target(interaction, ref)
            if method != "GET":
                self.core.limit_interaction(request, interaction.channel_id)
            if method == "PATCH":
                assert body is not None
                self.core.messages.clear_loading(stored)
                self.core.messages.edit(
                    stored, self.core.interaction_author(), body, body_of(request).files
                )
                response = json_response(stored.payload)
            elif method == "DELETE":
                self.core.messages.delete(stored)
                response = web.Response(status=204)
            else:
                response = json_response(stored.payload)
        except DiscordError as exc:
            self._log(interaction, kind, body, exc.status)
            raise
        self._log(interaction, kind, body, response.status, message_id=stored.id)
        return response

    def _log(
        self,
        interaction: FakeInteraction,
        kind: str,
        body: Any,
        status: int,
        *,
        callback_type: Any = None,
        message_id: int | None = None,
    ) -> None:
        interaction.calls.append(
            InteractionCall(
                kind=kind,
                body=body,
                status=status,
                at=time.monotonic(),
                callback_type=None if callback_type is None else int(callback_type),
                message_id=message_id,
            )
        )
