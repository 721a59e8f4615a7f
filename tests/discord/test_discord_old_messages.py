"""Discord refuses edits to messages older than an hour once a channel made too many (error 30046): a reply
resumed after a long outage continues in a new message instead of retrying the edit."""

from __future__ import annotations

import test_discord_adapter as adapter_tests
from test_discord_adapter import USER, Rig

rig = adapter_tests.rig


async def test_a_reply_resumed_after_a_long_outage_posts_a_new_message(rig: Rig) -> None:
    key = await rig.key_for(USER)
    stream = await rig.adapter.begin_reply(key)
    [placeholder] = rig.fake.bot_messages(key.channel)
    rig.fake.old_edits.age(placeholder["id"], 2 * 3600)  # the interview API was away for two hours
    rig.fake.old_edits.limit = 0  # and Discord takes no more edits of old messages in this DM
    await stream.append("Sorry for the wait. ")
    await stream.finish("Sorry for the wait. Here is the next question.", None)
    assert rig.texts(key) == ["Sorry for the wait. Here is the next question."]
    assert rig.fake.message(placeholder["id"]) is None  # the stale placeholder is gone, not left as "…"
    refused = [r for r in rig.fake.requests if r.status == 400 and r.method == "PATCH"]
    assert len(refused) <= 1  # one refusal is enough to stop editing that message
