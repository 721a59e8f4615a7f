"""The admin overview counts the study's invitations per state with the response rate; closing a study expires
its pending invitations at once."""

from __future__ import annotations

from bot.core.bridge import Bridge
from bot.core.i18n import catalogue
from bot.core.invitations import Campaign, InvitationState
from bot.core.studies import StudyState
from storage.sqlite import SQLiteStore

TR = catalogue("en")


async def test_the_overview_shows_invitations_and_closing_expires_them(bridge: Bridge, store: SQLiteStore) -> None:
    desk = bridge.desk
    study = desk.find("pulse", TR)
    assert not isinstance(study, str)
    nobody = desk.counts_card(study, await desk.counts(study), TR)
    assert "Invitations" not in [name for name, _ in nobody.fields]  # no campaign: no invitation lines
    campaign = Campaign("c1", "pulse", "slack", "T1", created_at=1.0)
    await store.create_campaign(campaign)
    await store.add_invitees(campaign, ["U1", "U2", "U3", "U4"], now=1.0)
    for user, state in (("U1", InvitationState.INVITED), ("U2", InvitationState.COMPLETED)):
        invitation = await store.get_invitation("pulse", "slack", "T1", user)
        assert invitation is not None
        await store.move_invitation(invitation.id, [InvitationState.QUEUED], state, None, now=2.0)
    card = desk.counts_card(study, await desk.counts(study), TR)
    fields = dict(card.fields)
    assert fields["Invitations"] == "queued: 2, invited: 1, completed: 1"
    assert fields["Response rate"] == "50%"
    said = await desk.set_state(study, StudyState.CLOSED, TR)
    assert "closed" in said
    counts = await store.invitation_counts("pulse")
    assert counts.by_state == {InvitationState.EXPIRED: 3, InvitationState.COMPLETED: 1}
    assert await store.due_invitations(now=10**10) == []
