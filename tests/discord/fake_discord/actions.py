"""What users do in the fake Discord: write DMs and guild messages, click components, submit modals and
run slash commands. Each dispatches the gateway event the bot would get and returns at once."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from . import interactions
from .interactions import (
    APPLICATION_COMMAND,
    APPLICATION_COMMAND_AUTOCOMPLETE,
    COMPONENT,
    MODAL_SUBMIT,
    build_interaction,
)
from .state import DM, Channel, Interaction, World, find_component

if TYPE_CHECKING:
    from .fake import FakeDiscord
    from .gateway import Gateway


class UserActions:
    """Mixed into :class:`~fake_discord.fake.FakeDiscord`: the users' side of the conversation."""

    if TYPE_CHECKING:
        world: World
        gateway: Gateway

        def notify(self) -> None: ...
        def guild_channel_of(self, guild_id: str) -> str: ...
        async def dispatch_message_event(self, event: str, channel: Channel, message: dict[str, Any]) -> None: ...

    def _fake(self) -> FakeDiscord:
        return cast("FakeDiscord", self)

    def _known(self, user_id: str) -> str:
        if user_id not in self.world.users:
            raise ValueError(f"unknown user {user_id}: call add_user first")
        return user_id

    async def user_sends_dm(self, user_id: str, content: str, *, attachments: int = 0) -> dict[str, Any]:
        """The user writes to the bot in their DM (MESSAGE_CREATE, channel type 1, no guild_id)."""
        channel, _ = self.world.open_dm(self._known(user_id))
        photos = [
            {"id": str(n), "filename": f"photo{n}.png", "size": 1024, "content_type": "image/png"}
            for n in range(attachments)
        ]
        message = self.world.new_message(channel, user_id, {"content": content, "attachments": photos})
        await self.dispatch_message_event("MESSAGE_CREATE", channel, message)
        self.notify()
        return self.world.snapshot(message)

    async def user_sends_guild_message(self, user_id: str, guild_id: str, content: str) -> dict[str, Any]:
        """The user writes in the guild's text channel (content only reaches the bot with MESSAGE_CONTENT)."""
        channel = self.world.channels[self.guild_channel_of(guild_id)]
        message = self.world.new_message(channel, self._known(user_id), {"content": content})
        message["member"] = {k: v for k, v in self.world.member_payload(guild_id, user_id).items() if k != "user"}
        await self.dispatch_message_event("MESSAGE_CREATE", channel, message)
        return self.world.snapshot(message)

    async def click(
        self,
        user_id: str,
        message_id: str,
        custom_id: str,
        *,
        values: list[str] | None = None,
        force: bool = False,
    ) -> Interaction:
        """The user clicks a button / picks in a select on a message (INTERACTION_CREATE type 3).

        Raises ``ValueError`` when the user cannot see the message (someone else's DM, a guild they are not
        in), the message has no such enabled component, or ``values`` break the select's options or min/max
        (a Discord client would not let that happen); ``force=True`` sends it anyway (a stale client).
        """
        self._known(user_id)
        message = self.world.find_message(message_id)
        if message is None:
            raise ValueError(f"no message {message_id}")
        component = find_component(message.get("components") or [], custom_id)
        channel = self.world.channels[message["channel_id"]]
        if not force:
            if channel.type == DM and channel.recipient_id != user_id:
                raise ValueError(f"user {user_id} cannot see the DM of {channel.recipient_id}")
            if channel.guild_id is not None and user_id not in self.world.guilds[channel.guild_id]["_members"]:
                raise ValueError(f"user {user_id} is not a member of guild {channel.guild_id}")
            if component is None:
                raise ValueError(f"message {message_id} has no component {custom_id!r}")
            if component.get("disabled"):
                raise ValueError(f"component {custom_id!r} is disabled")
            _check_select_values(component, values)
        component_type = int((component or {}).get("type") or (3 if values is not None else 2))
        data: dict[str, Any] = {"custom_id": custom_id, "component_type": component_type}
        if component_type in (3, 5, 6, 7, 8):
            data["values"] = list(values or [])
        interaction = build_interaction(
            self._fake(),
            kind=COMPONENT,
            user_id=user_id,
            channel=channel,
            data=data,
            message=message,
            locale=self.world.users[user_id]["locale"],
        )
        await self.gateway.dispatch("INTERACTION_CREATE", interaction.payload)
        return interaction

    async def submit_modal(
        self, user_id: str, interaction: Interaction, custom_id: str, fields: dict[str, str | list[str]]
    ) -> Interaction:
        """The user submits the modal the bot opened in answer to ``interaction`` (INTERACTION_CREATE type 5).

        ``fields`` maps custom ids to what the user entered (a string for a text input or a radio group, a list
        for a checkbox group); raises ``ValueError`` if no such modal is open or Discord's client would refuse
        the input (a required field left empty, too many or too few boxes checked, an unknown option)."""
        self._known(user_id)
        modal = interaction.modal
        if modal is None:
            raise ValueError("the bot did not answer this interaction with a modal")
        if modal.get("custom_id") != custom_id:
            raise ValueError(f"the open modal is {modal.get('custom_id')!r}, not {custom_id!r}")
        data = {"custom_id": custom_id, "components": interactions.modal_submission(modal, fields)}
        channel = self.world.channels[interaction.channel_id]
        message = self.world.find_message(interaction.message_id) if interaction.message_id else None
        submitted = build_interaction(
            self._fake(),
            kind=MODAL_SUBMIT,
            user_id=user_id,
            channel=channel,
            data=data,
            message=message,
            locale=self.world.users[user_id]["locale"],
        )
        await self.gateway.dispatch("INTERACTION_CREATE", submitted.payload)
        return submitted

    async def autocomplete(
        self,
        user_id: str,
        name: str,
        options: list[dict[str, Any]],
        *,
        guild_id: str | None = None,
        locale: str = "en-US",
    ) -> Interaction:
        """The user is typing an option of ``/name`` (INTERACTION_CREATE type 4): ``options`` as for
        :meth:`slash_command`, with ``"focused": true`` on the option being typed. The bot answers with
        callback type 8 and its ``choices``."""
        return await self.slash_command(user_id, name, options, guild_id=guild_id, locale=locale, kind=4)

    async def slash_command(
        self,
        user_id: str,
        name: str,
        options: list[dict[str, Any]],
        *,
        guild_id: str | None = None,
        locale: str = "en-US",
        kind: int = APPLICATION_COMMAND,
    ) -> Interaction:
        """The user runs ``/name`` (options as Discord sends them, e.g. a sub-command
        ``[{"type": 1, "name": "start", "options": [{"type": 3, "name": "study", "value": "x"}]}]``) in the
        guild's text channel, or in their DM when ``guild_id`` is None. The command must have been synced
        (PUT .../commands) — otherwise ``ValueError``, as a user could not run it."""
        self._known(user_id)
        commands = list(self.world.global_commands)
        if guild_id is not None:
            commands = self.world.guild_commands.get(guild_id, []) + commands
        command = next((c for c in commands if c["name"] == name and c.get("type", 1) == 1), None)
        if command is None:
            raise ValueError(f"/{name} is not registered (did the bot sync its command tree?)")
        if guild_id is None:
            channel, _ = self.world.open_dm(user_id)
        else:
            if user_id not in self.world.guilds[guild_id]["_members"]:
                raise ValueError(f"user {user_id} is not a member of guild {guild_id}")
            channel = self.world.channels[self.guild_channel_of(guild_id)]
        data: dict[str, Any] = {"id": command["id"], "name": name, "type": 1, "options": options}
        roles = _resolved_roles(self.world, guild_id, options)
        if roles:  # Discord sends the objects that user, role and channel options name along
            data["resolved"] = {"roles": roles}
        if "guild_id" in command:
            data["guild_id"] = command["guild_id"]
        if kind not in (APPLICATION_COMMAND, APPLICATION_COMMAND_AUTOCOMPLETE):
            raise ValueError(f"not a command interaction type: {kind}")
        interaction = build_interaction(
            self._fake(),
            kind=kind,
            user_id=user_id,
            channel=channel,
            data=data,
            message=None,
            locale=locale,
        )
        await self.gateway.dispatch("INTERACTION_CREATE", interaction.payload)
        return interaction


