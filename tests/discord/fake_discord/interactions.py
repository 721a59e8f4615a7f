"""Interactions: building INTERACTION_CREATE payloads (clicks, modal submits, slash commands) and the REST
side the bot answers through — ``POST /interactions/{id}/{token}/callback`` and the interaction webhook
(``/webhooks/{application_id}/{token}[/messages/@original|/{message_id}]``).

Discord's rules the fake enforces: one callback per interaction (then 400/40060), a callback later than
``interaction_deadline`` seconds (3 s on Discord) is 404/10062, followups only after the callback, type 6/7
only for component interactions, no modal in answer to a modal submit.
"""

from __future__ import annotations

import secrets
import time
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .recording import (
    ALREADY_ACKNOWLEDGED,
    UNKNOWN_INTERACTION,
    UNKNOWN_MESSAGE,
    UNKNOWN_WEBHOOK,
    DiscordError,
    error,
)
from .rest import PREFIX, body_of, check_message_body, fake_of, json_response
from .state import DM, EPHEMERAL, LOADING, Channel, Interaction, new_snowflake

if TYPE_CHECKING:
    from .fake import FakeDiscord

COMPONENT = 3
MODAL_SUBMIT = 5
APPLICATION_COMMAND = 2
APPLICATION_COMMAND_AUTOCOMPLETE = 4
#: Discord's limits on an autocomplete result: at most 25 choices, names 1-100 characters, values up to 100.
MAX_CHOICES = 25


def build_interaction(
    fake: FakeDiscord,
    *,
    kind: int,
    user_id: str,
    channel: Channel,
    data: dict[str, Any],
    message: dict[str, Any] | None,
    locale: str,
) -> Interaction:
    """Create, store and return an interaction (its ``payload`` is the INTERACTION_CREATE body)."""
    world = fake.world
    interaction_id = new_snowflake()
    token = "aW50ZXJhY3Rpb246" + secrets.token_urlsafe(48)
    payload: dict[str, Any] = {
        "id": interaction_id,
        "application_id": fake.application_id,
        "type": kind,
        "data": data,
        "channel_id": channel.id,
        "channel": channel.payload(world),
        "token": token,
        "version": 1,
        "locale": locale,
        "app_permissions": "2248473465835073",
        "entitlements": [],
        "attachment_size_limit": 10485760,
    }
    if channel.guild_id is not None:
        guild = world.guilds[channel.guild_id]
        payload.update(
            guild_id=channel.guild_id,
            guild={"id": channel.guild_id, "locale": guild["preferred_locale"], "features": []},
            guild_locale=guild["preferred_locale"],
            member=world.member_payload(channel.guild_id, user_id),
            authorizing_integration_owners={"0": channel.guild_id},
            context=0,
        )
    else:
        payload.update(
            user=world.user_payload(user_id),
            authorizing_integration_owners={"1": user_id},
            context=1 if channel.type == DM else 2,
        )
    if message is not None:
        payload["message"] = message
    interaction = Interaction(
        id=interaction_id,
        token=token,
        type=kind,
        data=data,
        user_id=user_id,
        channel_id=channel.id,
        message_id=message["id"] if message is not None else None,
        guild_id=channel.guild_id,
        created_monotonic=time.monotonic(),
        payload=payload,
        _world=world,
    )
    world.interactions[interaction_id] = interaction
    world.interactions_by_token[token] = interaction
    return interaction


FieldValue = str | list[str]


def _text_answer(component: dict[str, Any], value: FieldValue | None) -> dict[str, Any]:
    custom_id = component["custom_id"]
    if isinstance(value, list):
        raise ValueError(f"modal field {custom_id!r} is a text input: give a string")
    if value is None:
        if component.get("required", True) and not component.get("value"):
            raise ValueError(f"modal field {custom_id!r} is required")
        value = ""
    min_len, max_len = component.get("min_length"), component.get("max_length")
    if (min_len is not None and value and len(value) < min_len) or (max_len is not None and len(value) > max_len):
        raise ValueError(f"modal field {custom_id!r}: length {len(value)} outside {min_len}..{max_len}")
    return {"type": 4, "id": component.get("id", 0), "custom_id": custom_id, "value": value}


