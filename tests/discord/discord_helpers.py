"""Helpers shared by the Discord end-to-end tests (a module, not a package: ``tests/discord`` has no
``__init__.py``; test modules import it as ``from discord_helpers import ...``).

:func:`discord_stack` builds the whole world of one test: the built-in interview server, a SQLite store, the
fake Discord with three members in one guild, and a booted :class:`~adapters.discord.runner.InterviewBot`;
:class:`Stack` can restart the bot in between.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from fake_discord import FakeDiscord, Interaction, point_discord_py_at, running_client

from adapters.discord import ids
from adapters.discord.adapter import dm_key
from adapters.discord.link import REST_LINK
from adapters.discord.runner import InterviewBot, serve_over_rest
from bot.api.client import InterviewClient
from bot.config import Settings
from bot.core.bridge import Bridge
from bot.core.clock import ManualClock
from bot.core.keys import ConversationKey
from bot.core.policy import BridgeConfig
from bot.core.studies import StudyBook
from bot.emulator import Emulator, EmulatorConfig, run_emulator
from storage.sqlite import SQLiteStore

ADA, BOB, MOD = "1001", "1002", "1003"
GUILD = "500"

BRIEF = """
study: {id: discord-e2e, title: Discord end to end}
interviewer:
  greeting: "Hi {name}! GREETING"
  closing: "That's all — thank you, {name}!"
  acknowledgements: [Thanks.]
questions:
  - {id: why, type: open_ended, text: "What brought you to the server?", max_follow_ups: 0}
  - {id: yn, type: yes_no, text: "Do you visit daily?", max_follow_ups: 0}
  - {id: nps, type: scale, text: "How likely are you to recommend us?", scale_min: 0, scale_max: 10,
     max_follow_ups: 0}
  - {id: src, type: single_choice, text: "Where did you hear of us?", options: [A friend, Reddit, YouTube],
     allow_other: true, max_follow_ups: 0}
  - {id: pick, type: single_choice, text: "Pick your favourite channel.", max_follow_ups: 0,
     options: [c00, c01, c02, c03, c04, c05, c06, c07, c08, c09, c10, c11, c12, c13, c14, c15, c16, c17, c18,
               c19, c20, c21, c22, c23, c24, c25, c26, c27, c28, c29]}
  - {id: many, type: multiple_choice, text: "Which do you use?", options: [Voice, Forums, Events, Threads],
     min_choices: 1, max_choices: 2, max_follow_ups: 0}
  - {id: rank, type: ranking, text: "Rank these for us.", options: [Speed, Price, Fun], max_follow_ups: 0}
  - {id: last, type: open_ended, text: "Anything else?", max_follow_ups: 0}
"""

CONFIG = BridgeConfig(inactivity_timeout=600.0, inactivity_nudge=120.0, sweep_interval=3600.0)


class Stack:
    """Everything of one test: the world, the bot and the core, with a restart in between if wanted."""

    def __init__(self, fake: FakeDiscord, api: InterviewClient, db_path: Path, clock: ManualClock) -> None:
        self.fake, self.api, self.db_path, self.clock = fake, api, db_path, clock
        self.store = SQLiteStore(db_path)
        self.settings = Settings(_env_file=None, discord_edit_interval=0.05)  # type: ignore[call-arg]
        self.bridge: Bridge | None = None
        self.studies: StudyBook | None = None  # None: one study from the settings
        self.bot: InterviewBot | None = None
        self.emulator: Emulator | None = None
        self._running: contextlib.AsyncExitStack | None = None

    async def boot(self) -> None:
        """Open the store, start a bridge and a bot (syncing its commands), as ``interview-bridge run`` does."""
        self.store = SQLiteStore(self.db_path)
        await self.store.open()
        self.bridge = Bridge(self.api, self.store, CONFIG, clock=self.clock, studies=self.studies)
        await self.bridge.start()
        self.bot = InterviewBot(self.bridge, self.settings, sync_commands=True, guild_ready_timeout=0.05)
        self._running = contextlib.AsyncExitStack()
        await self._running.enter_async_context(running_client(self.bot, self.fake))

    async def boot_over_rest(self) -> None:
        """Like :meth:`boot`, but as an instance with ``DISCORD_GATEWAY=false``: the bot logs in over REST only."""
        self.store = SQLiteStore(self.db_path)
        await self.store.open()
        self.bridge = Bridge(self.api, self.store, CONFIG, clock=self.clock, studies=self.studies)
        await self.bridge.start()
        self.bot = bot = InterviewBot(self.bridge, self.settings)
        self._running = contextlib.AsyncExitStack()
        await self._running.enter_async_context(bot)  # closed (the extension unloaded) when the stack is
        serving = asyncio.create_task(serve_over_rest(bot, self.fake.token), name="discord-rest-only")

        async def stop_serving() -> None:
            serving.cancel()
            await asyncio.gather(serving, return_exceptions=True)

        self._running.push_async_callback(stop_serving)
        link = self.bridge.connections.track(REST_LINK)
        await self.fake.wait_for(lambda: link.connected or serving.done(), 10.0)
        if serving.done():
            serving.result()  # raises what stopped it

    async def shut_down(self) -> None:
        """Stop the bot and the bridge (what a restart or a crash leaves is in the store)."""
        if self._running is not None:
            await self._running.aclose()
            self._running = None
        if self.bridge is not None:
            await self.bridge.stop()
            self.bridge = None
            await self.store.close()

    @property
    def router(self) -> Any:
        """The running cog's component router (its ``answer_within`` is a test knob).

        Not checked with isinstance(): closing a bot unloads the extension, which drops its modules, so each
        boot has its own classes.
        """
        assert self.bot is not None
        router = getattr(self.bot.get_cog("Interview"), "router", None)
        assert router is not None
        return router

    @property
    def core(self) -> Bridge:
        assert self.bridge is not None
        return self.bridge

    def key(self, user: str) -> ConversationKey:
        channel = self.fake.dm_channel_of(user)
        assert channel is not None
        return dm_key(channel, user)

    def dm(self, user: str) -> list[dict[str, Any]]:
        """The bot's messages in the member's DM."""
        channel = self.fake.dm_channel_of(user)
        return self.fake.bot_messages(channel) if channel else []

    async def question(self, user: str, question_id: str) -> dict[str, Any]:
        """Wait for the message carrying this question's components (it comes once the reply is complete)."""

        def find() -> dict[str, Any] | None:
            for message in reversed(self.dm(user)):
                if any(f"|{question_id}:" in c or c.endswith(f"|{question_id}") for c in custom_ids(message)):
                    return message
            return None

        await self.fake.wait_for(lambda: find() is not None, timeout=10.0)
        found = find()
        assert found is not None
        return found

    async def reply_done(self, user: str) -> None:
        """Wait until the DM's last message is a finished reply (it carries "End interview")."""
        end = ids.action_id("end")
        await self.fake.wait_for(lambda: bool(self.dm(user)) and end in custom_ids(self.dm(user)[-1]), timeout=20.0)

    async def said(self, user: str, fragment: str) -> None:
        """Wait until a finished bot message in the DM contains ``fragment``."""
        await self.fake.wait_for(lambda: any(fragment in m["content"] for m in self.dm(user)), timeout=10.0)

    async def consent(self, user: str) -> dict[str, Any]:
        """Wait for the consent text in the member's DM (the message with I agree / No thanks)."""
        agree = ids.action_id("agree")

        def find() -> dict[str, Any] | None:
            return next((m for m in reversed(self.dm(user)) if agree in custom_ids(m)), None)

        await self.fake.wait_for(lambda: find() is not None, timeout=10.0)
        found = find()
        assert found is not None
        return found

    async def agree(self, user: str) -> Interaction:
        """Click **I agree** under the consent text (the interview starts then)."""
        return await self.click(user, await self.consent(user), ids.action_id("agree"))

    async def click(self, user: str, message: dict[str, Any], custom_id: str, **kw: Any) -> Interaction:
        interaction = await self.fake.click(user, message["id"], custom_id, **kw)
        await interaction.wait_responded(5.0)
        return interaction


