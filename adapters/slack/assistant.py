"""The thread Slack opens when someone starts a conversation with the app from its agent (assistant) view.

On ``assistant_thread_started`` the thread gets its title (the study's name) and two suggested prompts: one
starts the interview, the other asks how it works. A prompt is sent as the respondent's own message in that
thread, so either one simply begins the interview there, like any first DM.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_sdk.errors import SlackApiError

from adapters.slack.adapter import SlackAdapter, conversation_key
from adapters.slack.calls import error_code
from bot.core import Catalogue, RespondentUnreachable

__all__ = ["greet_thread", "suggested_prompts"]

log = logging.getLogger("adapters.slack")


def suggested_prompts(tr: Catalogue) -> list[dict[str, str]]:
    """The prompts offered in a new thread (Slack shows at most 4): each sends its ``message`` when clicked."""
    start = tr.gettext("Start the interview")
    how = tr.gettext("How does this work?")
    return [{"title": start, "message": start}, {"title": how, "message": how}]


async def greet_thread(
    adapter: SlackAdapter, event: dict[str, Any], team: str, tr: Catalogue, study: str | None
) -> None:
    """Title the new thread with ``study`` (else "Interview") and suggest its prompts; failures are only logged."""
    thread = event.get("assistant_thread") or {}
    channel, thread_ts, user = thread.get("channel_id"), thread.get("thread_ts"), thread.get("user_id")
    if not channel or not thread_ts or not user:
        log.info("slack assistant_thread_started without a thread: ignored")
        return
    key = conversation_key(team, str(channel), str(user))
    where: dict[str, Any] = {"channel_id": str(channel), "thread_ts": str(thread_ts)}
    calls: tuple[tuple[str, Callable[..., Awaitable[Any]], dict[str, Any]], ...] = (
        (
            "assistant.threads.setTitle",
            adapter.client.assistant_threads_setTitle,
            {"title": study or tr.gettext("Interview")},
        ),
        (
            "assistant.threads.setSuggestedPrompts",
            adapter.client.assistant_threads_setSuggestedPrompts,
            {"prompts": suggested_prompts(tr)},
        ),
    )
    for method, fn, args in calls:
        try:
            await adapter.calls.call(method, fn, team=team, conversation=key.as_str(), **where, **args)
        except (SlackApiError, RespondentUnreachable) as error:  # a courtesy: the thread works without it
            code = error_code(error) if isinstance(error, SlackApiError) else str(error)
            log.info("slack %s failed (%s)", method, code)
