"""Three ``interview-bridge run`` processes on one PostgreSQL, Slack's events spread over them, one killed.

Two ways Slack spreads the events, one test each: **HTTP mode** behind a round-robin load balancer, and **Socket
Mode**, where each instance opens its own connection with ``SLACK_APP_TOKEN`` and the fake Slack sends each
envelope to one of them (retrying one not acknowledged in time on another connection, as Slack does). Respondents
go through whole interviews at once; the instance leading the sweeps is killed with SIGKILL while it runs turns
(in Socket Mode its connection drops with it). Then: every interview reaches its end, no respondent message is
lost or sent twice (checked in the built-in server's transcripts), the interview API answers no 429 — its limit
is a real one, :data:`RATE_LIMIT` requests a minute for the key, which the three instances must share through
the database — and another instance leads the sweeps within 10 s.

``make test`` runs the :data:`RESPONDENTS` (30) of issue 14: a minute or so per transport on two CPUs, since the
key's limit grows with them. Respondents agree to the consent text, click Retry when a reply fails, and write
again in their thread after ``PATIENCE`` seconds of silence (needed only when an instance dies holding an event
it acknowledged without storing it, or an interview it stored before its opening was shown; the thread's status
saying they wait for the API is not silence). A run that stalls fails with what each waiting respondent saw and
what the database holds of their interview (``stuck``), not by the suite's timeout.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest
from aiohttp import web
from fake_slack import FakeSlack
from test_slack_e2e import action_ids

from adapters.slack.blocks import NOTICE_ACTION_PREFIX
from bot.core.ports import Action
from bot.emulator import Emulator, EmulatorConfig, run_emulator
from storage.pg_locks import LockSpace
from tests.serving import free_port, serving

RESPONDENTS = 30
RATE_LIMIT = 4 * RESPONDENTS
"""The API key's requests a minute (server and bot agree): a run needs about five a respondent, so the three
instances together hit the limit within the first minute and must share it."""
RETRY = NOTICE_ACTION_PREFIX + Action.RETRY.value
AGREE = NOTICE_ACTION_PREFIX + Action.AGREE.value
PATIENCE = 60.0
"""Seconds of silence after which a respondent waiting for the next question writes again (a turn taken over
needs ~25 s; a status saying where their turn is in the API's queue is not silence)."""
STALLED = 420.0
"""Seconds after which respondents still waiting fail the test with what they saw (well before its timeout)."""
ANSWERS = ("I run the support team.", "Mostly the search, it finds old threads.", "Nothing else, thanks.")
BRIEF = """
study: {id: scale-test, title: Scale test study}
interviewer:
  greeting: "Hi {name}! Thanks for joining."
  closing: "That's everything, thank you {name}!"
  acknowledgements: ["Thanks."]
questions:
  - {id: role, type: open_ended, text: "What is your role?", max_follow_ups: 0}
  - {id: best, type: open_ended, text: "What helps you most?", max_follow_ups: 0}
  - {id: last, type: open_ended, text: "Anything else?", max_follow_ups: 0}
"""
SIGNING_SECRET = "fake-signing-secret-for-instances"


class LoadBalancer:
    """Round-robin over the instances' event endpoints; an instance that does not answer is skipped."""

    def __init__(self, backends: list[str]) -> None:
        self.backends = backends
        self._next = itertools.cycle(range(len(backends)))
        self.sent = [0] * len(backends)
        self.log: list[tuple[int, float]] = []  # (instance, when) of every event an instance acknowledged
        self.session: aiohttp.ClientSession | None = None

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")}
        assert self.session is not None
        for _ in range(len(self.backends)):
            n = next(self._next)
            try:
                async with self.session.post(self.backends[n] + request.path, data=body, headers=headers) as answer:
                    self.sent[n] += 1
                    self.log.append((n, time.monotonic()))
                    return web.Response(
                        status=answer.status, body=await answer.read(), content_type=answer.content_type
                    )
            except aiohttp.ClientConnectionError:
                continue  # that instance is gone: the next one takes the event
        return web.Response(status=503)


async def wait_for(predicate: object, timeout: float, what: str) -> None:  # noqa: ASYNC109
    """Poll an async predicate until it is true."""
    deadline = time.monotonic() + timeout
    while not await predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


async def wait_patiently(predicate: object, look: Callable[[], object], what: str) -> None:
    """Like a person: wait until the predicate holds, and give up after ``PATIENCE`` seconds in which ``look()``
    (what the thread shows) stayed the same. A status such as the place in the API's queue, or a reply that
    grows, is not silence."""
    seen, deadline = look(), time.monotonic() + PATIENCE
    while not await predicate():  # type: ignore[operator]
        now = look()
        if now != seen:
            seen, deadline = now, time.monotonic() + PATIENCE
        elif time.monotonic() > deadline:
            raise AssertionError(f"{PATIENCE:.0f} s of silence waiting for {what}")
        await asyncio.sleep(0.1)


def interviews_of(emulator: Emulator, user: str) -> list[Any]:
    """The user's interviews in the built-in server, oldest first."""
    return [r for r in emulator.book.interviews.values() if r.respondent.get("external_id") == user]


def interview_of(emulator: Emulator, user: str) -> Any | None:
    """The user's latest interview: the one the bot runs. An earlier one is an orphan: the killed instance had
    asked the API to start it and died before it stored the answer (docs/api-wire-format.md, "A retried start can
    leave an orphan interview"); the respondent then starts again."""
    found = interviews_of(emulator, user)
    return found[-1] if found else None


def thread_seen(fake: FakeSlack, emulator: Emulator, user: str) -> str:
    """The user's DM as they see it and their interview's transcript in the API (for a failure's message)."""
    api = [[(e["role"], e["content"][:40]) for e in r.transcript] for r in interviews_of(emulator, user)]
    lines = [f"{user}: API {api}"]
    for m in fake.messages(fake.dm_channel_of(user)):
        lines.append(f"  {m['ts']} in {m['thread_ts']} bot={m['bot']} {m['streaming']} {m['text'][:60]!r}")
    return "\n".join(lines)


async def stuck(admin: asyncpg.Connection, user: str, logs: Path) -> str:
    """What the database holds of a waiting respondent's interview, and what the instances logged of it."""
    rows = await admin.fetch(
        "SELECT interview_id, status, failed_turn, turns_sent, exit_requested FROM interviews WHERE user_id = $1", user
    )
    lines = [f"{user}: interviews {[tuple(r) for r in rows]}; now {time.time():.1f}"]
    for row in rows:
        interview = row["interview_id"]
        turns = await admin.fetch(
            "SELECT id, owner, lease_until, content FROM turns WHERE interview_id = $1", interview
        )
        queued = await admin.fetch(
            "SELECT id, turn_id, created_at, content FROM queued_messages WHERE interview_id = $1", interview
        )
        lines.append(f"  turns {[tuple(t) for t in turns]}")
        lines.append(f"  queued {[tuple(q) for q in queued]}")
        for n in range(3):
            text = (logs / f"instance-{n}.log").read_text(errors="replace")
            said = [line for line in text.splitlines() if interview in line]
            lines.extend(f"  instance-{n}: {line[:220]}" for line in said[-12:])
    return "\n".join(lines)


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[tuple[FakeSlack, Emulator]]:
    brief = tmp_path / "brief.yaml"
    brief.write_text(BRIEF, encoding="utf-8")
    config = EmulatorConfig(brief=brief, token_rate=120.0, analysis_delay=0.05, rate_limit=RATE_LIMIT)
    async with FakeSlack(signing_secret=SIGNING_SECRET) as fake, run_emulator(config) as emulator:
        yield fake, emulator


def instance_env(n: int, transport: str, fake: FakeSlack, emulator: Emulator, pg_dsn: str) -> dict[str, str]:
    """The environment of instance ``n``: HTTP mode on a port of its own, or Socket Mode with the app token."""
    env = {
        **os.environ,
        "KOJI_API_URL": emulator.base_url,
        "KOJI_API_KEY": emulator.api_key,
        "KOJI_RATE_LIMIT": str(RATE_LIMIT),
        "SLACK_BOT_TOKEN": fake.bot_token,
        "SLACK_API_URL": fake.api_url,
        "SLACK_UPDATE_INTERVAL": "0.3",
        "DATABASE_URL": pg_dsn,
        "INSTANCE_ID": f"instance-{n}",
        "HTTP_PORT": str(free_port()),
        "STUDIES_FILE": "",
        "LOG_LEVEL": "INFO",
    }
    for name in ("SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "DISCORD_TOKEN", "DATABASE_PATH"):
        env.pop(name, None)
    if transport == "socket":
        env["SLACK_APP_TOKEN"] = fake.app_token
    else:
        env.update(SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_HTTP_PORT=str(free_port()), SLACK_HTTP_HOST="127.0.0.1")
    return env


@pytest.mark.parametrize("transport", ["http", "socket"])
@pytest.mark.timeout(600)
async def test_three_instances_respondents_one_killed(
    world: tuple[FakeSlack, Emulator], pg_dsn: str, tmp_path: Path, transport: str
) -> None:
    fake, emulator = world
    fake.ack_timeout = 10.0  # three bot processes and a database share two CPUs here
    fake.auto_retries, fake.retry_delays = 3, [0.5, 2.0, 5.0]  # Slack retries an event not acknowledged in time
    users = [f"U0RESP{n:04d}" for n in range(RESPONDENTS)]
    for user in users:
        fake.add_user(user, user.lower())
    envs = [instance_env(n, transport, fake, emulator, pg_dsn) for n in range(3)]
    processes: list[asyncio.subprocess.Process] = []
    for n, env in enumerate(envs):
        log = (tmp_path / f"instance-{n}.log").open("wb")
        processes.append(
            await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run", env=env, cwd=tmp_path, stdout=log, stderr=log
            )
        )
    balancer = LoadBalancer([f"http://127.0.0.1:{env.get('SLACK_HTTP_PORT')}" for env in envs])
    app = web.Application()
    app.router.add_post("/slack/events", balancer.handle)
    admin = await asyncpg.connect(pg_dsn)
    started = time.monotonic()
    try:
        async with aiohttp.ClientSession() as session, serving(app) as url:
            balancer.session = session

            async def all_connected() -> bool:
                if transport == "socket":
                    return len(fake.socket.connections) == 3
                for env in envs:
                    try:
                        _, writer = await asyncio.open_connection("127.0.0.1", int(env["SLACK_HTTP_PORT"]))
                        writer.close()
                    except OSError:
                        return False
                return True

            await wait_for(all_connected, 60, "the three instances to listen or connect")
            if transport == "http":
                fake.set_events_url(url + "/slack/events")

            repeats: dict[str, int] = {}
            stalls: list[str] = []  # what a respondent who repeated themselves saw, and what the API had
            retried: dict[str, int] = {}
            waiting: set[str] = set(users)

            async def respondent(user: str) -> None:
                """Answers each question once it shows; like a person, says it again (in the same thread) after
                60 s of silence."""
                thread = None
                clicked: set[str] = set()
                for number, text in enumerate(("hi", *ANSWERS)):
                    while True:
                        sent = await fake.user_sends_dm(user, text, thread_ts=thread)
                        thread = thread or sent["ts"]
                        if number == len(ANSWERS):
                            waiting.discard(user)
                            return

                        async def asked(number: int = number + 1, thread: str = thread) -> bool:
                            record = interview_of(emulator, user)  # the question is in the API, and shown
                            if record is None:
                                return False
                            said = [e["content"] for e in record.transcript if e["role"] == "interviewer"]
                            shown = " ".join(m["text"] for m in fake.messages(fake.dm_channel_of(user), thread))
                            return len(said) >= number and said[number - 1][:20] in shown

                        async def asked_or_retried(asked: object = asked, thread: str = thread) -> bool:
                            if await asked():  # type: ignore[operator]
                                return True
                            for message in fake.messages(fake.dm_channel_of(user), thread):
                                if not message["bot"] or message["ts"] in clicked:
                                    continue
                                if AGREE in action_ids(message):  # the consent text: the respondent agrees
                                    clicked.add(message["ts"])
                                    await fake.click(user, message["channel"], message["ts"], AGREE)
                                elif RETRY in action_ids(message):  # a reply failed: the respondent clicks Retry
                                    clicked.add(message["ts"])
                                    retried[user] = retried.get(user, 0) + 1
                                    await fake.click(user, message["channel"], message["ts"], RETRY)
                            return False

                        def look(thread: str = thread) -> object:
                            channel = fake.dm_channel_of(user)
                            shown = [(m["ts"], m["text"]) for m in fake.messages(channel, thread)]
                            return shown, fake.thread_status(channel, thread)

                        try:
                            await wait_patiently(asked_or_retried, look, f"question {number + 1} for {user}")
                            break
                        except AssertionError:
                            repeats[user] = repeats.get(user, 0) + 1
                            stalls.append(thread_seen(fake, emulator, user))

            async def leader_pid() -> int | None:
                row = await admin.fetchrow(
                    "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                    "WHERE l.locktype = 'advisory' AND l.classid = $1 AND l.granted",
                    LockSpace.LEADER & 0xFFFFFFFF,
                )
                return None if row is None else int(str(row[0]).rsplit("-", 1)[-1])

            async def someone_leads() -> bool:
                return await leader_pid() is not None

            await wait_for(someone_leads, 30, "a leader")
            crowd = [asyncio.create_task(respondent(user)) for user in users]

            doomed = await leader_pid()
            assert doomed is not None

            async def leader_mid_turn() -> bool:  # the moment to die: the leader runs turns right now
                owned = "SELECT count(*) FROM turns WHERE owner = $1"
                return int(await admin.fetchval(owned, f"instance-{doomed}")) >= 2

            await wait_for(leader_mid_turn, 120, "the leader to run turns")
            connected = {c.number for c in fake.socket.connections}
            processes[doomed].send_signal(signal.SIGKILL)
            await processes[doomed].wait()
            killed_at, killed_wall = time.monotonic(), datetime.now(UTC)

            async def its_connection_closed() -> bool:
                return transport == "http" or len(fake.socket.connections) == len(connected) - 1

            await wait_for(its_connection_closed, 10, "the killed instance's connection to close")
            [gone] = connected - {c.number for c in fake.socket.connections} if transport == "socket" else [0]

            async def new_leader() -> bool:
                found = await leader_pid()
                return found is not None and found != doomed

            await wait_for(new_leader, 10, "another instance to lead the sweeps")
            took_over = time.monotonic() - killed_at
            done, _ = await asyncio.wait(crowd, timeout=max(1.0, STALLED - (time.monotonic() - started)))
            if len(done) < len(crowd):
                for task in crowd:
                    task.cancel()
                seen = [f"{thread_seen(fake, emulator, u)}\n{await stuck(admin, u, tmp_path)}" for u in waiting]
                raise AssertionError(f"{len(waiting)} respondents still waiting:\n" + "\n".join(seen))
            for task in done:
                task.result()

            async def all_ended() -> bool:
                records = [interview_of(emulator, user) for user in users]
                return all(r is not None and r.status == "completed" for r in records)

            await wait_for(all_ended, 120, "every interview to end")
    finally:
        await admin.close()
        for process in processes:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                await asyncio.wait_for(process.wait(), 30)
            except TimeoutError:
                process.kill()
                await process.wait()

    orphans = 0
    for user in users:
        *earlier, record = interviews_of(emulator, user)
        said = [e["content"] for r in (*earlier, record) for e in r.transcript if e["role"] == "respondent"]
        # none lost, none doubled, in order, in one interview
        assert said == list(ANSWERS), (
            f"{user}: {said} (repeated {repeats.get(user, 0)})\n{thread_seen(fake, emulator, user)}"
        )
        assert record.status == "completed"
        for orphan in earlier:  # a start the killed instance had sent: nothing else ever reached it
            assert orphan.created_at <= killed_wall and len(orphan.transcript) == 1, thread_seen(fake, emulator, user)
        orphans += len(earlier)
    assert emulator.window.rejected == 0
    assert [r for r in emulator.requests if r.status == 429] == []
    again = [r for r in emulator.requests if r.path.endswith("/complete") and r.status == 409]  # complete sent twice
    # an instance acknowledges a DM once stored (1.5 s at most): one killed between an acknowledgement that came
    # first and the store loses that event (Slack never resends an acknowledged one); only such events make a
    # respondent repeat themselves
    if transport == "socket":
        mine = next(c for c in fake.socket.history if c.number == gone)
        last_moments = sum(1 for _, at in mine.acked if at > killed_at - 3.0)
        took = [len(c.sent) for c in fake.socket.history[:3]]
    else:
        last_moments = sum(1 for n, at in balancer.log if n == doomed and at > killed_at - 3.0)
        took = balancer.sent
    assert sum(repeats.values()) <= last_moments, "\n".join([f"{repeats} > {last_moments}", *stalls])
    assert took_over < 10
    assert all(took), took  # every instance took events
    assert emulator.window.max_in_window >= RATE_LIMIT * 0.9, "the API's limit never bound: the test shows nothing"
    logs = "".join((tmp_path / f"instance-{n}.log").read_text(errors="replace") for n in range(3))
    assert "Traceback" not in logs, logs[-3000:]
    taken = logs.count("taking over the turn in flight")
    assert taken >= 2  # the killed instance's turns were resumed by another (and each answer still sent once)
    print(
        f"{transport}: {RESPONDENTS} respondents in {time.monotonic() - started:.0f} s; events per instance {took}; "
        f"new sweeper after {took_over:.1f} s; turns taken over {taken}; API requests in the busiest minute "
        f"{emulator.window.max_in_window}/{RATE_LIMIT}; Retry clicks {sum(retried.values())}; respondents who "
        f"repeated a message {len(repeats)} (events acknowledged by the killed instance in its last 3 s: "
        f"{last_moments}); orphan interviews {orphans}; API requests {len(emulator.requests)}, completes sent again "
        f"{len(again)}"
    )
