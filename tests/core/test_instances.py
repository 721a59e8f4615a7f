"""Several instances on one PostgreSQL database (each with its own store, coordination and adapter), against
the built-in interview server: one interview per conversation, events handled once, one sweeper that another
instance replaces when it dies, and turns of a dead instance taken over without sending anything twice."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import textwrap
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from bot.api.client import InterviewClient
from bot.core.bridge import Bridge
from bot.core.events import OutcomeKind, Start, UserText
from bot.emulator import Emulator
from storage.pg_coordination import PostgresCoordination
from storage.postgres import PostgresStore
from tests.waiting import wait_until

from .conftest import CONFIG
from .helpers import agree, key_of, respondent, start_consented
from .recording import RecordingAdapter

REPO = Path(__file__).resolve().parents[2]
FAST = replace(CONFIG, sweep_interval=0.1, turn_lease=1.0)


@dataclass
class Instance:
    """One instance of the test: its bridge, what it showed, and its database connections."""

    bridge: Bridge
    adapter: RecordingAdapter
    coordination: PostgresCoordination
    store: PostgresStore

    async def die(self) -> None:
        """What a killed process leaves behind: its turns stored in flight, its leases no longer renewed, and its
        connections closed, so PostgreSQL drops its locks (the leadership among them)."""
        await self.bridge.stop()
        await self.coordination.close()
        await self.store.close()


Launch = Callable[[], Awaitable[Instance]]


@pytest.fixture
async def instances(pg_dsn: str, client: InterviewClient) -> AsyncIterator[Launch]:
    """Start instances on the test's database: ``await launch()`` → an :class:`Instance`; all stopped at the end."""
    async with AsyncExitStack() as stack:

        async def launch() -> Instance:
            store = PostgresStore(pg_dsn)
            await store.open()
            stack.push_async_callback(store.close)
            coordination = PostgresCoordination(pg_dsn)
            await coordination.open()
            stack.push_async_callback(coordination.close)
            bridge = Bridge(client, store, FAST, coordination=coordination)
            adapter = RecordingAdapter()
            bridge.register(adapter)
            await bridge.start()
            stack.push_async_callback(bridge.stop)
            return Instance(bridge, adapter, coordination, store)

        yield launch


async def test_two_quick_messages_to_two_instances_open_one_interview(instances: Launch, emulator: Emulator) -> None:
    one, two = (await instances()).bridge, (await instances()).bridge
    for n in range(5):
        key = key_of(f"racer{n}")
        before = len(emulator.book.interviews)
        await asyncio.gather(
            one.handle(UserText(key, "hi there", respondent(key.user))),
            two.handle(UserText(key, "hello?", respondent(key.user))),
        )
        assert len(emulator.book.interviews) == before, "nothing reaches the API before I agree"
        outcomes = await asyncio.gather(agree(one, key), agree(two, key))
        assert len(emulator.book.interviews) == before + 1  # one interview on the API, none orphaned
        opened = {outcome.interview_id for outcome in outcomes if outcome.interview_id}
        assert len(opened) == 1, outcomes  # the second "I agree" finds the consent answered: stale, no second start
        assert sorted(o.kind.value for o in outcomes) == ["accepted", "stale"]
        assert len(await one.store.interviews_of_user("test", key.user)) == 1


async def test_a_platform_event_delivered_to_every_instance_is_handled_once(
    instances: Launch,
) -> None:
    launched = [(await instances()).bridge for _ in range(3)]
    key = key_of("events")
    outcomes = await asyncio.gather(
        *(bridge.handle(Start(key, respondent(key.user), event_id="Ev-1")) for bridge in launched)
    )
    kinds = sorted(outcome.kind.value for outcome in outcomes)
    assert kinds.count(OutcomeKind.DUPLICATE.value) == 2, kinds


async def test_one_instance_leads_the_sweeps(pg_dsn: str) -> None:
    first, second = PostgresCoordination(pg_dsn), PostgresCoordination(pg_dsn)
    try:
        assert await first.lead() is True
        assert await second.lead() is False
        assert await first.lead() is True  # still leading
        await first.close()  # a clean stop gives the leadership up
        assert await second.lead() is True
    finally:
        await first.close()
        await second.close()


LEADER = textwrap.dedent(
    """
    import asyncio, sys, time
    from storage.pg_coordination import PostgresCoordination

    async def main() -> None:
        coordination = PostgresCoordination(sys.argv[1])
        assert await coordination.lead()
        print("leading", flush=True)
        time.sleep(600)  # blocks: only a kill ends it

    asyncio.run(main())
    """
)


async def test_another_instance_leads_within_seconds_of_the_leaders_death(pg_dsn: str) -> None:
    leader = await asyncio.create_subprocess_exec(
        sys.executable, "-c", LEADER, pg_dsn, cwd=REPO, stdout=asyncio.subprocess.PIPE
    )
    follower = PostgresCoordination(pg_dsn)
    try:
        assert leader.stdout is not None
        assert await asyncio.wait_for(leader.stdout.readline(), 60) == b"leading\n"
        assert await follower.lead() is False
        os.kill(leader.pid, signal.SIGKILL)
        await leader.wait()
        died = time.monotonic()
        while not await follower.lead():  # each sweep tries once
            assert time.monotonic() - died < 10, "no instance took over the sweeps within 10 s"
            await asyncio.sleep(0.2)
    finally:
        if leader.returncode is None:
            leader.kill()
            await leader.wait()
        await follower.close()


