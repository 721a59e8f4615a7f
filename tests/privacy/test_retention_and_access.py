"""My data (access), retention with an injected clock, session tokens wiped, transcripts encrypted at rest."""

from __future__ import annotations

import json

from cryptography.fernet import Fernet

from bot.core.bridge import Bridge
from bot.core.clock import ManualClock
from bot.core.events import Exit, MyData, OutcomeKind
from bot.core.privacy import DAY
from bot.core.store import Store
from bot.emulator import Emulator
from storage.locations import store_at
from tests.core.helpers import key_of
from tests.core.recording import RecordingAdapter

from .tables import containing, every_row
from .test_forget import OTHER_WORDS, WORDS, interview


async def test_my_data_is_a_json_file_of_the_persons_transcript_and_nobody_elses(bridge: Bridge) -> None:
    await interview(bridge, "U0ACCESS1", WORDS)
    await interview(bridge, "U0OTHER22", OTHER_WORDS)
    outcome = await bridge.handle(MyData(key_of("U0ACCESS1")))
    assert outcome.ok and outcome.file is not None and outcome.file.name.endswith(".json")
    document = json.loads(outcome.file.content)
    [mine] = document["interviews"]
    said = [line["text"] for line in mine["transcript"] if line["role"] == "respondent"]
    assert said == [WORDS]
    assert OTHER_WORDS not in outcome.file.content.decode() and "U0OTHER22" not in outcome.file.content.decode()
    assert "session_token" not in outcome.file.content.decode()
    assert document["consents"][0]["decision"] == "agreed"
    nothing = await bridge.handle(MyData(key_of("U0NOBODY2")))
    assert nothing.kind is OutcomeKind.NO_INTERVIEW and nothing.file is None


async def test_retention_purges_exactly_the_interviews_ended_past_the_window(
    bridge: Bridge, store: Store, clock: ManualClock
) -> None:
    ended: dict[str, str] = {}
    for user in ("U0OLD0001", "U0EDGE001", "U0RECENT1"):  # ended a day apart
        ended[user] = await interview(bridge, user, f"{WORDS} ({user})")
        await bridge.handle(Exit(key_of(user), confirmed=True, actor=user))
        clock.advance(DAY)
    running = await interview(bridge, "U0RUNNING2", WORDS)
    edge = await store.get_interview(ended["U0EDGE001"])
    assert edge is not None and edge.completed_at is not None
    clock.advance(edge.completed_at + 180 * DAY - clock.now())  # U0EDGE ended exactly RETENTION_DAYS ago
    assert await bridge.privacy.purge_expired() == 1
    assert await store.transcript(ended["U0OLD0001"]) == []
    assert await store.transcript(ended["U0EDGE001"]), "at the boundary: kept"
    clock.advance(1)
    assert await bridge.privacy.purge_expired() == 1
    assert await store.transcript(ended["U0EDGE001"]) == []
    assert await store.transcript(ended["U0RECENT1"]) and await store.transcript(running)
    assert await store.get_interview(ended["U0OLD0001"]) is not None, "the record (counts) stays, its words go"
    assert await bridge.privacy.purge_expired() == 0


async def test_session_tokens_are_wiped_once_the_api_completed_the_interview(
    bridge: Bridge, store: Store, emulator: Emulator
) -> None:
    interview_id = await interview(bridge, "U0TOKEN01", WORDS)
    record = await store.get_interview(interview_id)
    assert record is not None and record.session_token
    await bridge.handle(Exit(key_of("U0TOKEN01"), confirmed=True, actor="U0TOKEN01"))
    record = await store.get_interview(interview_id)
    assert record is not None and record.session_token == ""
    assert emulator.interview(interview_id).status == "completed"


async def test_transcripts_are_encrypted_at_rest_with_a_key(database: str, bridge: Bridge) -> None:
    key = Fernet.generate_key().decode()
    encrypted = store_at(database, encryption_key=key)
    await encrypted.open()
    try:
        core = Bridge(bridge.client, encrypted, bridge.config, studies=bridge.studies)
        core.register(RecordingAdapter())
        await core.start()
        interview_id = await interview(core, "U0SECRET1", WORDS)
        await core.stop()
        assert containing(await every_row(database), WORDS) == {}, "the words are nowhere in plain text"
        lines = await encrypted.transcript(interview_id)
        assert WORDS in [line.content for line in lines]
    finally:
        await encrypted.close()
