"""``/interview forget-me`` and ``/interview my-data`` on Slack.

forget-me asks in the DM first (Erase my data / Keep it); my-data uploads a JSON file into the person's DM with the
app — a conversation only they and the app are in — through ``files.getUploadURLExternal`` and
``files.completeUploadExternal`` (``files_upload_v2``).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from slack_bolt.async_app import AsyncRespond
from slack_sdk.errors import SlackApiError

from adapters.slack.adapter import conversation_key
from adapters.slack.calls import error_code
from bot.core import ForgetMe, MyData, OutcomeKind, catalogue

if TYPE_CHECKING:
    from adapters.slack.shared import ListenerDeps

__all__ = ["PRIVACY_COMMANDS", "privacy_command"]

log = logging.getLogger(__name__)

#: The subcommands of ``/interview`` answered here.
PRIVACY_COMMANDS = ("forget-me", "my-data")


async def privacy_command(
    deps: ListenerDeps, sub: str, team: str, user: str, locale: str | None, respond: AsyncRespond
) -> None:
    """Answer ``/interview forget-me`` or ``/interview my-data`` (ephemerally; the file goes to the DM)."""
    tr = catalogue(locale)
    try:
        channel = await deps.people.dm_channel(team, user)
    except Exception as error:  # e.g. the app cannot open a DM with this user
        log.info("slack /interview %s: no DM channel (%s)", sub, type(error).__name__)
        text = tr.gettext("I can't open a direct message with you — please message me in my Messages tab.")
        await respond(text=text, response_type="ephemeral")
        return
    key = conversation_key(team, channel, user)
    if sub == "forget-me":
        outcome = await deps.bridge.handle(ForgetMe(key, actor=user, locale=locale))
        if outcome.kind is OutcomeKind.ACCEPTED:
            text = tr.gettext("I've asked you in our DM to confirm — nothing is erased until you do.")
        else:
            text = outcome.message or tr.gettext("Nothing to do.")
        await respond(text=text, response_type="ephemeral")
        return
    outcome = await deps.bridge.handle(MyData(key, locale=locale))
    if outcome.file is None:
        await respond(text=outcome.message or tr.gettext("Nothing to do."), response_type="ephemeral")
        return
    try:
        await deps.adapter.client.files_upload_v2(
            channel=channel,
            file=outcome.file.content,
            filename=outcome.file.name,
            title=outcome.file.name,
            initial_comment=outcome.message,
        )
    except SlackApiError as error:
        log.warning("slack my-data upload failed (%s)", error_code(error))
        text = tr.gettext("I couldn't send the file just now — please try again in a minute.")
        await respond(text=text, response_type="ephemeral")
        return
    await respond(text=tr.gettext("I've sent the file to our DM."), response_type="ephemeral")
