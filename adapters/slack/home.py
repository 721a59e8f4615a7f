"""The App Home tab: the user's interviews, with Start and Resume buttons."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from adapters.slack.blocks import Block, button
from bot.core import DEFAULT_STUDY, Bridge, Catalogue, InterviewStatus, RecordStatus, ending_label

if TYPE_CHECKING:
    from adapters.slack.adapter import SlackAdapter

log = logging.getLogger("adapters.slack")

HOME_START = "ib_home:start"
HOME_RESUME = "ib_home:resume"
HOME_LIMIT = 15


def status_label(tr: Catalogue, status: RecordStatus) -> str:
    """An interview's state on the Home tab."""
    if status is RecordStatus.ACTIVE:
        return tr.gettext("🟢 In progress")
    if status is RecordStatus.COMPLETING:
        return tr.gettext("⏳ Finishing")
    return tr.gettext("✅ Done")


def _when(tr: Catalogue, at: float) -> str:
    if at <= 0:
        return ""
    date = f"<!date^{int(at)}^{{date_short_pretty}} {{time}}|{int(at)}>"
    return " · " + tr.gettext("started {date}").format(date=date)


def messages_tab_link(tr: Catalogue, team: str, app_id: str | None) -> str:
    """ "the *Messages* tab", linked to the app's Messages tab when the app id is known."""
    tab = tr.gettext("*Messages* tab")
    if not app_id or not team:
        return tr.gettext("the {tab}").format(tab=tab)
    return tr.gettext("the {tab}").format(tab=f"<slack://app?team={team}&id={app_id}&tab=messages|{tab}>")


def home_view(
    records: list[InterviewStatus], tr: Catalogue, *, team: str = "", app_id: str | None = None
) -> dict[str, Any]:
    """The Home tab's view for a user with ``records`` (newest first), in the user's language.

    ``team`` and ``app_id`` (from the event) link to the app's Messages tab, where interviews take place.
    """
    where = messages_tab_link(tr, team, app_id)
    intro = tr.gettext("Short conversations about your work, held in {where}, one thread per interview.").format(
        where=where
    )
    privacy = tr.gettext(
        "🔒 *Not anonymous:* what you write goes to the team running the study, together with your Slack "
        "name. You can stop at any time with `/interview stop`."
    )
    blocks: list[Block] = [
        {"type": "header", "text": {"type": "plain_text", "text": tr.gettext("Your interviews")}},
        {"type": "section", "text": {"type": "mrkdwn", "text": f"{intro}\n{privacy}"}},
    ]
    active = [r for r in records if r.status is not RecordStatus.COMPLETED]
    if not active:
        blocks.append(
            {
                "type": "actions",
                "block_id": "home_start",
                "elements": [button(tr.gettext("Start a new interview"), HOME_START, "start", style="primary")],
            }
        )
    else:
        blocks.append(
            {
                "type": "context",
                "elements": [
                    {
                        "type": "mrkdwn",
                        "text": tr.gettext(
                            "Your interview continues in {where}. *Resume* brings its question back to the end of "
                            "the thread."
                        ).format(where=where),
                    }
                ],
            }
        )
    if not records:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": tr.gettext("No interviews yet.")}]})
    else:
        blocks.append({"type": "divider"})
    for record in records[:HOME_LIMIT]:
        reason = f" ({ending_label(record.end_reason, tr.language)})" if record.end_reason else ""
        label = status_label(tr, record.status)
        study = f"*{record.study}* · " if record.study and record.study != DEFAULT_STUDY else ""
        sent = tr.ngettext("{count} message", "{count} messages", record.turns_sent).format(count=record.turns_sent)
        section: Block = {
            "type": "section",
            "block_id": f"home|{record.interview_id}",
            "text": {
                "type": "mrkdwn",
                "text": f"{study}{label}{reason if record.status is RecordStatus.COMPLETED else ''}"
                f"{_when(tr, record.created_at)} · {sent}",
            },
        }
        if record.status is RecordStatus.ACTIVE:
            section["accessory"] = button(tr.gettext("Resume"), HOME_RESUME, record.interview_id)
        blocks.append(section)
    return {"type": "home", "blocks": blocks}


async def publish_home(
    adapter: SlackAdapter, bridge: Bridge, team: str, user: str, tr: Catalogue, app_id: str | None = None
) -> None:
    """Publish the Home tab of ``user`` in their language (errors are logged: the tab is informational)."""
    records = await bridge.interviews_of(adapter.platform, user, limit=HOME_LIMIT)
    records = [r for r in records if not team or r.key.workspace == team]
    try:
        await adapter.calls.call(
            "views.publish",
            adapter.client.views_publish,
            team=team,
            conversation=f"home:{user}",
            user_id=user,
            view=home_view(records, tr, team=team, app_id=app_id),
        )
    except Exception as error:
        log.info("slack views.publish failed: %s", type(error).__name__)
