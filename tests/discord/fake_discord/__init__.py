"""A fake Discord (REST API + gateway) on 127.0.0.1 that the real, unmodified discord.py talks to.

Use it in tests (the ``fake_discord`` fixture of ``tests/discord/conftest.py`` is the first line)::

    async with serving(message_limit=(5, 5.0)) as fake:  # FakeDiscord(...) started + point_discord_py_at
        fake.add_user("1001", "ada")
        client = discord.Client(intents=discord.Intents.default(), guild_ready_timeout=0.05)
        async with running_client(client, fake):  # login + gateway, waits for on_ready, closes after
            sent = await fake.user_sends_dm("1001", "hi")         # → on_message in the bot
            await fake.wait_for(lambda: len(fake.bot_messages(sent["channel_id"])) == 1)
        fake.assert_no_spec_errors()

``point_discord_py_at(fake)`` alone patches and restores ``discord.http.Route.BASE`` and
``discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY``.

Pass ``guild_ready_timeout`` (e.g. 0.05) to the client: discord.py otherwise waits 2 s for GUILD_CREATEs
before ``on_ready``.

The world (``FakeDiscord``)
    ``add_user(user_id, name, *, dms_open=True, locale="en-US")``, ``set_dms_open(user_id, open)``,
    ``add_guild(guild_id, name, members, roles=None, *, locale)`` (role id or role name → member ids; a
    ``general`` text channel: ``guild_channel_of(guild_id)``; ``role_id(guild_id, name)``),
    ``remove_member(guild_id, user_id)``, ``dm_channel_of(user_id)``.
    Attributes: ``rest_base``, ``gateway_url``, ``resume_gateway_url``, ``bot_user_id``,
    ``application_id``, ``token``, ``port``.

What users do (each dispatches a gateway event and returns at once; unknown users are a ``ValueError``)
    ``user_sends_dm(user_id, content, *, attachments=0)`` → MESSAGE_CREATE in the DM (type 1, no guild);
    ``user_sends_guild_message(user_id, guild_id, content)``;
    ``click(user_id, message_id, custom_id, *, values=None, force=False)`` → :class:`Interaction` (type 3;
    ``ValueError`` if the user cannot see the message — someone else's DM, a guild they are not in — or
    the component is absent/disabled, or the values don't fit the select; ``force=True`` skips the checks);
    ``submit_modal(user_id, interaction, custom_id, fields)`` (type 5, needs the bot's type-9 answer; modals
    of action rows, labels (18) and text displays (10); ``fields`` gives a string for a text input (4) or a
    radio group (21), a list of option values for a checkbox group (22); what Discord's client would refuse —
    a required field left empty, too few or too many boxes checked, an unknown option — is a ``ValueError``);
    ``slash_command(user_id, name, options, *, guild_id=None, locale="en-US")`` (type 2, needs a synced
    command; in the guild's channel, or in the DM when ``guild_id`` is None; a role option (type 8) comes with
    the role object in ``data.resolved.roles``, as Discord sends it).

What the bot did
    ``messages(channel_id, *, include_ephemeral=True)`` (snapshots with ``edits`` and ``ephemeral``),
    ``message(message_id)`` (one snapshot, or None),
    ``bot_messages(channel_id)``, ``typing_count(channel_id)``, ``deleted_messages``,
    ``requests`` (:class:`RecordedRequest`: method, path, route, query, json, files, status, spec_errors),
    ``requests_to(method, path_regex)``, ``spec_errors()``, ``assert_no_spec_errors()``,
    ``internal_errors`` (bugs in the fake itself, answered 400; the fixture fails a test that left any),
    ``world.global_commands`` / ``world.guild_commands``, ``gateway.stats`` (connections, identifies,
    resumes, resume_url_connections, heartbeats).
    :class:`Interaction`: ``id, token, type, data, user_id, channel_id, message_id, guild_id, response,
    response_type, response_data, ephemeral, modal, followups, original_message(), all_texts(),
    await wait_responded(timeout)``.

Faults
    ``force_429(method, path_regex, *, count=1, retry_after=0.2, global_=False)``;
    ``force_error(method, path_regex, status, code, message, *, count=1)`` (e.g. 403 / 50001 Missing Access);
    ``drop_connection(method, path_regex, *, count=1)`` (the socket closes with no answer: a network blip);
    ``await delete_message(message_id)`` (someone else deletes it: edits then get 404 / 10008);
    ``old_edits.age(message_id, seconds)`` / ``old_edits.limit`` (edits of messages older than an hour beyond
    ``limit`` per channel per hour answer 400 / 30046, see ``old_edits.py``);
    ``await disconnect_gateway()`` (close 4000 → discord.py RESUMEs, missed events are replayed);
    ``async with gateway_outage():`` (socket dropped and reconnections held until the block ends);
    ``await request_reconnect()`` (op 7 → RESUME); ``await invalidate_sessions()`` (RESUME refused with
    op 9 → a fresh IDENTIFY/READY, events in between lost, as on Discord; discord.py sleeps 5 s in
    ``Client.before_identify_hook`` before such a repeated IDENTIFY — override it in tests);
    closed DMs (403 / 50007 on send and typing); a second callback for an interaction (400 / 40060); a
    callback after ``interaction_deadline`` s (404 / 10062); a followup before the callback (404 / 10015).
    ``wait_for(predicate, timeout=5.0)`` waits for any condition on the fake's state.

Like Discord
    Rate limit headers on every response; messages sent and edited share a per-channel bucket
    (``message_limit``, default 5 per 5 s) and 429 beyond it with ``retry_after``/``global``; a global limit
    (``global_limit`` per second, interactions exempt); the bot receives its own DM messages (MESSAGE_CREATE,
    MESSAGE_UPDATE) with the DIRECT_MESSAGES intent; guild message content only with MESSAGE_CONTENT or a
    mention; a privileged intent not in ``allowed_privileged_intents`` closes the gateway with 4014; no
    CHANNEL_CREATE for DMs (Discord sends none to bots). Every request body is checked against
    ``tests/specs/discord-openapi.json`` (see :mod:`fake_discord.spec`): lazily, when ``spec_errors`` is
    read; with ``FakeDiscord(strict_spec=True)`` at once, answering a violation with 400 / 50035 like Discord.
    Discord's rules the schema cannot express are always enforced with 400 / 50035: content over 2000
    characters, more than 5 action rows (without the components-v2 flag), duplicate custom ids in one
    message, more than 6000 characters across embeds; an empty message is 400 / 50006.

Constructor options (``FakeDiscord(...)`` or ``serving(...)``)
    ``message_limit=(5, 5.0)`` sends+edits per channel per window, ``default_limit=(50, 1.0)`` per route,
    ``global_limit=50`` requests/s (None = off; interaction callbacks and webhooks are exempt),
    ``interaction_deadline=3.0``, ``allowed_privileged_intents=0``, ``strict_spec=False``, ``token``,
    ``bot_name``. ``fake.limiter.message_limit`` etc. can also be changed on a running fake.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Any, TypeVar

import discord
import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route

from .fake import FakeDiscord
from .recording import RecordedRequest
from .state import Interaction

__all__ = ["FakeDiscord", "Interaction", "RecordedRequest", "point_discord_py_at", "running_client", "serving"]

ClientT = TypeVar("ClientT", bound=discord.Client)


@contextlib.contextmanager
def point_discord_py_at(fake: FakeDiscord) -> Iterator[FakeDiscord]:
    """Point discord.py's REST base and default gateway at ``fake``; restore both afterwards."""
    old_base = Route.BASE
    old_gateway = DiscordWebSocket.DEFAULT_GATEWAY
    Route.BASE = fake.rest_base
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(fake.gateway_url)
    try:
        yield fake
    finally:
        Route.BASE = old_base
        DiscordWebSocket.DEFAULT_GATEWAY = old_gateway


