"""The App Home tab: the user's interviews, with Start and Resume buttons."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from adapters.slack.blocks import Block, button
from bot.core.store import InterviewRecord, RecordStatus, Store

if TYPE_CHECKING:
    from adapters.slack.adapter import SlackAdapter

log = logging.getLogger("adapters.slack")

HOME_START = "ib_home:start"
HOME_RESUME = "ib_home:resume"
HOME_LIMIT = 15

_STATUS_LABEL = {
    RecordStatus.ACTIVE: "🟢 In progress",
    RecordStatus.COMPLETING: "⏳ Finishing",
    RecordStatus.COMPLETED: "✅ Done",
}


#: How an interview ended, in the respondent's words (the stored reasons are API codes).
REASON_LABELS = {
    "natural": "completed",
    "respondent_left": "ended by you",
    "timeout": "closed after a quiet spell",
    "manual": "closed by the study team",
}


def reason_label(reason: str | None) -> str:
    """How an interview ended, for people (``respondent_left`` → "ended by you")."""
    return REASON_LABELS.get(reason or "", "completed")


def _when(at: float) -> str:
    if at <= 0:
        return ""
    return f" · started <!date^{int(at)}^{{date_short_pretty}} {{time}}|{int(at)}>"


def messages_tab_link(team: str, app_id: str | None) -> str:
    """ "the *Messages* tab", linked to the app's Messages tab when the app id is known."""
    if not app_id or not team:
        return "the *Messages* tab"
    return f"the <slack://app?team={team}&id={app_id}&tab=messages|*Messages* tab>"


def home_view(records: list[InterviewRecord], *, team: str = "", app_id: str | None = None) -> dict[str, Any]:
    """The Home tab's view for a user with ``records`` (newest first).

    ``team`` and ``app_id`` (from the event) link to the app's Messages tab, where interviews take place.
    """
    where = messages_tab_link(team, app_id)
    blocks: list[Block] = [
        {"type": "header", "text": {"type": "plain_text", "text": "Your interviews"}},
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": (
                    f"Short conversations about your work, held in {where}, one thread per interview.\n"
                    "🔒 *Not anonymous:* what you write goes to the team running the study, together with your Slack "
                    "name. You can stop at any time with `/interview stop`."
                ),
            },
        },
    ]
    active = [r for r in records if r.status is not RecordStatus.COMPLETED]
    if not active:
        blocks.append(
            {
                "type": "actions",
                "block_id": "home_start",
                "elements": [button("Start a new interview", HOME_START, "start", style="primary")],
            }
        )
    else:
        blocks.append(
            {
                "type": "context",
                "elements": [
                    {
                        "type": "mrkdwn",
                        "text": (
                            f"Your interview continues in {where}. "
                            "*Resume* brings its question back to the end of the thread."
                        ),
                    }
                ],
            }
        )
    if not records:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": "No interviews yet."}]})
    else:
        blocks.append({"type": "divider"})
    for record in records[:HOME_LIMIT]:
        reason = f" ({reason_label(record.completion_reason)})" if record.completion_reason else ""
        label = _STATUS_LABEL.get(record.status, record.status.value)
        study = f"*{record.study}* · " if record.study else ""
        section: Block = {
            "type": "section",
            "block_id": f"home|{record.interview_id}",
            "text": {
                "type": "mrkdwn",
                "text": f"{study}{label}{reason if record.status is RecordStatus.COMPLETED else ''}"
                f"{_when(record.created_at)} · {record.turns_sent} message(s)",
            },
        }
        if record.status is RecordStatus.ACTIVE:
            section["accessory"] = button("Resume", HOME_RESUME, record.interview_id)
        blocks.append(section)
    return {"type": "home", "blocks": blocks}


async def publish_home(adapter: SlackAdapter, store: Store, team: str, user: str, app_id: str | None = None) -> None:
    """Publish the Home tab of ``user`` (errors are logged: the tab is informational)."""
    records = await store.interviews_of_user("slack", user, limit=HOME_LIMIT)
    records = [r for r in records if not team or r.key.workspace == team]
    try:
        await adapter.calls.call(
            "views.publish",
            adapter.client.views_publish,
            team=team,
            conversation=f"home:{user}",
            user_id=user,
            view=home_view(records, team=team, app_id=app_id),
        )
    except Exception as error:
        log.info("slack views.publish failed: %s", type(error).__name__)