async def test_a_dead_instances_turn_is_taken_over_and_sent_once(instances: Launch, emulator: Emulator) -> None:
    doomed = await instances()
    # the instance that dies leads the sweeps: the survivor must first take the leadership over, then the turn
    assert await doomed.coordination.lead()
    survivor = await instances()
    assert not await survivor.coordination.lead()
    key = key_of("takeover")
    outcome = await start_consented(doomed.bridge, key)
    interview_id = outcome.interview_id
    assert interview_id is not None
    await doomed.bridge.wait_until_idle(key)
    emulator.faults.token_rate = 20.0  # a slow reply: the instance dies while it streams
    message = "I came for the design channel and stayed for the people."
    assert (await doomed.bridge.handle(UserText(key, message, respondent(key.user)))).ok
    await wait_until(lambda: len(doomed.adapter.replies_of(key)) >= 2, doomed.adapter.changed, timeout=30, poll=0.01)
    await doomed.die()  # mid-turn: its turn stays in flight
    emulator.faults.token_rate = 5000.0

    # the survivor leads the sweeps, sees the lease lapse, looks the turn up and shows the reply
    shown_by_survivor = survivor.adapter.replies_of
    await wait_until(
        lambda: any(r.final for r in shown_by_survivor(key)), survivor.adapter.changed, timeout=30, poll=0.05
    )
    await survivor.bridge.wait_until_idle(key)
    assert await survivor.store.turn_in_flight(interview_id) is None
    details = await survivor.bridge.client.get(interview_id)
    respondent_lines = [entry.content for entry in details.transcript if entry.role == "respondent"]
    assert respondent_lines == [message], "sent once, never twice"
    shown = [r.final for r in shown_by_survivor(key) if r.final]
    interviewer = [entry.content for entry in details.transcript if entry.role == "interviewer"]
    assert shown == [interviewer[-1]]


async def test_a_completion_another_instance_is_finishing_is_sent_once(instances: Launch, emulator: Emulator) -> None:
    """An instance that looks for interviews left *completing* (at start, or in its sweep) reads them before it holds
    their conversation; another instance may be completing one right then. It looks again once it holds it: the
    API's complete is called once, not again with what it read before."""
    one, two = await instances(), await instances()
    key = key_of("ending")
    interview_id = (await start_consented(one.bridge, key)).interview_id
    assert interview_id is not None
    await one.bridge.wait_until_idle(key)
    emulator.faults.latency = 1.0  # every answer of the API takes a second: the complete is on its way a while
    ending = asyncio.create_task(one.bridge.end(key))
    for _ in range(500):  # until `one` stored the end: it then waits for the API
        record = await two.store.get_interview(interview_id)
        if record is not None and record.status.value == "completing":
            break
        await asyncio.sleep(0.01)
    await two.bridge.resume()  # finds it completing, waits for the conversation, which `one` holds until it is done
    assert (await ending).ok
    emulator.faults.latency = 0.0
    completes = [r for r in emulator.requests if r.path.endswith(f"{interview_id}/complete")]
    assert [r.status for r in completes] == [200], "completed twice"
    stored = await two.store.get_interview(interview_id)
    assert stored is not None and stored.status.value == "completed"


async def owner_of_turn(store: PostgresStore, interview_id: str) -> str | None:
    """The instance running the interview's turn in flight (its lease's owner)."""
    owner = await store.pool.fetchval("SELECT owner FROM turns WHERE interview_id = $1", interview_id)
    return None if owner is None else str(owner)


async def test_a_dead_instances_turn_is_taken_over_while_the_sweep_waits_for_a_busy_conversation(
    instances: Launch, emulator: Emulator
) -> None:
    """The leader's chores (here: completions left unfinished, looked at when it starts leading) wait for each
    conversation's lock, and a conversation may stay busy for a minute: its completion waiting for the API's
    budget holds it. The turns of a dead instance are taken over all the same, at the next sweep."""
    doomed = await instances()
    assert await doomed.coordination.lead()
    survivor = await instances()
    busy, key = key_of("busy"), key_of("orphaned")
    assert (await start_consented(survivor.bridge, busy)).ok
    interview_id = (await start_consented(doomed.bridge, key)).interview_id
    assert interview_id is not None
    await doomed.bridge.wait_until_idle(key)
    emulator.faults.token_rate = 20.0  # a slow reply: the instance dies while it streams
    assert (await doomed.bridge.handle(UserText(key, "I joined for the jams.", respondent(key.user)))).ok
    await wait_until(lambda: len(doomed.adapter.replies_of(key)) >= 2, doomed.adapter.changed, timeout=30, poll=0.01)

    emulator.faults.latency = 20.0  # from now on each answer of the API takes 20 s
    ending = asyncio.create_task(survivor.bridge.end(busy))  # holds `busy` until the API has answered
    for _ in range(500):
        record = await survivor.store.active_interview(busy)
        if record is not None and record.status.value == "completing":
            break
        await asyncio.sleep(0.01)
    await doomed.die()
    taken_over_at = time.monotonic() + 10.0
    while await owner_of_turn(survivor.store, interview_id) != survivor.coordination.instance:
        assert time.monotonic() < taken_over_at, "the dead instance's turn waited for the busy conversation"
        await asyncio.sleep(0.05)
    emulator.faults.latency = 0.0
    assert (await ending).ok