@contextlib.asynccontextmanager
async def serving(**options: Any) -> AsyncIterator[FakeDiscord]:
    """A started :class:`FakeDiscord` (``options`` go to its constructor) with discord.py pointed at it."""
    async with FakeDiscord(**options) as fake:
        with point_discord_py_at(fake):
            yield fake


async def _until_ready(client: discord.Client) -> None:
    while not client.is_ready():  # noqa: ASYNC110 - the client's ready event exists only after login began
        await asyncio.sleep(0.01)


@contextlib.asynccontextmanager
async def running_client(
    client: ClientT,
    fake: FakeDiscord,
    *,
    timeout: float = 10.0,  # noqa: ASYNC109
) -> AsyncIterator[ClientT]:
    """Run ``client.start(fake.token)`` in a task until the block ends; waits for ``on_ready`` first.

    The caller must be inside :func:`point_discord_py_at`. A client that dies while starting raises here.
    """
    task = asyncio.create_task(client.start(fake.token), name="discord-client")
    ready = asyncio.create_task(_until_ready(client))
    try:
        done, _ = await asyncio.wait({task, ready}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        if task in done:
            task.result()  # raises what killed the client
            raise RuntimeError("the discord.py client stopped before it was ready")
        if ready not in done:
            raise TimeoutError(f"the discord.py client was not ready within {timeout} s")
        yield client
    finally:
        ready.cancel()
        await client.close()
        with contextlib.suppress(asyncio.CancelledError):
            try:
                await asyncio.wait_for(task, timeout=5.0)
            except TimeoutError:
                task.cancel()
