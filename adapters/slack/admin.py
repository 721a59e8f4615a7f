"""``/interview results|export|admin <study>`` on Slack, for the admins the studies file names.

An admin is a user in ``admins.slack_users`` or a member of one of ``admins.slack_usergroups``
(``usergroups.users.list``). The digest and its charts go to the channel the command ran in; the CSV export goes
to the admin's DM with the app, so only they get it.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.context.respond.async_respond import AsyncRespond

from adapters.slack.adapter import SlackAdapter, conversation_key
from adapters.slack.people import People
from adapters.slack.results import card_blocks, card_text
from bot.core import AdminActor, Bridge, StudyState

__all__ = ["ADMIN_COMMANDS", "admin_actor", "run_admin_command"]

log = logging.getLogger("adapters.slack")

ADMIN_COMMANDS = ("results", "export", "admin")
_ACTIONS = {"pause": StudyState.PAUSED, "resume": StudyState.OPEN, "close": StudyState.CLOSED}


async def _groups(adapter: SlackAdapter, bridge: Bridge, user: str) -> frozenset[str]:
    """The admin user groups ``user`` belongs to."""
    found = set()
    for group in bridge.studies.admins.slack_usergroups:
        try:
            response = await adapter.client.usergroups_users_list(usergroup=group)
        except Exception as error:  # usergroups:read missing, group gone: that group grants nothing
            log.info("slack usergroups.users.list unavailable: %s", type(error).__name__)
            continue
        if user in (response.get("users") or []):
            found.add(group)
    return frozenset(found)


async def admin_actor(adapter: SlackAdapter, bridge: Bridge, people: People, team: str, user: str) -> AdminActor:
    """Who runs an admin command: the user, the admins' user groups they are in, their language."""
    locale = (await people.respondent(team, user)).locale
    return AdminActor("slack", user, await _groups(adapter, bridge, user), locale=locale)


async def run_admin_command(
    words: list[str], body: dict[str, Any], respond: AsyncRespond, bridge: Bridge, adapter: SlackAdapter, people: People
) -> None:
    """Run ``/interview results|export|admin …`` (``words`` as typed after the command)."""
    team, user = str(body.get("team_id") or ""), str(body.get("user_id") or "")
    sub = words[0].lower()
    actor = await admin_actor(adapter, bridge, people, team, user)
    desk = bridge.desk
    tr = desk.translations(actor)
    if not desk.may_administer(actor):
        await respond(text=tr.gettext("Only the study's admins can do that."), response_type="ephemeral")
        return
    study = desk.find(words[1] if len(words) > 1 else None, tr)
    if isinstance(study, str):
        await respond(text=study, response_type="ephemeral")
        return
    if sub == "results":
        digest = await desk.digest(study, tr)
        if digest.card is None:
            await respond(text=digest.withheld or "", response_type="ephemeral")
            return
        channel = str(body.get("channel_id") or "")
        await respond(text=tr.gettext("Posting the results of “{study}” here…").format(study=study.name))
        await adapter.post_results(channel, digest.card, digest.charts)
        return
    if sub == "export":
        key = conversation_key(team, await people.dm_channel(team, user), user)
        file = await desk.export(study)
        text = tr.gettext("The interviews of “{study}” as CSV (respondents pseudonymous).").format(study=study.name)
        await adapter.send_file_privately(key, file, text)
        await respond(text=tr.gettext("Sent to our DM."), response_type="ephemeral")
        return
    action = words[2].lower() if len(words) > 2 else None
    said = None
    if action in _ACTIONS:
        said = await desk.set_state(study, _ACTIONS[action], tr)
    elif action is not None:
        await respond(text=tr.gettext("Use pause, resume or close."), response_type="ephemeral")
        return
    card = desk.counts_card(study, await desk.counts(study), tr)
    await respond(text=said or card_text(card), blocks=card_blocks(card), response_type="ephemeral")