def _radio_answer(component: dict[str, Any], value: FieldValue | None) -> dict[str, Any]:
    """A radio group (21): one option's value, or none when not required (Discord's client enforces both)."""
    custom_id = component["custom_id"]
    allowed = [o["value"] for o in component.get("options", [])]
    if isinstance(value, list):
        raise ValueError(f"modal field {custom_id!r} is a radio group: give one value")
    if value is None and component.get("required", True):
        raise ValueError(f"modal field {custom_id!r} is required")
    if value is not None and value not in allowed:
        raise ValueError(f"modal field {custom_id!r}: {value!r} is not one of its options")
    return {"type": 21, "id": component.get("id", 0), "custom_id": custom_id, "value": value}


def _checkbox_answer(component: dict[str, Any], value: FieldValue | None) -> dict[str, Any]:
    """A checkbox group (22): option values, between ``min_values`` (default 0; 1 when required) and
    ``max_values`` (default 1), as Discord's client enforces them."""
    custom_id = component["custom_id"]
    allowed = [o["value"] for o in component.get("options", [])]
    values = [] if value is None else value
    if isinstance(values, str):
        raise ValueError(f"modal field {custom_id!r} is a checkbox group: give a list of values")
    low = component.get("min_values")
    low = (1 if component.get("required", True) else 0) if low is None else low
    high = component.get("max_values")
    high = 1 if high is None else high
    if not low <= len(values) <= high:
        raise ValueError(f"modal field {custom_id!r}: {len(values)} chosen, allowed {low}..{high}")
    if any(v not in allowed for v in values) or len(set(values)) != len(values):
        raise ValueError(f"modal field {custom_id!r}: values must be distinct options")
    return {"type": 22, "id": component.get("id", 0), "custom_id": custom_id, "values": list(values)}


_ANSWERS = {4: _text_answer, 21: _radio_answer, 22: _checkbox_answer}


def modal_submission(modal: dict[str, Any], fields: dict[str, FieldValue]) -> list[dict[str, Any]]:
    """The ``components`` of a modal submit, mirroring the modal's layout (action rows, labels, text displays).

    ``fields`` maps custom ids to what the user entered: a string for a text input or a radio group, a list
    of option values for a checkbox group. Inputs the user leaves alone must not be required.
    """
    unused = dict(fields)

    def answer(component: dict[str, Any]) -> dict[str, Any]:
        make = _ANSWERS.get(int(component.get("type") or 0))
        if make is None or component.get("custom_id") is None:
            return {"type": component.get("type"), "id": component.get("id", 0)}
        return make(component, unused.pop(component["custom_id"], None))

    submitted: list[dict[str, Any]] = []
    for top in modal.get("components", []):
        if top.get("type") == 1:
            submitted.append({"type": 1, "components": [answer(c) for c in top.get("components", [])]})
        elif top.get("type") == 18:
            submitted.append({"type": 18, "id": top.get("id", 0), "component": answer(top["component"])})
        else:
            submitted.append({"type": top.get("type"), "id": top.get("id", 0)})
    if unused:
        raise ValueError(f"the modal has no fields {sorted(unused)}")
    return submitted


# --- the REST side --------------------------------------------------------------------------------------
def _interaction_for_callback(request: web.Request) -> Interaction:
    fake = fake_of(request)
    interaction = fake.world.interactions.get(request.match_info["interaction_id"])
    if interaction is None or interaction.token != request.match_info["interaction_token"]:
        raise error(UNKNOWN_INTERACTION)
    if interaction.response is not None:
        raise error(ALREADY_ACKNOWLEDGED)
    if time.monotonic() - interaction.created_monotonic > fake.interaction_deadline:
        raise error(UNKNOWN_INTERACTION)
    return interaction


