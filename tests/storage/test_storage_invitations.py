"""Campaigns, invitees, opt-outs and the invitation timers, on SQLite and on PostgreSQL alike."""

from __future__ import annotations

import pytest

from bot.core.invitations import Campaign, InvitationState
from bot.core.store import RecordStatus
from tests.storage.conftest import AnyStore, MakeRecord, NewStore

S = InvitationState


def campaign(campaign_id: str = "c1", study: str = "onboarding", **fields: object) -> Campaign:
    values: dict[str, object] = {"platform": "slack", "workspace": "T1", "created_at": 100.0}
    values.update(fields)
    return Campaign(campaign_id=campaign_id, study=study, **values)  # type: ignore[arg-type]


async def test_a_campaign_is_recorded_once_and_comes_back_whole(store: AnyStore) -> None:
    first = campaign(reminders=1, reminder_after=(86_400.0,), audience={"usergroups": ["S1"]})
    assert await store.create_campaign(first)
    assert not await store.create_campaign(first)
    assert await store.get_campaign("c1") == first
    assert await store.get_campaign("nope") is None


async def test_invitees_are_queued_once_per_study_even_across_campaigns(store: AnyStore) -> None:
    one, two = campaign("c1"), campaign("c2")
    assert await store.add_invitees(one, ["U1", "U2", "U2", "U3"], now=100.0) == 3
    assert await store.add_invitees(two, ["U3", "U4"], now=101.0) == 1
    assert await store.add_invitees(one, ["U1", "U2"], now=102.0) == 0  # the same command run twice
    counts = await store.invitation_counts("onboarding")
    assert counts.by_state == {S.QUEUED: 4} and counts.total == 4 and counts.response_rate == 0.0
    other_study = campaign("c3", study="pricing")
    assert await store.add_invitees(other_study, ["U1"], now=103.0) == 1


async def test_due_invitations_come_most_overdue_first_and_only_when_due(store: AnyStore) -> None:
    await store.add_invitees(campaign(), ["U1", "U2"], now=100.0)
    due = await store.due_invitations(now=99.0)
    assert due == []
    due = await store.due_invitations(now=100.0, limit=10)
    assert {d.user_id for d in due} == {"U1", "U2"} and all(d.state is S.QUEUED for d in due)
    first = due[0]
    assert await store.move_invitation(first.id, [S.QUEUED], S.INVITED, 500.0, now=100.0)
    assert not await store.move_invitation(first.id, [S.QUEUED], S.INVITED, 500.0, now=100.0)  # once only
    assert [d.user_id for d in await store.due_invitations(now=200.0)] == [due[1].user_id]
    assert [d.user_id for d in await store.due_invitations(now=500.0, limit=1)] == [due[1].user_id]
    moved = await store.get_invitation("onboarding", "slack", "T1", first.user_id)
    assert moved is not None and moved.state is S.INVITED and moved.next_at == 500.0
    assert await store.move_invitation(first.id, [S.INVITED], S.REMINDED, None, now=501.0, reminders_sent=1)
    moved = await store.get_invitation("onboarding", "slack", "T1", first.user_id)
    assert moved is not None and moved.reminders_sent == 1 and moved.next_at is None and moved.updated_at == 501.0


async def test_opting_out_holds_across_campaigns_in_the_workspace_and_opt_in_takes_it_back(store: AnyStore) -> None:
    await store.add_invitees(campaign(), ["U1", "U2"], now=100.0)
    await store.opt_out("slack", "T1", "U1", now=110.0)
    await store.opt_out("slack", "T1", "U1", now=111.0)  # twice is fine
    assert await store.opted_out("slack", "T1", ["U1", "U2", "U3"]) == {"U1"}
    assert await store.opted_out("slack", "T2", ["U1"]) == set()  # per workspace
    invitation = await store.get_invitation("onboarding", "slack", "T1", "U1")
    assert invitation is not None and invitation.state is S.OPTED_OUT and invitation.next_at is None
    assert [d.user_id for d in await store.due_invitations(now=1000.0)] == ["U2"]
    assert await store.opt_in("slack", "T1", "U1")
    assert not await store.opt_in("slack", "T1", "U1")
    assert await store.opted_out("slack", "T1", ["U1"]) == set()


async def test_interviews_settle_the_invitees_state(store: AnyStore, make_record: MakeRecord) -> None:
    await store.add_invitees(campaign(), ["U1", "U2", "U3"], now=100.0)
    await store.create_interview(make_record(user="U1", channel="D1", platform="slack", study="onboarding"))
    done = make_record(user="U2", channel="D2", platform="slack", study="onboarding")
    done.status = RecordStatus.COMPLETED
    await store.create_interview(done)
    await store.create_interview(make_record(user="U3", channel="D3", platform="slack", study="pricing"))
    assert await store.settle_invitations("onboarding", now=200.0) == 2
    counts = await store.invitation_counts("onboarding")
    assert counts.by_state == {S.STARTED: 1, S.COMPLETED: 1, S.QUEUED: 1}
    assert counts.response_rate == 1.0  # nobody was sent anything yet but the two who answered
    assert await store.respondents_of_study("onboarding", "slack") == {"U1", "U2"}
    assert await store.settle_invitations("onboarding", now=201.0) == 0


