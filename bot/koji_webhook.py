"""``POST /webhooks/koji``: the interview service's signed webhook, when ``KOJI_WEBHOOK_SECRET`` is set.

- HMAC-SHA256 of the raw body, as ``<hex>`` or ``sha256=<hex>`` in ``X-Koji-Signature``, compared in constant
  time; a bad or missing signature gets 401 and a log line without the body.
- The verification request the service sends when the URL is saved gets 200 (it changes nothing).
- Each event is handled once, however often it is delivered; an unknown interview gets 200 and is ignored.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from aiohttp import web

from bot.api.webhooks import SIGNATURE_HEADER, verify_webhook_signature
from bot.core.results import AnalysisWatch

__all__ = ["WEBHOOK_PATH", "add_webhook_route", "koji_webhook_handler"]

log = logging.getLogger("bot.webhooks")

WEBHOOK_PATH = "/webhooks/koji"
#: Event names a verification request may carry (the service's exact wording is not public).
_VERIFICATION_EVENTS = frozenset({"verification", "webhook.verification", "url_verification", "webhook.test", "ping"})


def _is_verification(event: Any) -> bool:
    """A request that only checks the URL: a verification event name, or a bare ``challenge``."""
    if not isinstance(event, dict):
        return False
    name = str(event.get("event") or event.get("type") or "").lower()
    return name in _VERIFICATION_EVENTS or (set(event) <= {"challenge", "type", "token"} and "challenge" in event)


def koji_webhook_handler(watch: AnalysisWatch, secret: str) -> Any:
    """The aiohttp handler of ``POST /webhooks/koji`` for one signing secret."""

    async def handle(request: web.Request) -> web.Response:
        body = await request.read()
        try:
            event = json.loads(body)
        except ValueError:
            event = None
        if _is_verification(event):
            challenge = event.get("challenge") if isinstance(event, dict) else None
            return web.json_response({"ok": True, **({"challenge": challenge} if challenge else {})})
        if not verify_webhook_signature(secret, body, request.headers.get(SIGNATURE_HEADER)):
            given = "missing" if not request.headers.get(SIGNATURE_HEADER) else "bad"
            log.warning("koji webhook refused: %s signature (%d bytes, body not logged)", given, len(body))
            return web.json_response({"ok": False, "error": "invalid signature"}, status=401)
        if not isinstance(event, dict):
            return web.json_response({"ok": False, "error": "the body is not a JSON object"}, status=400)
        verdict = await watch.receive_event(event)
        log.info("koji webhook event=%s verdict=%s", str(event.get("event"))[:60], verdict.value)
        return web.json_response({"ok": True, "result": verdict.value})

    return handle


def add_webhook_route(app: web.Application, watch: AnalysisWatch, secret: str) -> None:
    """Mount ``POST /webhooks/koji`` on ``app`` (the bot's HTTP server)."""
    app.router.add_post(WEBHOOK_PATH, koji_webhook_handler(watch, secret))
