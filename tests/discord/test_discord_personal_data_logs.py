"""Personal data in the log, on the real Discord adapter: a whole anonymous interview through the fake Discord,
logged as ``interview-bridge run`` logs at ``LOG_LEVEL=DEBUG``, holds none of the member's words, ids or name."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from discord_helpers import GUILD, Stack, custom_ids, discord_stack

from adapters.discord import ids
from bot.core.store import RecordStatus
from bot.core.studies import Study, StudyBook
from tests.personal_data_logs import assert_anonymous, debug_log

MEMBER, NAME = "1777000111222333444", "kimberly.quasar"
WORDS = ["Quentin-from-payroll shouts in voice chat", "The Zeppelin channel is always full"]


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    book = StudyBook((Study("pulse", "Team pulse", anonymous=True, min_responses=3),))
    async with discord_stack(tmp_path, studies=book) as built:
        built.fake.add_user(MEMBER, NAME)
        built.fake.world.guilds[GUILD]["_members"].add(MEMBER)
        yield built


async def test_an_anonymous_interview_on_discord_at_debug_logs_none_of_the_members_words_or_ids(
    stack: Stack,
) -> None:
    with debug_log() as records:
        await stack.fake.user_sends_dm(MEMBER, "hi, I have a minute")
        await stack.agree(MEMBER)
        await stack.said(MEMBER, "What brought you to the server?")
        await stack.fake.user_sends_dm(MEMBER, WORDS[0])
        await stack.question(MEMBER, "yn")
        await stack.fake.user_sends_dm(MEMBER, "yes")  # typed, not clicked
        await stack.question(MEMBER, "nps")
        await stack.fake.user_sends_dm(MEMBER, WORDS[1])  # not a number: kept as a comment
        await stack.reply_done(MEMBER)
        await stack.fake.user_sends_dm(MEMBER, "exit")
        confirm = ids.action_id("confirm_exit")
        await stack.fake.wait_for(lambda: confirm in custom_ids(stack.dm(MEMBER)[-1]), timeout=10.0)
        await stack.click(MEMBER, stack.dm(MEMBER)[-1], confirm)

        for _ in range(500):  # the completion on the API, after the click was answered
            ended = await stack.core.status(stack.key(MEMBER))
            if ended is not None and ended.status is RecordStatus.COMPLETED:
                break
            await asyncio.sleep(0.02)
        assert ended is not None and ended.status is RecordStatus.COMPLETED
        assert stack.emulator is not None
        [record] = stack.emulator.book.interviews.values()
    assert_anonymous(records, record.respondent, *WORDS, MEMBER, NAME, stack.fake.dm_channel_of(MEMBER))