async def test_closing_a_study_expires_what_is_pending_and_stops_the_timers(store: AnyStore) -> None:
    await store.add_invitees(campaign(), ["U1", "U2", "U3"], now=100.0)
    u1 = await store.get_invitation("onboarding", "slack", "T1", "U1")
    assert u1 is not None
    await store.move_invitation(u1.id, [S.QUEUED], S.COMPLETED, None, now=120.0)
    assert await store.expire_invitations("onboarding", now=130.0) == 2
    assert await store.due_invitations(now=10_000.0) == []
    assert (await store.invitation_counts("onboarding")).by_state == {S.COMPLETED: 1, S.EXPIRED: 2}


async def test_remind_me_later_stores_an_opt_in(store: AnyStore) -> None:
    panel = campaign("panel-1", platform="discord", workspace="G1")
    await store.create_campaign(panel)
    first = await store.volunteer(panel, "D1", next_at=500.0, now=100.0)
    assert first.opted_in and first.state is S.INVITED and first.next_at == 500.0
    again = await store.volunteer(panel, "D1", next_at=600.0, now=200.0)
    assert again.id == first.id and again.next_at == 600.0
    await store.move_invitation(first.id, [S.INVITED], S.DECLINED, None, now=300.0)
    back = await store.volunteer(panel, "D1", next_at=700.0, now=400.0)
    assert back.state is S.INVITED and back.next_at == 700.0
    await store.move_invitation(first.id, [S.INVITED], S.COMPLETED, None, now=800.0)
    done = await store.volunteer(panel, "D1", next_at=900.0, now=900.0)
    assert done.state is S.COMPLETED and done.next_at is None  # a finisher is never put back on a timer


async def test_closed_dms_mark_the_person_undeliverable_and_a_later_opt_in_revives_them(
    store: AnyStore, make_record: MakeRecord
) -> None:
    panel = campaign("panel-2", platform="discord", workspace="G1")
    await store.create_campaign(panel)
    await store.mark_undeliverable(panel, "D1", now=100.0)  # no invitation yet: one is recorded, with no timer
    first = await store.get_invitation("onboarding", "discord", "G1", "D1")
    assert first is not None and first.state is S.UNDELIVERABLE and first.next_at is None and not first.opted_in
    assert await store.due_invitations(now=10_000.0) == []
    revived = await store.volunteer(panel, "D1", next_at=500.0, now=200.0)  # opened DMs, asked to be reminded
    assert revived.state is S.INVITED and revived.opted_in and revived.next_at == 500.0
    await store.mark_undeliverable(panel, "D1", now=300.0)  # a reminder bounced: the timer stops
    bounced = await store.get_invitation("onboarding", "discord", "G1", "D1")
    assert bounced is not None and bounced.state is S.UNDELIVERABLE and bounced.next_at is None
    done = make_record(user="D1", channel="dm-D1", platform="discord", study="onboarding")
    done.status = RecordStatus.COMPLETED  # they opened their DMs and took the study after all
    await store.create_interview(done)
    assert await store.settle_invitations("onboarding", now=400.0) == 1
    await store.mark_undeliverable(panel, "D1", now=500.0)  # a finisher stays a finisher
    counts = await store.invitation_counts("onboarding")
    assert counts.by_state == {S.COMPLETED: 1} and counts.volunteers == 1
    assert counts.as_dict()["volunteers"] == 1


async def test_invitations_survive_a_restart(new_store: NewStore) -> None:
    first = new_store()
    await first.open()
    await first.create_campaign(campaign())
    await first.add_invitees(campaign(), [f"U{n}" for n in range(50)], now=100.0)
    await first.close()
    second = new_store()
    await second.open()
    try:
        assert len(await second.due_invitations(now=100.0, limit=1000)) == 50
        assert await second.add_invitees(campaign(), [f"U{n}" for n in range(60)], now=200.0) == 10
    finally:
        await second.close()


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_the_due_query_is_an_index_search(store: AnyStore, db_path: object) -> None:
    import sqlite3

    from storage.invitation_tables import INVITATION_QUERIES

    await store.add_invitees(campaign(), ["U1"], now=100.0)
    with sqlite3.connect(str(db_path)) as raw:
        sql = INVITATION_QUERIES["due_invitations"]
        plan = " ".join(row[3] for row in raw.execute(f"EXPLAIN QUERY PLAN {sql}", (1.0, 10)))
        assert "USING INDEX invitations_due" in plan, plan
        sql = INVITATION_QUERIES["due_invitations_on"]
        plan = " ".join(row[3] for row in raw.execute(f"EXPLAIN QUERY PLAN {sql}", (1.0, "slack", 10)))
        assert "USING INDEX invitations_due" in plan and "TEMP B-TREE" not in plan, plan
        sql = INVITATION_QUERIES["get_invitation"]
        plan = " ".join(row[3] for row in raw.execute(f"EXPLAIN QUERY PLAN {sql}", ("s", "p", "w", "u")))
        assert "invitations_by_person" in plan, plan
