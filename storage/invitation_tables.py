"""The invitation tables of both backends: campaigns, invitees and opt-outs (one SQL text, two drivers).

The SQL is written once with ``?`` placeholders; the PostgreSQL mixin numbers them (``$1``, ``$2``, …). Every
timer is the ``next_at`` column, read through the partial index ``invitations_due``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from bot.core.invitations import Campaign, CampaignCounts, Invitation, InvitationState

__all__ = ["INVITATION_QUERIES", "InvitationTables", "numbered"]

_COLUMNS = (
    "id, campaign_id, study, platform, workspace, user_id, state, reminders_sent, next_at, created_at, updated_at, "
    "opted_in, sending"
)
_SELECT = f"SELECT {_COLUMNS} FROM invitations"
_PENDING = "('queued', 'invited', 'reminded')"
_OPEN = "('queued', 'invited', 'reminded', 'started', 'declined')"
# a person whose DM once bounced may still take the study later (they opened their DMs and came back)
_SETTLES = "('queued', 'invited', 'reminded', 'started', 'declined', 'undeliverable')"
_SAME_INTERVIEW = (
    "SELECT 1 FROM interviews i WHERE i.study = invitations.study AND i.platform = invitations.platform "
    "AND i.user_id = invitations.user_id"
)

INVITATION_QUERIES: dict[str, str] = {
    "due_invitations": f"{_SELECT} WHERE next_at IS NOT NULL AND next_at <= ? ORDER BY next_at LIMIT ?",
    # ``platform || ''`` keeps SQLite on the due index (a bare ``platform = ?`` would pick invitations_by_user
    # and sort every invitee of the platform): the due rows are few, the platform's invitees may be many
    "due_invitations_on": (
        f"{_SELECT} WHERE next_at IS NOT NULL AND next_at <= ? AND platform || '' = ? ORDER BY next_at LIMIT ?"
    ),
    "get_invitation": f"{_SELECT} WHERE study = ? AND platform = ? AND workspace = ? AND user_id = ?",
    "invitation_counts": (
        "SELECT state, reminders_sent, count(*) FROM invitations WHERE study = ? GROUP BY state, reminders_sent"
    ),
    "volunteers": "SELECT count(*) FROM invitations WHERE study = ? AND opted_in = 1",
    "opted_out": ("SELECT user_id FROM invitation_opt_outs WHERE platform = ? AND workspace = ? AND user_id = ?"),
    "invitations_of": f"{_SELECT} WHERE platform = ? AND user_id = ? ORDER BY id",
    "opt_outs_of": "SELECT workspace, opted_out_at FROM invitation_opt_outs WHERE platform = ? AND user_id = ?",
}
_INSERT_CAMPAIGN = (
    "INSERT INTO campaigns (campaign_id, study, platform, workspace, created_at, reminders, reminder_after, "
    "audience) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (campaign_id) DO NOTHING RETURNING 1"
)
_SELECT_CAMPAIGN = (
    "SELECT campaign_id, study, platform, workspace, created_at, reminders, reminder_after, audience "
    "FROM campaigns WHERE campaign_id = ?"
)
_INSERT_INVITEE = (
    "INSERT INTO invitations (campaign_id, study, platform, workspace, user_id, state, reminders_sent, next_at, "
    "created_at, updated_at, opted_in) VALUES (?, ?, ?, ?, ?, 'queued', 0, ?, ?, ?, 0) "
    "ON CONFLICT (study, platform, workspace, user_id) DO NOTHING RETURNING 1"
)
_VOLUNTEER = (
    "INSERT INTO invitations (campaign_id, study, platform, workspace, user_id, state, reminders_sent, next_at, "
    "created_at, updated_at, opted_in) VALUES (?, ?, ?, ?, ?, 'invited', 0, ?, ?, ?, 1) "
    "ON CONFLICT (study, platform, workspace, user_id) DO UPDATE SET opted_in = 1, next_at = excluded.next_at, "
    "updated_at = excluded.updated_at, "
    "state = CASE WHEN invitations.state IN ('declined', 'undeliverable') THEN 'invited' ELSE invitations.state END "
    "WHERE invitations.state IN ('queued', 'invited', 'reminded', 'declined', 'undeliverable')"
)
_UNDELIVERABLE = (
    "INSERT INTO invitations (campaign_id, study, platform, workspace, user_id, state, reminders_sent, next_at, "
    "created_at, updated_at, opted_in) VALUES (?, ?, ?, ?, ?, 'undeliverable', 0, NULL, ?, ?, 0) "
    "ON CONFLICT (study, platform, workspace, user_id) DO UPDATE SET state = 'undeliverable', next_at = NULL, "
    "sending = NULL, updated_at = excluded.updated_at "
    "WHERE invitations.state IN ('queued', 'invited', 'reminded', 'declined')"
)
_MOVE = (
    "UPDATE invitations SET state = ?, next_at = ?, updated_at = ?, "
    "reminders_sent = coalesce(?, reminders_sent), opted_in = coalesce(?, opted_in), sending = ? "
    "WHERE id = ? AND state IN ({states}) AND updated_at = coalesce(?, updated_at) RETURNING 1"
)
_CLAIM = (
    "UPDATE invitations SET sending = ?, next_at = ?, updated_at = ? "
    f"WHERE id = ? AND updated_at = ? AND state IN {_PENDING} AND NOT EXISTS ({_SAME_INTERVIEW}) RETURNING 1"
)
_SETTLE_COMPLETED = (
    "UPDATE invitations SET state = 'completed', next_at = NULL, sending = NULL, updated_at = ? "
    f"WHERE study = ? AND state IN {_SETTLES} AND EXISTS ({_SAME_INTERVIEW} AND i.status = 'completed') RETURNING 1"
)
_SETTLE_STARTED = (
    "UPDATE invitations SET state = 'started', next_at = NULL, sending = NULL, updated_at = ? "
    f"WHERE study = ? AND state IN ('queued', 'invited', 'reminded', 'declined', 'undeliverable') "
    f"AND EXISTS ({_SAME_INTERVIEW}) "
    "RETURNING 1"
)
_EXPIRE = (
    "UPDATE invitations SET state = 'expired', next_at = NULL, sending = NULL, updated_at = ? "
    f"WHERE study = ? AND (state IN {_PENDING} OR (state = 'started' AND next_at IS NOT NULL)) RETURNING 1"
)
_OPT_OUT = (
    "INSERT INTO invitation_opt_outs (platform, workspace, user_id, opted_out_at) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (platform, workspace, user_id) DO NOTHING"
)
_OPT_OUT_PENDING = (
    "UPDATE invitations SET state = 'opted_out', next_at = NULL, sending = NULL, updated_at = ? "
    f"WHERE platform = ? AND workspace = ? AND user_id = ? AND state IN {_OPEN}"
)
_OPT_IN = "DELETE FROM invitation_opt_outs WHERE platform = ? AND workspace = ? AND user_id = ? RETURNING 1"
_RESPONDENTS = "SELECT DISTINCT user_id FROM interviews WHERE study = ? AND platform = ?"


def numbered(sql: str) -> str:
    """``?`` placeholders as PostgreSQL's ``$1``, ``$2``, … (the SQL here has no ``?`` inside literals)."""
    parts = sql.split("?")
    return "".join(part + (f"${n}" if n < len(parts) else "") for n, part in enumerate(parts, start=1))


