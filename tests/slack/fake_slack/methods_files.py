"""Files as Slack documents the upload flow since `files.upload` was retired (and as slack_sdk's
`files_upload_v2` drives it), plus `usergroups.users.list`:

1. `files.getUploadURLExternal` (`filename` and `length` required; `length` 0 answers `missing_argument`)
   returns an `upload_url` and a `file_id`;
2. the bytes are POSTed to the `upload_url`, raw or multipart; Slack answers HTTP 200 `OK - <length>`;
3. `files.completeUploadExternal` (`files`: a JSON array of `{id, title}`) finishes the upload and, with
   `channel_id` (or `channels`), shares the files there with the `initial_comment` (or `blocks`) as one message.
   A file whose bytes never arrived, or that was completed before, is refused (`file_not_found`,
   `file_already_completed` — our reading; Slack's page lists no code for these cases).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiohttp import web

from .methods_chat import checked_blocks, require, resolve_channel
from .state import JSON, FakeMessage, Workspace
from .web_api import ApiError, method

if TYPE_CHECKING:
    from .core import FakeSlackBase

UPLOAD_PATH = "/upload/v1/{file_id}"


@dataclass
class FakeFile:
    """One file: announced, uploaded, completed (and shared)."""

    id: str
    team_id: str
    filename: str
    length: int
    alt_txt: str | None = None
    content: bytes | None = None
    title: str | None = None
    completed: bool = False
    channels: tuple[str, ...] = ()

    def to_api(self) -> JSON:
        return {"id": self.id, "name": self.filename, "title": self.title or self.filename, "size": self.length}


def files_of(fake: FakeSlackBase) -> dict[str, FakeFile]:
    """The fake's files by id (kept on the fake)."""
    found: dict[str, FakeFile] | None = getattr(fake, "files", None)
    if found is None:
        found = {}
        fake.files = found  # type: ignore[attr-defined]
    return found


@method("files.getUploadURLExternal")
def get_upload_url(fake: FakeSlackBase, ws: Workspace, args: JSON) -> JSON:
    filename = require(args, "filename")
    length_text = require(args, "length")
    try:
        length = int(length_text)
    except ValueError:
        raise ApiError("invalid_arguments") from None
    if length <= 0:
        raise ApiError("missing_argument")
    alt = args.get("alt_txt")
    if alt is not None and len(str(alt)) > 1000:
        raise ApiError("alt_txt_too_large")
    file_id = fake.ids.next_id("F")
    files_of(fake)[file_id] = FakeFile(file_id, ws.team_id, filename, length, str(alt) if alt else None)
    base = getattr(fake, "base_url", "")
    return {"upload_url": base + UPLOAD_PATH.format(file_id=file_id), "file_id": file_id}


async def receive_upload(fake: FakeSlackBase, request: web.Request) -> web.Response:
    """POST <upload_url>: the file's bytes, raw or multipart (a `filename` part)."""
    file = files_of(fake).get(request.match_info["file_id"])
    if file is None or file.completed:
        return web.Response(status=404, text="not_found")
    if request.content_type.startswith("multipart/"):
        content = b""
        async for part in await request.multipart():
            if isinstance(part, web.BodyPartReader) or hasattr(part, "read"):
                content += await part.read()  # type: ignore[union-attr]
    else:
        content = await request.read()
    file.content = content
    return web.Response(status=200, text=f"OK - {len(content)}")


@method("files.completeUploadExternal")
def complete_upload(fake: FakeSlackBase, ws: Workspace, args: JSON) -> JSON:
    raw = args.get("files")
    try:
        items = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        raise ApiError("invalid_arguments") from None
    if not isinstance(items, list) or not items or not all(isinstance(i, dict) and i.get("id") for i in items):
        raise ApiError("invalid_arguments")
    known = files_of(fake)
    chosen = []
    for item in items:
        file = known.get(str(item["id"]))
        if file is None or file.team_id != ws.team_id or file.content is None:
            raise ApiError("file_not_found")
        if file.completed:
            raise ApiError("file_already_completed")
        chosen.append((file, item.get("title")))
    targets = [str(args["channel_id"])] if args.get("channel_id") else []
    targets += [c for c in str(args.get("channels") or "").split(",") if c]
    channels = [resolve_channel(fake, ws, target) for target in targets]
    comment = str(args.get("initial_comment") or "")
    blocks = None if comment else checked_blocks(args)
    for file, title in chosen:
        file.completed, file.title, file.channels = True, str(title) if title else None, tuple(channels)
    for channel in channels:
        msg = FakeMessage(
            channel=channel,
            ts=fake.ids.next_ts(),
            text=comment,
            blocks=blocks,
            user=fake.bot_user_id,
            bot_id=fake.bot_id,
            thread_ts=str(args["thread_ts"]) if args.get("thread_ts") else None,
        )
        msg.files = [file.to_api() for file, _ in chosen]
        ws.messages[channel].append(msg)
        fake.on_bot_message(msg, ws.team_id)
    return {"files": [file.to_api() for file, _ in chosen]}


@method("usergroups.users.list")
def usergroup_users(fake: FakeSlackBase, ws: Workspace, args: JSON) -> JSON:
    group = require(args, "usergroup")
    members: dict[str, list[str]] = getattr(fake, "usergroups", {})
    if group not in members:
        raise ApiError("no_such_subteam")
    return {"users": list(members[group])}
