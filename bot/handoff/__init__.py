"""The handoff API: other bots hand a user over into an interview over HTTP and hear back by signed callbacks.

See ``docs/handoff.md``. ``bot.app.mount_routes`` puts :func:`handoff_routes` on the bot's HTTP server
(``HTTP_HOST:HTTP_PORT``) and runs the :class:`Outbox` sweep while it serves.
"""

from __future__ import annotations

from bot.handoff.callbacks import SIGNATURE_HEADER, Outbox, sign
from bot.handoff.http import OPENAPI_PATH, handoff_routes, openapi_document

__all__ = ["OPENAPI_PATH", "SIGNATURE_HEADER", "Outbox", "handoff_routes", "openapi_document", "sign"]