def _invitation(row: Sequence[Any]) -> Invitation:
    return Invitation(
        id=int(row[0]),
        campaign_id=row[1],
        study=row[2],
        platform=row[3],
        workspace=row[4],
        user_id=row[5],
        state=InvitationState(row[6]),
        reminders_sent=int(row[7]),
        next_at=None if row[8] is None else float(row[8]),
        created_at=float(row[9]),
        updated_at=float(row[10]),
        opted_in=bool(row[11]),
        sending=None if row[12] is None else int(row[12]),
    )


class InvitationTables:
    """Mixed into both stores; each backend provides :meth:`_rows` and :meth:`_rows_each`."""

    async def _rows(self, sql: str, params: Sequence[Any]) -> list[Sequence[Any]]:
        """All rows of one statement (``?`` placeholders), committed on its own."""
        raise NotImplementedError

    async def _rows_each(self, sql: str, batches: Sequence[Sequence[Any]]) -> int:
        """Run one statement per parameter tuple in one transaction; how many returned a row."""
        raise NotImplementedError

    async def create_campaign(self, campaign: Campaign) -> bool:
        params = (
            campaign.campaign_id,
            campaign.study,
            campaign.platform,
            campaign.workspace,
            float(campaign.created_at),
            campaign.reminders,
            json.dumps([float(offset) for offset in campaign.reminder_after]),
            json.dumps(dict(campaign.audience), sort_keys=True),
        )
        return bool(await self._rows(_INSERT_CAMPAIGN, params))

    async def get_campaign(self, campaign_id: str) -> Campaign | None:
        found = await self._rows(_SELECT_CAMPAIGN, (campaign_id,))
        if not found:
            return None
        row = found[0]
        return Campaign(
            campaign_id=row[0],
            study=row[1],
            platform=row[2],
            workspace=row[3],
            created_at=float(row[4]),
            reminders=int(row[5]),
            reminder_after=tuple(float(offset) for offset in json.loads(row[6])),
            audience=json.loads(row[7]),
        )

    async def add_invitees(self, campaign: Campaign, users: Iterable[str], now: float) -> int:
        batches = [
            (campaign.campaign_id, campaign.study, campaign.platform, campaign.workspace, user, now, now, now)
            for user in dict.fromkeys(users)
        ]
        return await self._rows_each(_INSERT_INVITEE, batches) if batches else 0

    async def due_invitations(self, now: float, limit: int = 100, platform: str | None = None) -> list[Invitation]:
        if platform is None:
            found = await self._rows(INVITATION_QUERIES["due_invitations"], (now, limit))
        else:
            found = await self._rows(INVITATION_QUERIES["due_invitations_on"], (now, platform, limit))
        return [_invitation(row) for row in found]

    async def get_invitation(self, study: str, platform: str, workspace: str, user_id: str) -> Invitation | None:
        found = await self._rows(INVITATION_QUERIES["get_invitation"], (study, platform, workspace, user_id))
        return _invitation(found[0]) if found else None

    async def move_invitation(
        self,
        invitation_id: int,
        expected: Sequence[InvitationState],
        state: InvitationState,
        next_at: float | None,
        now: float,
        *,
        reminders_sent: int | None = None,
        opted_in: bool | None = None,
        expected_updated_at: float | None = None,
        sending: int | None = None,
    ) -> bool:
        states = ", ".join(f"'{InvitationState(s).value}'" for s in expected)  # enum values only: no injection
        sql = _MOVE.format(states=states)
        flag = None if opted_in is None else int(opted_in)
        params = (state.value, next_at, now, reminders_sent, flag, sending, invitation_id, expected_updated_at)
        return bool(await self._rows(sql, params))

    async def claim_message(
        self, invitation_id: int, expected_updated_at: float, sending: int, until: float, now: float
    ) -> bool:
        return bool(await self._rows(_CLAIM, (sending, until, now, invitation_id, expected_updated_at)))

    async def volunteer(self, campaign: Campaign, user_id: str, next_at: float, now: float) -> Invitation:
        params = (campaign.campaign_id, campaign.study, campaign.platform, campaign.workspace, user_id)
        await self._rows(_VOLUNTEER, (*params, next_at, now, now))
        found = await self.get_invitation(campaign.study, campaign.platform, campaign.workspace, user_id)
        if found is None:  # pragma: no cover - the insert above guarantees a row
            raise RuntimeError("the opt-in was not stored")
        return found

    async def mark_undeliverable(self, campaign: Campaign, user_id: str, now: float) -> None:
        params = (campaign.campaign_id, campaign.study, campaign.platform, campaign.workspace, user_id, now, now)
        await self._rows(_UNDELIVERABLE, params)

    async def invitation_counts(self, study: str) -> CampaignCounts:
        found = await self._rows(INVITATION_QUERIES["invitation_counts"], (study,))
        [(volunteers,)] = await self._rows(INVITATION_QUERIES["volunteers"], (study,))
        by_state: dict[InvitationState, int] = {}
        reminded: dict[int, int] = {}
        for state, sent, number in found:
            by_state[InvitationState(state)] = by_state.get(InvitationState(state), 0) + int(number)
            if state == InvitationState.REMINDED.value:
                reminded[int(sent)] = int(number)
        return CampaignCounts(study, by_state, volunteers=int(volunteers), reminded_times=reminded)

    async def settle_invitations(self, study: str, now: float) -> int:
        completed = await self._rows(_SETTLE_COMPLETED, (now, study))
        started = await self._rows(_SETTLE_STARTED, (now, study))
        return len(completed) + len(started)

    async def expire_invitations(self, study: str, now: float) -> int:
        return len(await self._rows(_EXPIRE, (now, study)))

    async def opt_out(self, platform: str, workspace: str, user_id: str, now: float) -> None:
        await self._rows(_OPT_OUT, (platform, workspace, user_id, now))
        await self._rows(_OPT_OUT_PENDING, (now, platform, workspace, user_id))

    async def opt_in(self, platform: str, workspace: str, user_id: str) -> bool:
        return bool(await self._rows(_OPT_IN, (platform, workspace, user_id)))

    async def opted_out(self, platform: str, workspace: str, users: Iterable[str]) -> set[str]:
        sql = INVITATION_QUERIES["opted_out"]
        found: set[str] = set()
        for user in dict.fromkeys(users):
            if await self._rows(sql, (platform, workspace, user)):
                found.add(user)
        return found

    async def invitations_of(self, platform: str, user_id: str) -> list[Invitation]:
        found = await self._rows(INVITATION_QUERIES["invitations_of"], (platform, user_id))
        return [_invitation(row) for row in found]

    async def opt_outs_of(self, platform: str, user_id: str) -> list[tuple[str, float]]:
        found = await self._rows(INVITATION_QUERIES["opt_outs_of"], (platform, user_id))
        return [(str(row[0]), float(row[1])) for row in found]

    async def respondents_of_study(self, study: str, platform: str) -> set[str]:
        return {str(row[0]) for row in await self._rows(_RESPONDENTS, (study, platform))}
