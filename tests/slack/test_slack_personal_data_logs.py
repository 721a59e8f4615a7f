"""Personal data in the log, on the real Slack adapter: a whole anonymous interview through the fake Slack, logged
as ``interview-bridge run`` logs at ``LOG_LEVEL=DEBUG``, holds none of the respondent's words, ids or name."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp import web
from fake_slack import FakeSlack
from test_slack_e2e import Harness, agree, open_harness

from bot.core.store import RecordStatus
from bot.core.studies import Study, StudyBook
from tests.personal_data_logs import assert_anonymous, debug_log

USER, NAME = "U0QUIETID9", "Kimberly Quasar"
WORDS = ["Quentin-from-payroll shouts at standups", "The Zeppelin room is always booked"]


@pytest.fixture
async def harness(
    fake_slack: FakeSlack, serve_http: Callable[[web.Application], Awaitable[str]], tmp_path: Path
) -> AsyncIterator[Harness]:
    fake_slack.add_user(USER, NAME)
    book = StudyBook((Study("pulse", "Team pulse", anonymous=True, min_responses=3),))
    async with open_harness(fake_slack, serve_http, tmp_path, studies=book) as h:
        yield h


async def test_an_anonymous_interview_on_slack_at_debug_logs_none_of_the_respondents_words_or_ids(
    harness: Harness,
) -> None:
    h = harness
    with debug_log() as records:
        sent = await h.fake.user_sends_dm(USER, "hi, I have a minute")
        await agree(h, USER)
        thread = sent["ts"]
        await h.fake.wait_for(lambda: any("What is your role?" in m["text"] for m in h.bot_replies(USER, thread)))
        await h.fake.user_sends_dm(USER, WORDS[0], thread_ts=thread)
        await h.wait_for_action("ib:yes", USER)
        await h.fake.user_sends_dm(USER, "yes", thread_ts=thread)  # typed, not clicked
        await h.fake.wait_for(lambda: any("How easy" in m["text"] for m in h.bot_replies(USER, thread)))
        await h.fake.user_sends_dm(USER, WORDS[1], thread_ts=thread)  # not an answer to a scale: noted as such
        await h.idle(USER)
        await h.fake.user_sends_dm(USER, "exit", thread_ts=thread)
        await h.click(await h.wait_for_action("ib:act:confirm_exit", USER), "ib:act:confirm_exit", USER)
        await h.record_status(RecordStatus.COMPLETED, USER)
        [record] = h.emulator.book.interviews.values()
    assert_anonymous(records, record.respondent, *WORDS, USER, NAME, h.fake.dm_channel_of(USER))
