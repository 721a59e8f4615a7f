"""What users do with views: clicks in the Home tab or a modal, submitting and closing modals."""

from __future__ import annotations

import secrets
from typing import Any

from . import payloads as p
from .state import JSON, FakeView, Workspace
from .user_actions import UserActions


class ViewActions(UserActions):
    """User-side simulation of Home tab and modal interactions."""

    async def click_in_view(
        self, user_id: str, view_id: str, action_id: str, *, value: str | None = None, selected: list[str] | None = None
    ) -> int:
        """A click in the Home tab or a modal (container type `view`); the HTTP status."""
        ws, user = self._user(user_id)
        fv = self.views[view_id]
        found = p.find_element(fv.view.get("blocks"), action_id)
        if found is None:
            raise LookupError(f"no element with action_id {action_id!r} in view {view_id}")
        remembered = self.element_state.setdefault((view_id, ""), {})
        if found[1].get("type") in p.STATEFUL:
            remembered[(found[0], action_id)] = p.selection(found[1], value, selected)
        view = self._view_with_state(ws, fv, remembered)
        payload: JSON = {
            "type": "block_actions",
            "user": p.user_ref(user),
            "api_app_id": self.app_id,
            "token": self.verification_token,
            "container": {"type": "view", "view_id": view_id},
            "trigger_id": self._trigger(ws, user_id),
            "team": self._team(ws),
            "enterprise": None,
            "is_enterprise_install": False,
            "view": view,
            "state": view["state"],
            "actions": [p.action_for(found[1], found[0], value, selected)],
        }
        return (await self._deliver("interactive", payload)).status

    def _view_with_state(self, ws: Workspace, fv: FakeView, remembered: dict[tuple[str, str], JSON]) -> JSON:
        view = fv.to_api(ws.team_id, self.app_id, self.bot_id)
        view["state"] = {"values": p.state_values(fv.view.get("blocks"), remembered)}
        return view

    def _values_state(self, fv: FakeView, values: dict[str, Any]) -> dict[tuple[str, str], JSON]:
        """Turn `submit_view` values into state: raw state dicts pass; str / list[str] are typed by the view."""
        state: dict[tuple[str, str], JSON] = {}
        for block_id, inner in values.items():
            for action_id, value in inner.items():
                if isinstance(value, dict):
                    state[(block_id, action_id)] = value
                    continue
                found = p.find_element(fv.view.get("blocks"), action_id)
                if found is None:
                    raise LookupError(f"no element {block_id}/{action_id} in view {fv.id}")
                if isinstance(value, list):
                    state[(block_id, action_id)] = p.selection(found[1], None, value)
                else:
                    state[(block_id, action_id)] = p.selection(found[1], value, None)
        return state

    async def submit_view(self, user_id: str, view_id: str, values: dict[str, Any]) -> JSON:
        """The user presses Submit in a modal: a `view_submission`; the modal closes unless the app says otherwise.

        `values` is {block_id: {action_id: value}} where value is a raw state dict, a str (text input, or the
        option value of a single select / radio) or a list of option values (checkboxes, multi select).
        Returns {"status", "body", "json", "ack_seconds", "response_action", "errors", "delivery"}.
        """
        ws, user = self._user(user_id)
        fv = self.views[view_id]
        view = self._view_with_state(ws, fv, self._values_state(fv, values))
        payload: JSON = {
            "type": "view_submission",
            "team": self._team(ws),
            "user": p.user_ref(user),
            "api_app_id": self.app_id,
            "token": self.verification_token,
            "trigger_id": self._trigger(ws, user_id),
            "view": view,
            "response_urls": [],
            "is_enterprise_install": False,
            "enterprise": None,
        }
        delivery = await self._deliver("interactive", payload)
        answer = delivery.json if isinstance(delivery.json, dict) else {}
        action = answer.get("response_action")
        stack = self.modal_stacks.setdefault(user_id, [])
        if delivery.status == 200 and action in (None, "clear"):
            closing = list(stack) if action == "clear" else [view_id]
            for vid in closing:
                self.views[vid].closed = True
                if vid in stack:
                    stack.remove(vid)
        elif action in ("update", "push") and isinstance(answer.get("view"), dict):
            new = FakeView(self.ids.next_id("V"), user_id, answer["view"], secrets.token_hex(6), "modal")
            self.views[new.id] = new
            if action == "update":
                fv.view = answer["view"]
            else:
                stack.append(new.id)
            self.opened_views.append(
                {
                    "action": action,
                    "id": fv.id if action == "update" else new.id,
                    "user_id": user_id,
                    "view": answer["view"],
                }
            )
        self.notify()
        return {
            "status": delivery.status,
            "body": delivery.response_body,
            "json": delivery.json,
            "ack_seconds": delivery.ack_seconds,
            "response_action": action,
            "errors": answer.get("errors"),
            "delivery": delivery,
        }

    async def close_view(self, user_id: str, view_id: str) -> int:
        """The user closes a modal (`view_closed`, sent when the view had notify_on_close); the HTTP status."""
        ws, user = self._user(user_id)
        fv = self.views[view_id]
        fv.closed = True
        stack = self.modal_stacks.get(user_id, [])
        if view_id in stack:
            stack.remove(view_id)
        payload: JSON = {
            "type": "view_closed",
            "team": self._team(ws),
            "user": p.user_ref(user),
            "api_app_id": self.app_id,
            "token": self.verification_token,
            "view": fv.to_api(ws.team_id, self.app_id, self.bot_id),
            "is_cleared": False,
        }
        return (await self._deliver("interactive", payload)).status
