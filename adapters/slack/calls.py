"""Web API calls through the shared budget, with Slack's errors sorted into what the adapter does next."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.budget import SlackBudget
from bot.core import Observer, RespondentUnreachable

log = logging.getLogger("adapters.slack")

# Every code below is one Slack documents for the methods the adapter calls (docs.slack.dev method pages, as
# copied by slack-ruby/slack-api-ref): codes no method documents are left out.

#: The respondent (or the whole workspace) can no longer be reached: stop sending.
UNREACHABLE_ERRORS = frozenset(
    {
        "account_inactive",
        "invalid_auth",
        "not_authed",
        "token_revoked",
        "token_expired",
        "channel_not_found",
        "is_archived",
        "user_not_found",
        "user_disabled",
        "not_in_channel",
        "org_login_required",
        "ekm_access_denied",
    }
)
#: The stream is over, or streaming is not available here: continue with chat.update / chat.postMessage.
STREAM_ERRORS = frozenset(
    {
        "message_not_in_streaming_state",  # expired (after about 5 minutes) or stopped
        "stopped_by_user",  # the respondent stopped it: no more appends
        "message_not_found",
        "message_not_owned_by_app",
        "channel_type_not_supported",  # no streaming in this conversation
        "missing_recipient_team_id",
        "missing_recipient_user_id",
        "unknown_method",
        "method_deprecated",
        "not_allowed_token_type",
        "missing_scope",
    }
)
#: The stream is over already: stopping it again is pointless.
STREAM_OVER_ERRORS = frozenset(
    {"message_not_in_streaming_state", "stopped_by_user", "message_not_found", "message_not_owned_by_app"}
)
#: chat.startStream is refused for the whole workspace (the app or its token cannot stream at all).
NO_STREAMING_ERRORS = frozenset({"unknown_method", "method_deprecated", "not_allowed_token_type", "missing_scope"})
#: chat.startStream is refused for this conversation only: remember it for the conversation.
NO_STREAMING_HERE_ERRORS = frozenset(
    {"channel_type_not_supported", "missing_recipient_team_id", "missing_recipient_user_id"}
)
#: The message cannot be edited any more (gone, not the app's, too old): post a new one.
UPDATE_GONE_ERRORS = frozenset({"message_not_found", "cant_update_message", "edit_window_closed"})
#: chat.update refused because the message is still streaming.
STREAMING_CONFLICT = "streaming_state_conflict"
#: The blocks were refused: send them split, or as text.
BLOCK_ERRORS = frozenset({"invalid_blocks", "invalid_blocks_format", "msg_blocks_too_long", "msg_blocks_too_many"})


#: A required call that waited longer than this for its rate tier is logged (the tier is oversubscribed).
SLOW_WAIT = 5.0


def error_code(error: SlackApiError) -> str:
    """Slack's error code (``"ratelimited"`` for a 429 the retry handler gave up on)."""
    response = error.response
    try:
        if response.status_code == 429:
            return "ratelimited"
        return str(response.get("error") or "unknown_error")
    except Exception:  # a malformed response
        return "unknown_error"


class SlackCalls:
    """Calls the Web API for one adapter: budget first, then the call; unreachable errors raised as such."""

    def __init__(self, client: AsyncWebClient, budget: SlackBudget) -> None:
        self.client = client
        self.budget = budget
        #: told how long required calls waited for the budget (metrics); set by ``register_listeners``
        self.observer = Observer()

    async def spare(self, team: str, method: str, conversation: str) -> bool:
        """Take a call of ``method`` from spare capacity (never from what waiting or required calls need)."""
        if not self.budget.try_acquire(team, method, conversation):
            return False
        return await self.budget.shared_room(team, method, wait=False, spare=True)

    async def call(
        self,
        method: str,
        fn: Callable[..., Awaitable[Any]],
        *,
        team: str,
        conversation: str,
        required: bool = True,
        budgeted: bool = True,
        no_wait: bool = False,
        **kwargs: Any,
    ) -> Any:
        """Call ``fn(**kwargs)`` (the client method for ``method``) within the budget.

        An optional call (``required=False``) is skipped (returns None) when the budget has no spare capacity;
        ``budgeted=False`` means the caller took the budget already; ``no_wait=True`` (with ``required``) takes
        a token if one is free and nobody queues, else skips — no fair-share spacing (one call per reply).
        Raises :class:`RespondentUnreachable` for errors that mean the respondent is gone, else SlackApiError.
        """
        if not budgeted:
            pass
        elif no_wait:
            if not self.budget.try_now(team, method, conversation):
                return None
            if not await self.budget.shared_room(team, method, wait=False):
                return None
        elif required:
            asked = time.monotonic()
            await self.budget.acquire(team, method, conversation)  # the shared tier's room included
            waited = time.monotonic() - asked
            self.observer.platform_write_waited(platform="slack", seconds=waited)
            if waited > SLOW_WAIT:
                log.info("slack %s waited %.1f s for the workspace's rate tier", method, waited)
        elif not await self.spare(team, method, conversation):
            return None
        try:
            return await fn(**kwargs)
        except SlackApiError as error:
            code = error_code(error)
            if code == "ratelimited":
                retry_after = _retry_after(error)
                self.budget.penalize(team, method, retry_after, conversation)
            if code in UNREACHABLE_ERRORS:
                log.warning("slack %s: respondent unreachable (%s)", method, code)
                raise RespondentUnreachable(code) from None
            log.info("slack %s failed: %s", method, code)
            raise


def _retry_after(error: SlackApiError) -> float:
    try:
        headers = {str(k).lower(): v for k, v in dict(error.response.headers).items()}
        value = headers.get("retry-after", "1")
        return float(value[0] if isinstance(value, list) else value)
    except (TypeError, ValueError, AttributeError):
        return 1.0