def custom_ids(message: dict[str, Any] | None) -> list[str]:
    """Every custom id on a message."""
    if not message:
        return []
    return [c["custom_id"] for row in message.get("components") or [] for c in row.get("components", [])]


def labels(message: dict[str, Any] | None) -> list[str]:
    """Every button label on a message."""
    if not message:
        return []
    return [c.get("label", "") for row in message.get("components") or [] for c in row.get("components", [])]


def first_id(message: dict[str, Any], prefix: str, suffix: str = "") -> str:
    """The custom id on ``message`` that starts with ``prefix`` (and ends with ``suffix``)."""
    return next(c for c in custom_ids(message) if c.startswith(prefix) and c.endswith(suffix))


@contextlib.asynccontextmanager
async def discord_stack(
    tmp_path: Path,
    *,
    brief_text: str = BRIEF,
    token_rate: float = 4000.0,
    edit_interval: float = 0.05,
    studies: StudyBook | None = None,
    **fake_options: Any,
) -> AsyncIterator[Stack]:
    """The built-in server with :data:`BRIEF`, a SQLite store, the fake Discord and a booted bot.

    Unless told otherwise, a DM allows 20 writes per second (Discord: about 5 per 5 s) so tests run fast with
    a 0.05 s edit interval; the rate-limit tests use Discord's own figures.
    """
    fake_options.setdefault("message_limit", (20, 1.0))
    brief = tmp_path / "brief.yaml"
    brief.write_text(brief_text, encoding="utf-8")
    async with (
        run_emulator(EmulatorConfig(brief=brief, token_rate=token_rate, analysis_delay=0.05)) as emulator,
        InterviewClient(emulator.base_url, emulator.api_key, backoff_base=0.01) as api,  # fast retries
        FakeDiscord(**fake_options) as fake,
    ):
        with point_discord_py_at(fake):
            fake.add_user(ADA, "ada", locale="en-GB")
            fake.add_user(BOB, "bob", dms_open=False)
            fake.add_user(MOD, "mod")
            fake.add_guild(GUILD, "Pixel Forge", [ADA, BOB, MOD])
            stack = Stack(fake, api, tmp_path / "bridge.db", ManualClock())
            stack.emulator = emulator
            stack.studies = studies
            writes, window = fake_options["message_limit"]  # the bot keeps the fake's per-DM limit
            stack.settings = Settings(  # type: ignore[call-arg]
                _env_file=None, discord_edit_interval=edit_interval, discord_dm_writes=writes, discord_dm_window=window
            )
            try:
                await stack.boot()
                yield stack
            finally:
                await stack.shut_down()


async def answered(stack: Stack, interaction: Interaction, shown: str) -> None:
    """The click was taken: its message now shows the chosen value instead of the components."""
    assert interaction.response_type == 7, interaction.response
    message = interaction.original_message()
    assert labels(message) == [f"✓ {shown}"], labels(message)