async def callback(request: web.Request) -> web.Response:
    """POST /interactions/{interaction_id}/{interaction_token}/callback (types 4, 5, 6, 7, 9)."""
    fake = fake_of(request)
    interaction = _interaction_for_callback(request)
    body = body_of(request) or {}
    kind = int(body.get("type") or 0)
    data = body.get("data") or {}
    channel = fake.world.channels[interaction.channel_id]
    message: dict[str, Any] | None = None
    if kind in (4, 5):
        if kind == 4:
            check_message_body(data, creating=True)
        flags = int(data.get("flags") or 0)
        content = {**data, "flags": flags} if kind == 4 else {"flags": (flags & EPHEMERAL) | LOADING}
        message = fake.world.new_message(
            channel,
            fake.bot_user_id,
            content,
            message_type=20 if interaction.type == APPLICATION_COMMAND else 19,
            extra=_interaction_extra(fake, interaction),
        )
        interaction.original_message_id = message["id"]
        if not flags & EPHEMERAL:
            await fake.dispatch_message_event("MESSAGE_CREATE", channel, message)
    elif kind in (6, 7):
        if interaction.message_id is None:
            raise DiscordError(400, 40004, "Interaction callback type 6/7 needs a component interaction")
        message = fake.world.find_message(interaction.message_id)
        if message is None:
            raise error(UNKNOWN_MESSAGE)
        interaction.original_message_id = message["id"]
        if kind == 7:
            check_message_body(data, creating=False)
            fake.world.edit_message(message, data)
            if not int(message.get("flags") or 0) & EPHEMERAL:
                await fake.dispatch_message_event("MESSAGE_UPDATE", channel, message)
    elif kind == 9:
        if interaction.type == MODAL_SUBMIT:
            raise DiscordError(400, 50035, "Invalid Form Body: a modal cannot answer a modal submit")
    elif kind == 8:
        _check_choices(interaction, data)
    else:
        raise DiscordError(400, 50035, f"Invalid Form Body: callback type {kind} not supported by the fake")
    interaction.response = body
    interaction.responded.set()
    fake.notify()
    if request.query.get("with_response", "").lower() not in ("1", "true"):
        return web.Response(status=204)
    result: dict[str, Any] = {
        "interaction": {
            "id": interaction.id,
            "type": interaction.type,
            "response_message_id": interaction.original_message_id,
            "response_message_loading": kind == 5,
            "response_message_ephemeral": bool(message and int(message.get("flags") or 0) & EPHEMERAL),
        }
    }
    if message is not None:
        result["resource"] = {"type": kind, "message": message}
    elif kind == 9:
        result["resource"] = {"type": kind}
    return json_response(result)


def _check_choices(interaction: Interaction, data: dict[str, Any]) -> None:
    """Callback type 8 (APPLICATION_COMMAND_AUTOCOMPLETE_RESULT) answers only an autocomplete interaction."""
    if interaction.type != APPLICATION_COMMAND_AUTOCOMPLETE:
        raise DiscordError(400, 50035, "Invalid Form Body: callback type 8 answers autocomplete interactions only")
    choices = data.get("choices")
    if not isinstance(choices, list) or len(choices) > MAX_CHOICES:
        raise DiscordError(400, 50035, "Invalid Form Body: data.choices must be a list of at most 25 choices")
    for choice in choices:
        name, value = choice.get("name"), choice.get("value")
        if not isinstance(name, str) or not 1 <= len(name) <= 100:
            raise DiscordError(400, 50035, "Invalid Form Body: a choice name must be 1-100 characters")
        if isinstance(value, str) and len(value) > 100:
            raise DiscordError(400, 50035, "Invalid Form Body: a choice value must be at most 100 characters")


def _interaction_extra(fake: FakeDiscord, interaction: Interaction) -> dict[str, Any]:
    return {
        "webhook_id": fake.application_id,
        "application_id": fake.application_id,
        "interaction_metadata": {
            "id": interaction.id,
            "type": interaction.type,
            "user": fake.world.user_payload(interaction.user_id),
            "authorizing_integration_owners": interaction.payload.get("authorizing_integration_owners", {}),
        },
    }


