"""What users do in Slack, turned into the requests Slack sends the app: DMs, clicks, modals, commands, Home."""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import time
from typing import Any

from . import payloads as p
from .core import FakeSlackBase
from .delivery import Delivery, command_body, event_body, interactive_body
from .state import JSON, FakeMessage, FakeUser, Workspace


class UserActions(FakeSlackBase):
    """User-side simulation; `_transmit` (HTTP or Socket Mode) comes from the server class."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.envelopes: dict[str, JSON] = {}  # event id -> envelope, for redelivery
        self.retries: dict[str, int] = {}
        self.response_urls: dict[str, JSON] = {}  # response url id -> context
        self.background: set[asyncio.Task[Any]] = set()
        self.element_state: dict[tuple[str, str], dict[tuple[str, str], JSON]] = {}  # (channel|view, ts) -> state

    async def _transmit(self, delivery: Delivery) -> Delivery:  # pragma: no cover - provided by FakeSlack
        raise NotImplementedError

    # ---- helpers -----------------------------------------------------------------------------------------
    def _user(self, user_id: str) -> tuple[Workspace, FakeUser]:
        for ws in self.workspaces.values():
            if user_id in ws.users:
                return ws, ws.users[user_id]
        raise KeyError(f"unknown user {user_id}; call add_user first")

    def _trigger(self, ws: Workspace, user_id: str) -> str:
        trigger = f"{int(time.time())}.{secrets.randbelow(10**12)}.{secrets.token_hex(16)}"
        self.triggers[trigger] = (ws.team_id, user_id, time.monotonic())
        return trigger

    def _response_url(self, context: JSON) -> str:
        rid = secrets.token_hex(8)
        self.response_urls[rid] = context
        return f"{self.base_url}/response/{rid}"

    def _team(self, ws: Workspace) -> JSON:
        return {"id": ws.team_id, "domain": ws.team_id.lower()}

    async def _deliver(
        self, kind: str, payload: JSON, *, retry_num: int | None = None, reason: str | None = None
    ) -> Delivery:
        if kind == "event" or kind == "url_verification":
            body, ctype = event_body(payload)
        elif kind == "interactive":
            body, ctype = interactive_body(payload)
        else:
            body, ctype = command_body(payload)
        delivery = Delivery(
            kind=kind, payload=payload, body=body, content_type=ctype, retry_num=retry_num, retry_reason=reason
        )
        await self._transmit(delivery)
        self.deliveries.append(delivery)
        self.notify()
        return delivery

    async def deliver_event(
        self, event: JSON, *, team_id: str | None = None, event_id: str | None = None, retry_num: int | None = None
    ) -> Delivery:
        """Wrap any event in an `event_callback` envelope and deliver it (kept for `redeliver`)."""
        ws = self.workspace(team_id)
        event_id = event_id or self.ids.next_id("Ev")
        env = p.envelope(
            event,
            team_id=ws.team_id,
            app_id=self.app_id,
            bot_user_id=self.bot_user_id,
            token=self.verification_token,
            event_id=event_id,
        )
        self.envelopes[event_id] = env
        if retry_num is not None:
            self.retries[event_id] = retry_num
        first = await self._deliver("event", env, retry_num=retry_num, reason="http_timeout" if retry_num else None)
        last = first
        for attempt in range(self.auto_retries):
            if 200 <= last.status < 300:
                break
            await asyncio.sleep(self.retry_delays[min(attempt, len(self.retry_delays) - 1)])
            self.retries[event_id] = self.retries.get(event_id, 0) + 1
            reason = "http_timeout" if last.timed_out else "http_error"
            last = await self._deliver("event", env, retry_num=self.retries[event_id], reason=reason)
        return first

    def on_bot_message(self, msg: FakeMessage, team_id: str) -> None:
        """With `echo_bot_messages`, deliver the app's own DM post back to it as a message event."""
        if not self.echo_bot_messages or not msg.channel.startswith("D"):
            return
        task = asyncio.ensure_future(self._echo(p.bot_message_event(msg, team_id, self.app_id), team_id))
        self.background.add(task)
        task.add_done_callback(self.background.discard)

    async def _echo(self, event: JSON, team_id: str) -> None:
        with contextlib.suppress(RuntimeError):  # no app connected: nothing to echo to
            await self.deliver_event(event, team_id=team_id)

    # ---- events ------------------------------------------------------------------------------------------
    async def user_sends_dm(
        self,
        user_id: str,
        text: str,
        *,
        thread_ts: str | None = None,
        files: int = 0,
        retry_num: int | None = None,
        event_id: str | None = None,
        broadcast: bool = False,
    ) -> JSON:
        """The user writes to the app in its Messages tab; a `message` (channel_type im) event is delivered.

        `broadcast=True` (with `thread_ts`): a thread reply also sent to the conversation, which Slack delivers
        with subtype `thread_broadcast`.

        Returns {"event", "event_id", "ts", "channel", "envelope", "status", "body", "ack_seconds", "delivery"}.
        """
        ws, _ = self._user(user_id)
        channel = self.dm_channel_of(user_id, ws.team_id)
        msg = FakeMessage(
            channel, self.ids.next_ts(), text, p.rich_text(text) if text else None, user_id, thread_ts=thread_ts
        )
        ws.messages[channel].append(msg)
        parent = ws.find_message(channel, thread_ts) if thread_ts else None
        event = p.message_event(msg, ws.team_id, files, parent.user if parent else None)
        if broadcast and thread_ts:
            event["subtype"] = "thread_broadcast"
            event["root"] = parent.to_api(ws.team_id, self.app_id) if parent else {"ts": thread_ts}
        delivery = await self.deliver_event(event, team_id=ws.team_id, event_id=event_id, retry_num=retry_num)
        return {
            "event": event,
            "event_id": delivery.payload["event_id"],
            "ts": msg.ts,
            "channel": channel,
            "envelope": delivery.payload,
            "status": delivery.status,
            "body": delivery.response_body,
            "ack_seconds": delivery.ack_seconds,
            "delivery": delivery,
        }

    async def start_assistant_thread(self, user_id: str) -> JSON:
        """The user opens the app's assistant/agent container: a new thread and `assistant_thread_started`.

        Returns {"channel", "thread_ts", "status", "delivery"}.
        """
        ws, _ = self._user(user_id)
        channel = self.dm_channel_of(user_id, ws.team_id)
        root = FakeMessage(channel, self.ids.next_ts(), "", None, self.bot_user_id, bot_id=self.bot_id)
        ws.messages[channel].append(root)
        event: JSON = {
            "type": "assistant_thread_started",
            "assistant_thread": {
                "user_id": user_id,
                "context": {"channel_id": None, "team_id": ws.team_id, "enterprise_id": None},
                "channel_id": channel,
                "thread_ts": root.ts,
            },
            "event_ts": f"{time.time():.6f}",
        }
        delivery = await self.deliver_event(event, team_id=ws.team_id)
        return {"channel": channel, "thread_ts": root.ts, "status": delivery.status, "delivery": delivery}

    async def redeliver(self, event_id: str, reason: str = "http_timeout") -> int:
        """Send the same envelope again with X-Slack-Retry-Num (1, 2, 3…) and -Reason; the app's HTTP status."""
        env = self.envelopes[event_id]
        self.retries[event_id] = self.retries.get(event_id, 0) + 1
        delivery = await self._deliver("event", env, retry_num=self.retries[event_id], reason=reason)
        return delivery.status

    async def open_app_home(self, user_id: str) -> int:
        """The user opens the app's Home tab: an `app_home_opened` event; the app's HTTP status."""
        ws, _ = self._user(user_id)
        channel = self.dm_channel_of(user_id, ws.team_id)
        event: JSON = {
            "type": "app_home_opened",
            "user": user_id,
            "channel": channel,
            "tab": "home",
            "event_ts": f"{time.time():.6f}",
        }
        home = ws.home_views.get(user_id)
        if home is not None:
            event["view"] = home.to_api(ws.team_id, self.app_id, self.bot_id)
        return (await self.deliver_event(event, team_id=ws.team_id)).status

    async def uninstall(self, team_id: str | None = None, error: str = "account_inactive") -> list[Delivery]:
        """Remove the app (see `remove_app`) and deliver `app_uninstalled` and `tokens_revoked` like Slack."""
        ws = self.workspace(team_id)
        self.remove_app(ws.team_id, error)
        now = f"{time.time():.6f}"
        first = await self.deliver_event({"type": "app_uninstalled", "event_ts": now}, team_id=ws.team_id)
        revoked = {"type": "tokens_revoked", "tokens": {"oauth": [], "bot": [self.bot_user_id]}, "event_ts": now}
        return [first, await self.deliver_event(revoked, team_id=ws.team_id)]

    async def verify_url(self) -> Delivery:
        """The `url_verification` handshake Slack does when the Request URL is saved."""
        challenge = secrets.token_urlsafe(24)
        return await self._deliver(
            "url_verification", {"token": self.verification_token, "challenge": challenge, "type": "url_verification"}
        )

    # ---- interactivity -----------------------------------------------------------------------------------
    def _locate(
        self, ws: Workspace, user_id: str, channel: str, ts: str, action_id: str
    ) -> tuple[JSON, str, JSON, bool]:
        """(message as shown to the user, block_id, element, is_ephemeral); older versions count (stale clients)."""
        msg = ws.find_message(channel, ts)
        if msg is not None:
            for blocks in [msg.blocks, *(b for _, b in reversed(msg.versions))]:
                found = p.find_element(blocks, action_id)
                if found:
                    shown = msg.to_api(ws.team_id, self.app_id)
                    shown["blocks"] = blocks
                    return shown, found[0], found[1], False
        for eph in ws.ephemerals.get(user_id, []):
            if eph["ts"] == ts and eph["channel"] == channel:
                found = p.find_element(eph.get("blocks"), action_id)
                if found:
                    return dict(eph), found[0], found[1], True
        raise LookupError(f"no element with action_id {action_id!r} in message {channel}/{ts}")

    async def click(
        self,
        user_id: str,
        channel_id: str,
        message_ts: str,
        action_id: str,
        *,
        value: str | None = None,
        selected: list[str] | None = None,
    ) -> int:
        """The user clicks a button / picks options in a message; a `block_actions` payload; the HTTP status.

        `selected` holds option values for selects, radio buttons and checkboxes. Elements of earlier versions
        of the message can be clicked too (a stale client, a double click). Picks are remembered and sent in
        `state.values` of later clicks on the same message (checkboxes then Submit).
        """
        ws, user = self._user(user_id)
        shown, block_id, element, ephemeral = self._locate(ws, user_id, channel_id, message_ts, action_id)
        action = p.action_for(element, block_id, value, selected)
        remembered = self.element_state.setdefault((channel_id, message_ts), {})
        if element.get("type") in p.STATEFUL and element.get("type") != "overflow":
            remembered[(block_id, str(action_id))] = p.selection(element, value, selected)
        container: JSON = {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel_id,
            "is_ephemeral": ephemeral,
        }
        if shown.get("thread_ts"):
            container["thread_ts"] = shown["thread_ts"]
        payload: JSON = {
            "type": "block_actions",
            "user": p.user_ref(user),
            "api_app_id": self.app_id,
            "token": self.verification_token,
            "container": container,
            "trigger_id": self._trigger(ws, user_id),
            "team": self._team(ws),
            "enterprise": None,
            "is_enterprise_install": False,
            "channel": {"id": channel_id, "name": "directmessage"},
            "state": {"values": p.state_values(shown.get("blocks"), remembered)},
            "response_url": self._response_url(
                {
                    "team": ws.team_id,
                    "user": user_id,
                    "channel": channel_id,
                    "message_ts": None if ephemeral else message_ts,
                }
            ),
            "actions": [action],
        }
        if not ephemeral:
            payload["message"] = shown
        return (await self._deliver("interactive", payload)).status

    async def slash_command(self, user_id: str, command: str, text: str, *, channel_id: str | None = None) -> JSON:
        """The user runs a slash command (form-encoded like Slack); a JSON or text answer becomes an ephemeral.

        Returns {"status", "body", "json", "ack_seconds", "response_url", "trigger_id", "delivery"}.
        """
        ws, user = self._user(user_id)
        channel = channel_id or self.dm_channel_of(user_id, ws.team_id)
        trigger = self._trigger(ws, user_id)
        response_url = self._response_url({"team": ws.team_id, "user": user_id, "channel": channel, "message_ts": None})
        fields = {
            "token": self.verification_token,
            "team_id": ws.team_id,
            "team_domain": ws.team_id.lower(),
            "channel_id": channel,
            "channel_name": "directmessage" if channel.startswith("D") else channel,
            "user_id": user_id,
            "user_name": user.name,
            "command": command,
            "text": text,
            "api_app_id": self.app_id,
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": trigger,
        }
        delivery = await self._deliver("command", fields)
        answer = delivery.json
        if delivery.status == 200 and delivery.response_body:
            if not isinstance(answer, dict):
                answer = {"text": delivery.response_body}
            self.apply_response(response_url.rsplit("/", 1)[-1], answer)
        return {
            "status": delivery.status,
            "body": delivery.response_body,
            "json": delivery.json,
            "ack_seconds": delivery.ack_seconds,
            "response_url": response_url,
            "trigger_id": trigger,
            "delivery": delivery,
        }

    def apply_response(self, rid: str, body: JSON) -> None:
        """A message sent to a response_url (or a command's answer): replace/delete the original, post or ephemeral."""
        ctx = self.response_urls[rid]
        ws = self.workspace(ctx["team"])
        channel, ts = ctx["channel"], ctx.get("message_ts")
        blocks = body.get("blocks")
        if isinstance(blocks, str):
            blocks = json.loads(blocks)
        original = ws.find_message(channel, ts) if ts else None
        if original is not None and body.get("delete_original"):
            ws.messages[channel].remove(original)
        elif original is not None and body.get("replace_original"):
            original.versions.append((original.text, original.blocks))
            original.text = str(body.get("text") or "")
            original.blocks = blocks or None
            original.update_count += 1
        elif body.get("response_type") == "in_channel":
            msg = FakeMessage(
                channel,
                self.ids.next_ts(),
                str(body.get("text") or ""),
                blocks or None,
                self.bot_user_id,
                bot_id=self.bot_id,
                thread_ts=body.get("thread_ts"),
            )
            ws.messages.setdefault(channel, []).append(msg)
        else:
            ws.ephemerals.setdefault(ctx["user"], []).append(
                {
                    "channel": channel,
                    "ts": self.ids.next_ts(),
                    "text": body.get("text") or "",
                    "blocks": blocks,
                    "thread_ts": body.get("thread_ts"),
                }
            )
        self.notify()
