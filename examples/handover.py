"""Hand a user over from your own chatbot into a research interview, and back.

Run it with no credentials (it uses the built-in interview server)::

    .venv/bin/python examples/handover.py

Your bot implements the three methods of :class:`bot.core.Adapter` to show what the interviewer says, and hands
the user's messages to :meth:`Bridge.handle` while the interview runs. A structured question arrives with the
reply (render it as buttons); a click goes back as an :class:`Answer`, and the outcome's message is the answer
in words. Your bot learns when to take the user back from the ``on_ended`` hook, which fires once for every way
an interview ends (the interviewer's end, the user's, a timeout, the bot's own ``bridge.end(key)``, an interview
the service no longer knows, a user the platform cannot reach): from then on it stops forwarding.
Everything comes from the facade, ``bot.core``.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from bot.app import open_bridge
from bot.config import Settings
from bot.core import (
    Answer,
    Bridge,
    ConsentReply,
    ConversationKey,
    EndReason,
    Exit,
    Notice,
    PendingQuestion,
    RespondentInfo,
    Start,
    UserText,
)


class ChatReply:
    """One interviewer message in your chat UI (here: printed when complete)."""

    def __init__(self, bot: MyChatbot) -> None:
        self.bot = bot

    async def status(self, text: str) -> None:
        """E.g. "queued: 2nd in line" while the API budget is busy."""

    async def append(self, text: str) -> None:
        """A chunk of the reply; a real UI would grow the message here."""

    async def finish(self, text: str, question: PendingQuestion | None) -> None:
        """The whole reply, and a structured question to render as buttons if there is one."""
        print(f"interviewer: {text}")
        self.bot.question = question
        if question is not None and question.question.options:
            print("   [buttons]", " | ".join(question.question.options))

    async def fail(self, text_so_far: str, notice: Notice) -> None:
        """The reply broke; ``notice.actions`` says what to offer (retry, end)."""
        print(f"(!) {notice.text}")


class MyChatbot:
    """Your chatbot, as seen by the bridge: an Adapter for the platform "mybot"."""

    platform = "mybot"
    update_interval = 0.5  # how often your UI can take an update of a growing message

    def __init__(self, bridge: Bridge) -> None:
        self.bridge = bridge
        self.question: PendingQuestion | None = None
        self.in_interview: set[ConversationKey] = set()  # conversations your bot has handed over
        self.handed_back = asyncio.Event()

    async def begin_reply(self, key: ConversationKey, locale: str | None = None) -> ChatReply:
        return ChatReply(self)

    async def show_question(self, key: ConversationKey, pending: PendingQuestion) -> None:
        self.question = pending

    async def notify(self, key: ConversationKey, notice: Notice) -> None:
        print(f"[bridge] {notice.text}")

    # --- lifecycle hooks: when to route the user's messages to the bridge, and when to take them back ---

    async def interview_started(self, key: ConversationKey, interview_id: str) -> None:
        self.in_interview.add(key)

    async def interview_ended(self, key: ConversationKey, interview_id: str, reason: EndReason) -> None:
        self.in_interview.discard(key)  # the interview is over, whatever the reason: your bot takes over again
        print(f"[your bot] back with the user; interview {interview_id} ended ({reason}).")
        self.handed_back.set()

    # --- what the user does in your chat UI ---

    async def on_user_message(self, key: ConversationKey, who: RespondentInfo, text: str) -> None:
        """Every message the user sends your bot: forwarded only while the interview runs."""
        print(f"user: {text}")
        if key not in self.in_interview:
            print("[your bot] (your bot answers this one itself; nothing goes to the interview)")
            return
        await self.bridge.handle(UserText(key, text, who))
        await self.bridge.wait_until_idle(key)

    async def on_user_click(self, key: ConversationKey, user: str, choice: str) -> None:
        """A click on one of the question's buttons: a structured answer, read back in words."""
        pending = self.question
        assert pending is not None
        print(f"user: [clicks] {choice}")
        outcome = await self.bridge.handle(Answer(key, user, pending.interview_id, pending.question.id, choice))
        print(f"[your bot] recorded: {outcome.message}")  # e.g. "A friend invited me", "4 / 5"
        await self.bridge.wait_until_idle(key)


async def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(database_path=str(Path(folder) / "handover.db"), koji_api_key=None)
        async with open_bridge(settings) as bridge:
            chatbot = MyChatbot(bridge)
            bridge.register(chatbot)
            bridge.on_started(chatbot.interview_started)
            bridge.on_ended(chatbot.interview_ended)
            key = ConversationKey("mybot", "acme", "chat-42", "user-42")
            who = RespondentInfo(external_id="user-42", display_name="Sam", metadata={"plan": "pro"})

            await bridge.handle(Start(key, who))  # "Would you tell us about onboarding? Let me hand you over…"
            # the study's consent text came as a CONSENT notice with "I agree" / "No thanks": nothing is sent to the
            # interview API before the user agrees (your UI shows the two buttons; here Sam clicks "I agree")
            await bridge.handle(ConsentReply(key, agreed=True, actor="user-42"))
            await bridge.wait_until_idle(key)
            for said in (
                "The welcome channel was friendly, but there were too many channels.",
                "Mostly the channel list: I could not tell where to ask for help.",
            ):
                await chatbot.on_user_message(key, who, said)
            if chatbot.question is not None and chatbot.question.question.options:  # a structured question
                await chatbot.on_user_click(key, "user-42", chatbot.question.question.options[0])
            await chatbot.on_user_message(key, who, "Yes, he showed me around the first evening.")
            await bridge.handle(Exit(key, confirmed=True))  # the user left the research conversation
            await chatbot.handed_back.wait()
            await chatbot.on_user_message(key, who, "Thanks! Now, about my invoice…")  # your bot's again


if __name__ == "__main__":
    asyncio.run(main())
