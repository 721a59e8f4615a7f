"""Faults end to end: 429s, gateway reconnects, a reply over 2000 characters, a member who blocks the bot,
and many concurrent DM interviews sharing one edit budget under Discord's real per-channel limits."""

from __future__ import annotations

import asyncio
from pathlib import Path

from discord_helpers import ADA, BRIEF, custom_ids, discord_stack

from adapters.discord import ids
from adapters.discord.adapter import UNREACHABLE_SCOPE
from adapters.discord.text import split_message
from bot.core import EndReason
from bot.core.store import RecordStatus

LONG_GREETING = "Hi {name}! " + " ".join(f"Paragraph {i}: " + "lorem ipsum dolor sit amet " * 12 for i in range(9))
# long enough to stream past the first 5 s window of each DM (the consent text and its click spend part of it)
CHATTY_BRIEF = BRIEF.replace("[Thanks.]", '["' + "Thanks, that is really helpful to hear. " * 10 + '"]')
LONG_BRIEF = BRIEF.replace('"Hi {name}! GREETING"', '"' + LONG_GREETING + '"')


async def test_long_reply_through_429s_and_a_gateway_outage(tmp_path: Path) -> None:
    async with discord_stack(tmp_path, brief_text=LONG_BRIEF) as stack:
        fake = stack.fake
        fake.force_429("PATCH", r"/channels/\d+/messages/\d+", count=3, retry_after=0.1)
        fake.force_429("POST", r"/channels/\d+/messages$", count=2, retry_after=0.1, global_=True)
        await fake.user_sends_dm(ADA, "hi")
        await stack.agree(ADA)
        await stack.said(ADA, "What brought you to the server?")
        key = stack.key(ADA)
        await stack.core.wait_until_idle(key)
        record = await stack.core.status(key)
        assert record is not None
        opening = (await stack.api.get(record.interview_id)).transcript[0].content
        assert len(opening) > 2000
        texts = [m["content"] for m in stack.dm(ADA)][1:]  # after the consent text
        assert "".join(texts) == opening  # split without losing or doubling a character, despite the 429s
        assert texts == split_message(opening)
        assert ids.action_id("end") in custom_ids(stack.dm(ADA)[-1])
        assert sum(r.status == 429 for r in fake.requests) >= 5

        async with fake.gateway_outage():  # the member writes while the bot is disconnected
            await fake.user_sends_dm(ADA, "My friends are here")
        await stack.question(ADA, "yn")  # replayed on RESUME, handled once
        await fake.disconnect_gateway()
        await fake.wait_until_identified()
        yes_no = await stack.question(ADA, "yn")
        await stack.click(ADA, yes_no, next(c for c in custom_ids(yes_no) if c.endswith(":y")))
        await stack.question(ADA, "nps")
        details = await stack.api.get(record.interview_id)
        said = [e.content for e in details.transcript if e.role == "respondent"]
        assert said == ["My friends are here", "Yes"]
        assert fake.gateway.stats.resumes >= 1
        fake.assert_no_spec_errors()


async def test_member_who_blocks_the_bot_completes_as_respondent_left(tmp_path: Path) -> None:
    async with discord_stack(tmp_path) as stack:
        await stack.fake.user_sends_dm(ADA, "hi")
        await stack.agree(ADA)
        await stack.said(ADA, "What brought you")
        key = stack.key(ADA)
        await stack.core.wait_until_idle(key)
        stack.fake.set_dms_open(ADA, False)  # blocked the bot / left the last shared server
        sends_before = len(stack.fake.requests_to("POST", r"/channels/\d+/messages$"))

        stack.clock.advance(600 - 120 + 1)  # the reminder is due: sending it fails
        await stack.core.check_deadlines()
        assert await stack.store.get_state(UNREACHABLE_SCOPE, ADA) is not None
        record = await stack.core.status(key)
        assert record is not None and record.status is RecordStatus.ACTIVE

        stack.clock.advance(200)  # the inactivity deadline
        await stack.core.check_deadlines()
        record = await stack.core.status(key)
        assert record is not None and record.status is RecordStatus.COMPLETED
        assert record.end_reason is EndReason.UNREACHABLE
        failed = stack.fake.requests_to("POST", r"/channels/\d+/messages$")[sends_before:]
        assert len(failed) <= 2 and all(r.status == 403 for r in failed)  # recorded, never retried in a loop


async def test_many_concurrent_dm_interviews_share_the_edit_budget(tmp_path: Path) -> None:
    members = [str(2000 + n) for n in range(12)]
    # Discord's own figures: 5 writes per 5 s per DM, 50 requests/s globally; a 1 s edit interval
    async with discord_stack(
        tmp_path, brief_text=CHATTY_BRIEF, token_rate=15.0, edit_interval=1.0, message_limit=(5, 5.0)
    ) as stack:
        for n, member in enumerate(members):
            stack.fake.add_user(member, f"member{n}")
        await asyncio.gather(*(stack.fake.user_sends_dm(m, "hello") for m in members))
        await asyncio.gather(*(stack.agree(m) for m in members))
        await asyncio.gather(*(stack.reply_done(m) for m in members))  # openings come whole (not streamed)
        await asyncio.gather(*(stack.fake.user_sends_dm(m, "I like the people") for m in members))
        replies = await asyncio.gather(*(stack.question(m, "yn") for m in members))  # streamed, all at once
        for member, reply in zip(members, replies, strict=True):
            record = await stack.core.status(stack.key(member))
            assert record is not None
            transcript = (await stack.api.get(record.interview_id)).transcript
            assert reply["content"] == transcript[-1].content
            assert reply["edits"] >= 3  # grew while eleven others streamed too: nobody starved
        assert not [r for r in stack.fake.requests if r.status == 429]  # the shared budget kept within limits
        stack.fake.assert_no_spec_errors()
