"""A bot process killed (SIGKILL) while it handles a respondent's message, on both backends.

The platform redelivers an event it did not see acknowledged (Slack retries, Discord replays, a load balancer
tries the next instance). The seen-events memory must hold an event only once its message is stored: a kill
before that leaves the redelivery to be handled (nothing lost), a kill after it drops the redelivery (nothing
doubled). The crash points are real: the child process kills itself with SIGKILL when it reaches them.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import textwrap
from pathlib import Path

import pytest

from bot.api.client import InterviewClient
from bot.core.bridge import Bridge
from bot.core.events import OutcomeKind, UserText
from bot.emulator import Emulator
from storage.locations import store_at

from .conftest import CONFIG
from .helpers import key_of, respondent, start
from .recording import RecordingAdapter

REPO = Path(__file__).resolve().parents[2]
EVENT = "Ev-crash-1"
TEXT = "I run the support team."

# the child: a bridge on the same database and server, killed by SIGKILL when it enters the function named argv[4]
CHILD = textwrap.dedent(
    """
    import asyncio, os, signal, sys
    from bot.api.client import InterviewClient
    from bot.core.bridge import Bridge
    from bot.core.events import UserText
    from storage.locations import store_at
    from tests.core.conftest import CONFIG
    from tests.core.helpers import key_of, respondent
    from tests.core.recording import RecordingAdapter

    database, api_url, api_key, crash_at = sys.argv[1:5]

    def crash(frame, event, arg):
        if event == "call" and frame.f_code.co_qualname.endswith(crash_at):
            os.kill(os.getpid(), signal.SIGKILL)

    async def main() -> None:
        store = store_at(database)
        await store.open()
        async with InterviewClient(api_url, api_key) as client:
            bridge = Bridge(client, store, CONFIG)
            bridge.register(RecordingAdapter())
            await bridge.start()
            key = key_of("alice")
            print("ready", flush=True)
            sys.setprofile(crash)
            await bridge.handle(UserText(key, sys.argv[5], respondent("alice"), event_id=sys.argv[6]))
            sys.setprofile(None)
            print("not killed", flush=True)

    asyncio.run(main())
    """
)


async def handled_by_a_killed_process(database: str, emulator: Emulator, crash_at: str) -> None:
    """The child bridge handles the event and is killed when it reaches ``crash_at``."""
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CHILD, database, emulator.base_url, emulator.api_key, crash_at, TEXT, EVENT,
        cwd=REPO, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(child.communicate(), 60)
    assert child.returncode == -signal.SIGKILL, (out, err.decode(errors="replace")[-2000:])
    assert out == b"ready\n"


async def crash_then_redeliver(
    bridge: Bridge, database: str, emulator: Emulator, client: InterviewClient, crash_at: str
) -> tuple[str, OutcomeKind, Bridge]:
    """Alice's interview runs; a child process handling her message is killed at ``crash_at``; then a bridge
    started after the kill (another instance, or the restarted one) receives the event again."""
    interview_id = await start(bridge, key_of("alice"))
    await bridge.stop()
    await handled_by_a_killed_process(database, emulator, crash_at)
    store = store_at(database)
    await store.open()
    again = Bridge(client, store, CONFIG)
    again.register(RecordingAdapter())
    await again.start()
    outcome = await again.handle(UserText(key_of("alice"), TEXT, respondent("alice"), event_id=EVENT))
    return interview_id, outcome.kind, again


def said(emulator: Emulator, interview_id: str) -> list[str]:
    record = emulator.book.interviews[interview_id]
    return [entry["content"] for entry in record.transcript if entry["role"] == "respondent"]


@pytest.mark.timeout(120)
async def test_killed_before_the_message_is_stored_the_redelivery_is_handled(
    bridge: Bridge, database: str, emulator: Emulator, client: InterviewClient
) -> None:
    interview_id, kind, again = await crash_then_redeliver(bridge, database, emulator, client, "Store.enqueue_message")
    try:
        assert kind is OutcomeKind.ACCEPTED  # not dropped as a duplicate: the event was never acted on
        await again.wait_until_idle(key_of("alice"))
        assert said(emulator, interview_id) == [TEXT]
    finally:
        await again.stop()
        await again.store.close()


@pytest.mark.timeout(120)
async def test_killed_once_the_message_is_stored_the_redelivery_is_dropped(
    bridge: Bridge, database: str, emulator: Emulator, client: InterviewClient
) -> None:
    stored = "CoreContext.clear_deadlines"  # called right after the message was stored
    interview_id, kind, again = await crash_then_redeliver(bridge, database, emulator, client, stored)
    try:
        assert kind is OutcomeKind.DUPLICATE
        await again.wait_until_idle(key_of("alice"))
        queued = [m.content for m in await again.store.queued_messages(interview_id)]
        assert queued + said(emulator, interview_id) == [TEXT]  # stored once: waiting to be sent, or sent once
    finally:
        await again.stop()
        await again.store.close()
