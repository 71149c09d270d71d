"""Attachment bytes served by the fake, so `Attachment.read()` works against it."""

from __future__ import annotations

import mimetypes
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from .snowflakes import SnowflakeFactory


@dataclass(frozen=True)
class StoredFile:
    """An uploaded or served file."""

    id: int
    filename: str
    content_type: str
    data: bytes


class AttachmentStore:
    """Holds file bytes and builds attachment objects pointing at `/attachments/{id}/{name}`."""

    def __init__(self, snowflakes: SnowflakeFactory, base_url: Callable[[], str]) -> None:
        self._snowflakes = snowflakes
        self._base_url = base_url
        self.files: dict[int, StoredFile] = {}

    def add(
        self,
        filename: str,
        data: bytes,
        *,
        content_type: str | None = None,
        description: str | None = None,
    ) -> dict[str, Any]:
        """Store bytes and return the attachment object Discord would hand out."""
        kind = content_type or mimetypes.guess_type(filename)[0] or "application/octet-stream"
        stored = StoredFile(self._snowflakes.next(), filename, kind, data)
        self.files[stored.id] = stored
        url = f"{self._base_url()}/attachments/{stored.id}/{filename}"
        attachment: dict[str, Any] = {
            "id": str(stored.id),
            "filename": filename,
            "size": len(data),
            "url": url,
            "proxy_url": url,
            "content_type": kind,
        }
        if description is not None:
            attachment["description"] = description
        return attachment

    async def handle(self, request: web.Request) -> web.Response:
        """GET /attachments/{id}/{filename}."""
        stored = self.files.get(int(request.match_info["attachment_id"]))
        if stored is None or stored.filename != request.match_info["filename"]:
            return web.Response(status=404, text="Not Found")
        return web.Response(body=stored.data, headers={"Content-Type": stored.content_type})
