"""Issue 11 on the fake Slack: ``/interview my-data`` uploads the person's own transcript as a JSON file into
their DM (files.getUploadURLExternal + files.completeUploadExternal); ``/interview forget-me`` asks in the DM,
then **Erase my data** leaves nothing of the person in any table but the erasure log."""

from __future__ import annotations

import json

import test_slack_e2e as e2e
from fake_slack import FakeSlack
from test_slack_e2e import ALICE, Harness, agree, block_text

from bot.core.store import RecordStatus
from tests.privacy.tables import containing, every_row

BOB = "U0BOB0002"
NAME = "zephyrine.quartermaine"
WORDS = "My mentor Quillon-Barnaby reviews every pull request twice"
BOB_WORDS = "Mostly the espresso machine"
harness = e2e.harness  # the end-to-end fixture


async def _interview(h: Harness, user: str, words: str) -> None:
    """The user DMs the app, agrees, and answers the first question with ``words``."""
    sent = await h.fake.user_sends_dm(user, "hi")
    await agree(h, user)
    await h.fake.wait_for(lambda: any("What is your role?" in m["text"] for m in h.bot_replies(user, sent["ts"])))
    await h.fake.user_sends_dm(user, words, thread_ts=sent["ts"])
    await h.wait_for_action("ib:yes", user)
    await h.idle(user)


def _ephemeral_texts(fake: FakeSlack, user: str) -> list[str]:
    return [str(m.get("text") or "") for m in fake.ephemerals(user)]


async def test_my_data_is_a_json_file_in_the_dm_of_the_persons_own_transcript(harness: Harness) -> None:
    h = harness
    h.fake.add_user(BOB, "bob")
    await _interview(h, ALICE, WORDS)
    await _interview(h, BOB, BOB_WORDS)
    record = await h.store.latest_interview(h.key())
    assert record is not None and record.session_token
    token = record.session_token

    answer = await h.fake.slash_command(ALICE, "/interview", "my-data")
    assert answer["status"] == 200
    channel = h.fake.dm_channel_of(ALICE)
    await h.fake.wait_for(lambda: bool(h.fake.shared_files(channel)), timeout=10.0)
    await h.fake.wait_for(lambda: any("sent the file" in t for t in _ephemeral_texts(h.fake, ALICE)), timeout=10.0)
    [upload] = h.fake.shared_files(channel)
    assert upload.content is not None and upload.filename.endswith(".json")
    assert not h.fake.shared_files(h.fake.dm_channel_of(BOB)), "the file went to Alice's DM only"
    text = upload.content.decode()
    document = json.loads(text)
    said = [line["text"] for i in document["interviews"] for line in i["transcript"] if line["role"] == "respondent"]
    assert said == [WORDS]
    assert BOB_WORDS not in text and BOB not in text, "nobody else's words or id"
    assert token not in text and "session_token" not in text, "no session token"


async def test_forget_me_asks_in_the_dm_then_leaves_only_the_erasure_log(harness: Harness) -> None:
    h = harness
    h.fake.add_user(ALICE, NAME)  # a name found nowhere else
    h.fake.add_user(BOB, "bob")
    await _interview(h, ALICE, WORDS)
    await _interview(h, BOB, BOB_WORDS)
    database = h.store.path
    stored = containing(await every_row(database), ALICE, WORDS, NAME)
    assert stored and containing(stored, NAME), "the id, the words and the name are stored before"

    before = len(h.fake.ephemerals(ALICE))
    await h.fake.slash_command(ALICE, "/interview", "forget-me")
    await h.fake.wait_for(lambda: len(h.fake.ephemerals(ALICE)) > before, timeout=10.0)
    assert "confirm" in _ephemeral_texts(h.fake, ALICE)[-1]
    confirm = await h.wait_for_action("ib:act:forget")
    assert "ib:act:keep" in str(confirm["blocks"])
    assert containing(await every_row(database), WORDS), "nothing is erased before the confirmation"

    assert await h.click(confirm, "ib:act:forget") == 200
    channel = h.fake.dm_channel_of(ALICE)
    await h.fake.wait_for(
        lambda: any("erased everything" in block_text(m) for m in h.fake.bot_messages(channel)), timeout=10.0
    )
    done = next(block_text(m) for m in h.fake.bot_messages(channel) if "erased everything" in block_text(m))
    assert "keeps its own copy" in done and "team running the study" in done
    await h.fake.wait_for(lambda: "ib:act:forget" not in str(h.message(confirm["ts"])["blocks"]))
    rows = await every_row(database)
    assert containing(rows, ALICE, WORDS, NAME) == {}, containing(rows, ALICE, WORDS, NAME)
    assert len(rows["erasures"]) == 1 and containing(rows, BOB, BOB_WORDS), "only the erasure log; Bob untouched"
    bob = await h.store.latest_interview(h.key(BOB))
    assert bob is not None and bob.status is RecordStatus.ACTIVE

    before = len(h.fake.ephemerals(ALICE))
    await h.fake.slash_command(ALICE, "/interview", "forget-me")
    await h.fake.wait_for(lambda: len(h.fake.ephemerals(ALICE)) > before, timeout=10.0)
    assert "already erased on" in _ephemeral_texts(h.fake, ALICE)[-1]
    before = len(h.fake.ephemerals(ALICE))
    await h.fake.slash_command(ALICE, "/interview", "my-data")
    await h.fake.wait_for(lambda: len(h.fake.ephemerals(ALICE)) > before, timeout=10.0)
    assert "already erased on" in _ephemeral_texts(h.fake, ALICE)[-1]
    assert not h.fake.shared_files(channel), "no file of nothing"
    assert containing(await every_row(database), ALICE, WORDS, NAME) == {}, "the answers stored nothing anew"


async def test_a_dm_saying_delete_my_data_asks_then_erases(harness: Harness) -> None:
    h = harness
    await _interview(h, ALICE, WORDS)
    await h.fake.user_sends_dm(ALICE, "Delete my data")  # a new top-level message, not in the interview's thread
    confirm = await h.wait_for_action("ib:act:forget")
    assert await h.store.interviews_of_user("slack", ALICE), "nothing is erased before the confirmation"
    assert await h.click(confirm, "ib:act:forget") == 200
    channel = h.fake.dm_channel_of(ALICE)
    await h.fake.wait_for(
        lambda: any("erased everything" in block_text(m) for m in h.fake.bot_messages(channel)), timeout=10.0
    )
    assert await h.store.interviews_of_user("slack", ALICE) == []
    assert containing(await every_row(h.store.path), ALICE, WORDS) == {}
