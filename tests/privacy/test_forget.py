"""Forget me: confirm first, then nothing of the person is left but the erasure log's hash and date (issue 11)."""

from __future__ import annotations

import json

from bot.core.bridge import Bridge
from bot.core.events import ConsentReply, ForgetMe, MyData, OutcomeKind, Start, UserText
from bot.core.invitations import Campaign
from bot.core.ports import Action, NoticeKind
from bot.core.store import Store
from bot.emulator import Emulator
from storage.locations import store_at
from tests.core.helpers import key_of, respondent, say
from tests.core.recording import RecordingAdapter

from .tables import containing, every_row

WORDS = "My manager Priscilla-Quartz never answers on Tuesdays"
OTHER_WORDS = "The cafeteria coffee is fine"


async def interview(bridge: Bridge, user: str, words: str, study: str = "named") -> str:
    key = key_of(user)
    await bridge.handle(Start(key, respondent(user), study))
    outcome = await bridge.handle(ConsentReply(key, agreed=True, actor=user))
    assert outcome.interview_id
    await bridge.wait_until_idle(key)
    await say(bridge, key, words)
    return outcome.interview_id


async def test_forget_me_asks_first_then_leaves_only_the_erasure_log(
    bridge: Bridge, adapter: RecordingAdapter, store: Store, database: str, emulator: Emulator
) -> None:
    user, key = "U0FORGET7", key_of("U0FORGET7")
    await interview(bridge, user, WORDS)
    await interview(bridge, "U0KEEPME3", OTHER_WORDS)  # someone else's interview stays
    await bridge.handle(Start(key, respondent(user), "pulse"))  # a consent text still waiting
    assert containing(await every_row(database), user, WORDS)

    asked = await bridge.handle(UserText(key, "delete my data", respondent(user)))
    assert asked.ok
    [confirm] = adapter.notices_of(key, NoticeKind.CONFIRM_FORGET)
    assert confirm.actions == (Action.FORGET, Action.KEEP)
    assert containing(await every_row(database), WORDS), "nothing is erased before the confirmation"

    done = await bridge.handle(ForgetMe(key, confirmed=True, actor=user))
    assert done.ok and "erased everything" in (done.message or "")
    assert "keeps its own copy" in (done.message or "") and "team running the study" in (done.message or "")
    left = containing(await every_row(database), user, WORDS, "Member U0FORGET7")
    assert left == {}, left
    rows = await every_row(database)
    assert len(rows["erasures"]) == 1 and containing(rows, OTHER_WORDS), "only the erasure log; others untouched"

    await bridge.stop()  # a restart brings nothing back
    await store.close()
    reopened = store_at(database)
    await reopened.open()
    try:
        restarted = Bridge(bridge.client, reopened, bridge.config, studies=bridge.studies)
        restarted.register(adapter)
        await restarted.start()
        assert containing(await every_row(database), user, WORDS) == {}
        again = await restarted.handle(ForgetMe(key, actor=user))  # a second request, answered plainly
        assert again.kind is OutcomeKind.NO_INTERVIEW and "already erased on" in (again.message or "")
        await restarted.stop()
    finally:
        await reopened.close()
        await store.open()  # the fixture closes it


async def test_a_running_interview_ends_first_and_keep_it_erases_nothing(
    bridge: Bridge, adapter: RecordingAdapter, store: Store, database: str, emulator: Emulator
) -> None:
    user, key = "U0RUNNING", key_of("U0RUNNING")
    interview_id = await interview(bridge, user, WORDS)
    await bridge.handle(ForgetMe(key, actor=user))
    kept = await bridge.handle(ForgetMe(key, confirmed=True, cancel=True, actor=user))
    assert kept.ok and kept.message == "Nothing was erased."
    assert await store.get_interview(interview_id) is not None
    await bridge.handle(ForgetMe(key, actor=user))
    await bridge.handle(UserText(key, "yes", respondent(user)))  # typed confirmation
    assert await store.get_interview(interview_id) is None
    assert emulator.interview(interview_id).status == "completed", "ended on the API before it was erased"


async def test_nothing_to_forget_is_answered_plainly(bridge: Bridge, adapter: RecordingAdapter) -> None:
    outcome = await bridge.handle(ForgetMe(key_of("U0NOBODY1"), actor="U0NOBODY1"))
    assert outcome.kind is OutcomeKind.NO_INTERVIEW
    assert outcome.message == "This bot stores nothing about you — there is nothing to erase or send."


async def test_the_erasure_log_answers_who_was_forgotten_among_many(bridge: Bridge, store: Store) -> None:
    """What campaigns ask before inviting anyone (both backends, more people than one SQLite statement binds)."""
    user, key = "U0FORGOT1", key_of("U0FORGOT1")
    await interview(bridge, user, WORDS)
    await interview(bridge, "U0STAYS02", OTHER_WORDS)
    await bridge.privacy.forget(key.platform, key.workspace, user)
    crowd = [f"U0CROWD{n:04d}" for n in range(1200)]
    found = await bridge.privacy.pseudonyms.erased_among(key.platform, key.workspace, [*crowd, user, "U0STAYS02"])
    assert found == {user}
    assert await bridge.privacy.pseudonyms.erased_among("slack", key.workspace, [user]) == set(), "per platform"


async def test_someone_only_invited_who_opted_out_can_see_and_erase_that_too(
    bridge: Bridge, store: Store, database: str
) -> None:
    """A campaign invitee who clicked "Don't ask me again" and never took part is stored too: my-data shows it,
    forget-me erases it (it is not "nothing stored")."""
    user, key = "U0INVITED", key_of("U0INVITED")
    campaign = Campaign("c1", "named", key.platform, key.workspace, created_at=1.0)
    await store.create_campaign(campaign)
    await store.add_invitees(campaign, [user, "U0SOMEONE"], 1.0)
    await store.opt_out(key.platform, key.workspace, user, 2.0)

    data = await bridge.handle(MyData(key))
    assert data.file is not None
    document = json.loads(data.file.content)
    assert [(i["study"], i["state"]) for i in document["invitations"]] == [("named", "opted_out")]
    assert len(document["opted_out"]) == 1 and "U0SOMEONE" not in data.file.content.decode()

    asked = await bridge.handle(ForgetMe(key, actor=user))
    assert asked.kind is OutcomeKind.ACCEPTED, asked
    await bridge.handle(ForgetMe(key, confirmed=True, actor=user))
    rows = await every_row(database)
    assert containing(rows, user) == {} and containing(rows, "U0SOMEONE"), "only theirs goes"