def _webhook_interaction(request: web.Request) -> Interaction:
    fake = fake_of(request)
    interaction = fake.world.interactions_by_token.get(request.match_info["webhook_token"])
    if interaction is None or request.match_info["webhook_id"] != fake.application_id:
        raise error(UNKNOWN_WEBHOOK)
    if interaction.response is None:
        raise error(UNKNOWN_WEBHOOK)
    return interaction


def _webhook_message(request: web.Request, interaction: Interaction) -> dict[str, Any]:
    fake = fake_of(request)
    message_id = request.match_info.get("message_id", "@original")
    if message_id == "@original":
        message_id = interaction.original_message_id or ""
    elif message_id not in {*interaction.followup_ids, interaction.original_message_id}:
        raise error(UNKNOWN_MESSAGE)
    message = fake.world.find_message(message_id)
    if message is None:
        raise error(UNKNOWN_MESSAGE)
    return message


async def followup(request: web.Request) -> web.Response:
    """POST /webhooks/{application_id}/{token} — a followup message (``?wait=true`` returns it)."""
    fake = fake_of(request)
    interaction = _webhook_interaction(request)
    body = body_of(request) or {}
    check_message_body(body, creating=True)
    channel = fake.world.channels[interaction.channel_id]
    flags = int(body.get("flags") or 0)
    message = fake.world.new_message(
        channel, fake.bot_user_id, {**body, "flags": flags}, message_type=0, extra=_interaction_extra(fake, interaction)
    )
    interaction.followup_ids.append(message["id"])
    if not flags & EPHEMERAL:
        await fake.dispatch_message_event("MESSAGE_CREATE", channel, message)
    if request.query.get("wait", "").lower() in ("1", "true"):
        return json_response(message)
    return web.Response(status=204)


async def get_webhook_message(request: web.Request) -> web.Response:
    """GET /webhooks/{application_id}/{token}/messages/@original|{message_id}."""
    return json_response(_webhook_message(request, _webhook_interaction(request)))


async def edit_webhook_message(request: web.Request) -> web.Response:
    """PATCH /webhooks/{application_id}/{token}/messages/@original|{message_id} — also completes a defer."""
    fake = fake_of(request)
    interaction = _webhook_interaction(request)
    message = _webhook_message(request, interaction)
    body = body_of(request) or {}
    check_message_body(body, creating=False)
    fake.world.edit_message(message, body)
    if not int(message.get("flags") or 0) & EPHEMERAL:
        await fake.dispatch_message_event("MESSAGE_UPDATE", fake.world.channels[message["channel_id"]], message)
    fake.notify()
    return json_response(message)


async def delete_webhook_message(request: web.Request) -> web.Response:
    """DELETE /webhooks/{application_id}/{token}/messages/@original|{message_id}."""
    fake = fake_of(request)
    interaction = _webhook_interaction(request)
    message = _webhook_message(request, interaction)
    channel = fake.world.channels[message["channel_id"]]
    del channel.messages[message["id"]]
    fake.deleted_messages.append(message)
    if not int(message.get("flags") or 0) & EPHEMERAL:
        await fake.dispatch_message_event("MESSAGE_DELETE", channel, message)
    return web.Response(status=204)


def add_routes(app: web.Application) -> None:
    """Register the interaction callback and interaction webhook routes."""
    r = app.router
    r.add_post(PREFIX + "/interactions/{interaction_id}/{interaction_token}/callback", callback)
    r.add_post(PREFIX + "/webhooks/{webhook_id}/{webhook_token}", followup)
    for suffix in ("/messages/@original", "/messages/{message_id}"):
        path = PREFIX + "/webhooks/{webhook_id}/{webhook_token}" + suffix
        r.add_get(path, get_webhook_message)
        r.add_patch(path, edit_webhook_message)
        r.add_delete(path, delete_webhook_message)
