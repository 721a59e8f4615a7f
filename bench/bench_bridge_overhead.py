"""What the bridge adds on real platforms (the fake Discord and the fake Slack, real discord.py / slack_bolt).

- Turn time through the bridge ÷ the same turn read straight from the API's stream: the built-in server streams
  at 40 tokens/s and every reply is 80 tokens (about 2 s). Through the bridge a turn runs from the member's
  message reaching the platform to the reply's last write landing there (Discord edits at most once a second,
  Slack streams); straight, from the request to the stream's end.
- First SSE chunk → first visible update: from the first text the API client received to the first write
  that put reply text on the platform (as the fake platform recorded it), p50 and p95.
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.api.client import InterviewClient
from bot.api.models import Respondent, StreamEvent, TextDelta
from bot.config import Settings
from bot.core.bridge import Bridge
from bot.core.policy import BridgeConfig
from bot.emulator import EmulatorConfig, run_emulator
from storage.sqlite import SQLiteStore

ROOT = Path(__file__).resolve().parents[1]
for folder in (ROOT / "tests" / "discord", ROOT / "tests" / "slack"):
    if str(folder) not in sys.path:
        sys.path.append(str(folder))

RATE = 40.0
WORDS = 80
TURNS = 8
ACK = "Thanks, that's helpful."  # 3 tokens; each question adds 77 → 80-token replies
ANSWER = "The welcome channel was busy, but people were kind."


def _brief(folder: Path) -> Path:
    filler = ("how", "did", "the", "first", "week", "feel", "for", "you", "and", "why")
    questions = []
    for n in range(TURNS + 2):
        words = [f"Q{n}:"] + [filler[i % len(filler)] for i in range(WORDS - len(ACK.split()) - 2)] + ["today?"]
        questions.append(f'  - {{id: q{n}, type: open_ended, text: "{" ".join(words)}", max_follow_ups: 0}}')
    text = "\n".join(
        [
            "study: {id: bench-overhead, title: Bridge overhead}",
            "interviewer:",
            '  greeting: "Hello {name}."',
            '  closing: "Thank you."',
            f'  acknowledgements: ["{ACK}"]',
            "questions:",
            *questions,
        ]
    )
    path = folder / "brief.yaml"
    path.write_text(text + "\n")
    return path


@dataclass
class FirstChunks:
    """When the API client received the first text of each reply (wall clock and monotonic)."""

    wall: list[float] = field(default_factory=list)
    mono: list[float] = field(default_factory=list)


class TimedClient(InterviewClient):
    """The real client; notes when the first text of each streamed reply arrived."""

    first = FirstChunks()

    async def _timed(self, events: AsyncIterator[StreamEvent]) -> AsyncIterator[StreamEvent]:
        seen = False
        async for event in events:
            if not seen and isinstance(event, TextDelta) and event.text:
                seen = True
                self.first.wall.append(time.time())
                self.first.mono.append(time.monotonic())
            yield event

    def send(self, *args: Any, **kwargs: Any) -> AsyncIterator[StreamEvent]:  # type: ignore[override]
        return self._timed(super().send(*args, **kwargs))


async def _straight(base_url: str, api_key: str) -> list[float]:
    """Turn times read straight from the stream."""
    times = []
    async with InterviewClient(base_url, api_key) as client:
        started = await client.start(Respondent(external_id="straight", display_name="Straight"))
        for _ in range(TURNS):
            t0 = time.monotonic()
            async for _event in client.send(started.interview_id, started.session_token, ANSWER):
                pass
            times.append(time.monotonic() - t0)
    return times


@contextlib.asynccontextmanager
async def _bridge(folder: Path, name: str, base_url: str, api_key: str) -> AsyncIterator[Bridge]:
    store = SQLiteStore(folder / f"{name}.db")
    await store.open()
    client = TimedClient(base_url, api_key)
    bridge = Bridge(client, store, BridgeConfig())
    await bridge.start()
    try:
        yield bridge
    finally:
        await bridge.stop()
        await client.aclose()
        await store.close()


def _has_text(payload: Any, key: str) -> bool:
    """True when the write carries reply text (not just the "…" placeholder), also as Slack stream chunks."""
    if not isinstance(payload, dict):
        return False
    chunks = payload.get("chunks") if isinstance(payload.get("chunks"), list) else []
    texts = [str(payload.get(key) or "")] + [str(c.get("text") or "") for c in chunks if isinstance(c, dict)]
    return any(text.strip("… \n") for text in texts)


async def _discord(folder: Path, base_url: str, api_key: str) -> tuple[list[float], list[float]]:
    """Turn times and first-chunk → first-visible delays on the fake Discord."""
    from fake_discord import running_client, serving

    from adapters.discord import ids
    from adapters.discord.runner import InterviewBot

    turns, visible = [], []
    async with serving() as fake, _bridge(folder, "discord", base_url, api_key) as bridge:
        fake.add_user("1001", "ada")
        settings = Settings(_env_file=None)  # type: ignore[call-arg]
        bot = InterviewBot(bridge, settings, guild_ready_timeout=0.05)
        async with running_client(bot, fake):
            await fake.user_sends_dm("1001", "hi")
            end = ids.action_id("end")

            def finished(marker: str) -> bool:
                channel = fake.dm_channel_of("1001")
                return any(
                    marker in m["content"] and any(end in str(row) for row in m.get("components") or [])
                    for m in (fake.bot_messages(channel) if channel else [])
                )

            await fake.wait_for(lambda: finished("Q0:"), timeout=30)
            channel = fake.dm_channel_of("1001")
            for n in range(1, TURNS + 1):
                await asyncio.sleep(1.1)  # the previous reply's edit interval has passed, as between real answers
                chunks_before = len(TimedClient.first.wall)
                t0 = time.time()
                await fake.user_sends_dm("1001", ANSWER)
                await fake.wait_for(lambda n=n: finished(f"Q{n}:"), timeout=30)
                writes = [r for r in fake.requests if r.at >= t0 and f"/channels/{channel}/messages" in r.path]
                writes = [r for r in writes if r.method in ("POST", "PATCH")]
                turns.append(max(r.at for r in writes) - t0)
                first_chunk = TimedClient.first.wall[chunks_before]
                shown = [r.at for r in writes if _has_text(r.json, "content") and r.at >= first_chunk]
                visible.append(min(shown) - first_chunk)
    return turns, visible


async def _slack(folder: Path, base_url: str, api_key: str) -> tuple[list[float], list[float]]:
    """Turn times and first-chunk → first-visible delays on the fake Slack (Socket Mode)."""
    from fake_slack import FakeSlack

    from adapters.slack.runner import start_slack

    turns, visible = [], []
    user = "U0ALICE01"
    text_calls = ("chat.startStream", "chat.appendStream", "chat.postMessage", "chat.update", "chat.stopStream")
    async with FakeSlack(signing_secret="bench") as fake, _bridge(folder, "slack", base_url, api_key) as bridge:
        fake.add_user(user, "alice")
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            slack_bot_token=fake.bot_token,  # type: ignore[arg-type]
            slack_app_token=fake.app_token,  # type: ignore[arg-type]
            slack_api_url=fake.api_url,
        )
        runner = await start_slack(settings, bridge, host="127.0.0.1")
        try:
            await fake.wait_for(lambda: fake.socket.connected)
            first = await fake.user_sends_dm(user, "hi")
            thread = first["ts"]

            def finished(marker: str) -> bool:
                channel = fake.dm_channel_of(user)
                return any(
                    marker in f"{m.get('text')} {m.get('blocks')} {m.get('chunks')}"
                    and m.get("streaming") != "streaming"
                    for m in fake.bot_messages(channel, thread)
                )

            await fake.wait_for(lambda: finished("Q0:"), timeout=30)
            for n in range(1, TURNS + 1):
                chunks_before = len(TimedClient.first.mono)
                t0 = time.monotonic()
                await fake.user_sends_dm(user, ANSWER, thread_ts=thread)
                await fake.wait_for(lambda n=n: finished(f"Q{n}:"), timeout=30)
                calls = [c for c in fake.calls if c.at >= t0 and c.method in text_calls and c.status == 200]
                turns.append(max(c.at for c in calls) - t0)
                first_chunk = TimedClient.first.mono[chunks_before]
                shown = [
                    c.at
                    for c in calls
                    if c.at >= first_chunk and (_has_text(c.args, "markdown_text") or _has_text(c.args, "text"))
                ]
                visible.append(min(shown) - first_chunk)
        finally:
            await runner.stop()
    return turns, visible


def _p(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


async def run() -> list[dict[str, object]]:
    """Rows for the bench table."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        config = EmulatorConfig(brief=_brief(folder), token_rate=RATE, rate_limit=1_000_000)
        async with run_emulator(config) as emu:
            straight = await _straight(emu.base_url, emu.api_key)
            discord_turns, discord_visible = await _discord(folder, emu.base_url, emu.api_key)
            slack_turns, slack_visible = await _slack(folder, emu.base_url, emu.api_key)
    base = statistics.median(straight)
    note = f"p50 of {TURNS} turns; straight from the stream {base:.2f} s ({WORDS} tokens at {RATE:g}/s)"
    rows: list[dict[str, object]] = []
    for platform, turns, visible in (
        ("Discord", discord_turns, discord_visible),
        ("Slack", slack_turns, slack_visible),
    ):
        rows += [
            {
                "metric": f"turn via bridge ÷ straight, {platform}",
                "value": statistics.median(turns) / base,
                "unit": "×",
                "note": f"{note}; via the bridge {statistics.median(turns):.2f} s",
            },
            {
                "metric": f"first SSE chunk → first visible, {platform} p50",
                "value": _p(visible, 50) * 1000,
                "unit": "ms",
                "note": "first text received by the client → first write with text recorded by the fake",
            },
            {
                "metric": f"first SSE chunk → first visible, {platform} p95",
                "value": _p(visible, 95) * 1000,
                "unit": "ms",
            },
        ]
    return rows