def _resolved_roles(world: World, guild_id: str | None, options: list[dict[str, Any]]) -> dict[str, Any]:
    """The role objects that role options (type 8, also inside sub-commands) name, by id (``resolved.roles``)."""
    if guild_id is None:
        return {}
    roles = {role["id"]: role for role in world.guild_payload(guild_id)["roles"]}
    named: dict[str, Any] = {}
    pending = list(options)
    while pending:
        option = pending.pop()
        pending.extend(option.get("options") or [])
        if option.get("type") == 8 and str(option.get("value")) in roles:
            named[str(option["value"])] = roles[str(option["value"])]
    return named


def _check_select_values(component: dict[str, Any], values: list[str] | None) -> None:
    if component.get("type") == 2:
        if values is not None:
            raise ValueError("a button takes no values")
        return
    chosen = list(values or [])
    low = int(component.get("min_values", 1))
    high = int(component.get("max_values", 1))
    if not low <= len(chosen) <= high:
        raise ValueError(f"select {component.get('custom_id')!r} takes {low}..{high} values, got {len(chosen)}")
    if component.get("type") == 3:
        allowed = {str(o.get("value")) for o in component.get("options", [])}
        unknown = [v for v in chosen if v not in allowed]
        if unknown:
            raise ValueError(f"select {component.get('custom_id')!r} has no options {unknown}")
