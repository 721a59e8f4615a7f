"""Every text the bot sends a Slack user comes from the catalogue, in the user's language (``users.info``).

A user whose Slack speaks the pseudo-locale (every translation marked ``⟦…⟧``) goes through a whole interview:
a first DM, a refused message, every question type, someone else's and a stale click, exit then cancel, the
natural end, ``/interview status`` and help, the App Home and a message after the end. Every text in every Web
API call the bot made (messages, blocks, statuses, thread titles and prompts, modals, the Home tab) and every
ephemeral answer must be marked or the interviewer's own words (from the interview API). The same flow in
German shows no English sentence of the bot at all.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
import yaml
from aiohttp import web
from fake_slack import FakeSlack
from test_slack_e2e import BRIEF, Harness, action_ids, agree, open_harness
from test_slack_studies import STUDIES

from adapters.slack.blocks import STUDY_SELECT_ACTION
from bot.core.i18n import catalogue
from bot.core.store import RecordStatus
from bot.studies_file import parse_studies
from tests.pseudo_locale import (
    brief_texts,
    extracted,
    install_pseudo_locale,
    shown_texts,
    unmarked_lines,
    without_interviewer,
)

PIA, PIO = "U0PIA0001", "U0PIO0002"  # two users whose Slack speaks the language under test


@pytest.fixture
async def harness(
    fake_slack: FakeSlack, serve_http: Callable[[web.Application], Awaitable[str]], tmp_path: Path
) -> AsyncIterator[Harness]:
    async with open_harness(fake_slack, serve_http, tmp_path) as h:
        yield h


async def _wait_action(h: Harness, user: str, action_id: str, after: int = 0) -> dict:
    """The latest bot message in the user's DM (beyond the first ``after``) whose blocks hold ``action_id``."""
    channel = h.fake.dm_channel_of(user)

    def found() -> dict | None:
        for message in reversed(h.fake.bot_messages(channel)[after:]):
            if action_id in action_ids(message):
                return message
        return None

    await h.fake.wait_for(lambda: found() is not None, timeout=10.0)
    message = found()
    assert message is not None
    return message


async def whole_interview(h: Harness, user: str, other: str) -> None:
    """One user's interview through every path that makes the bot talk (waits on ids, never on words)."""
    channel = h.fake.dm_channel_of(user)
    sent = await h.fake.user_sends_dm(user, "hi")
    thread = str(sent["ts"])
    await agree(h, user)  # the consent text, in the user's language
    await h.fake.wait_for(lambda: any("What is your role?" in m["text"] for m in h.bot_replies(user, thread)))
    await h.idle(user)

    count = len(h.fake.bot_messages(channel))
    await h.fake.user_sends_dm(user, "x" * 4001, thread_ts=thread)  # refused: too long
    await h.fake.wait_for(lambda: len(h.fake.bot_messages(channel)) > count)
    await h.fake.user_sends_dm(user, "I am a designer", thread_ts=thread)

    yes_no = await _wait_action(h, user, "ib:yes")
    await h.click(yes_no, "ib:yes", user)
    scale = await _wait_action(h, user, "ib:scale:4")
    await h.click(yes_no, "ib:yes", user)  # stale: already answered
    await h.click(scale, "ib:scale:2", other)  # someone else's click
    await h.click(scale, "ib:scale:4", user)

    team = await _wait_action(h, user, "ib:other")
    await h.click(team, "ib:other", user)
    await h.fake.wait_for(lambda: bool(h.fake.open_modals(user)))
    modal = h.fake.open_modals(user)[-1]
    await h.fake.submit_view(user, modal["id"], {"other": {"text": ""}})  # refused in the modal: empty
    await h.fake.submit_view(user, modal["id"], {"other": {"text": "Research"}})

    office = await _wait_action(h, user, "ib:radio")
    await h.click(office, "ib:radio", user, selected=["3"])
    tools = await _wait_action(h, user, "ib:multi")
    await h.click(tools, "ib:multi", user, selected=["0", "2"])
    await h.click(tools, "ib:submit", user)

    ranking = await _wait_action(h, user, "ib:rank:2")
    await h.click(ranking, "ib:rank:2", user)
    await h.fake.wait_for(
        lambda: any(
            "ib:rank:1" in action_ids(m) and "ib:rank:2" not in action_ids(m) for m in h.fake.bot_messages(channel)
        )
    )
    await h.click(await _wait_action(h, user, "ib:rank:1"), "ib:rank:1", user)
    await h.click(await _wait_action(h, user, "ib:rank_submit"), "ib:rank_submit", user)

    await h.fake.wait_for(lambda: any("Anything else?" in m["text"] for m in h.bot_replies(user, thread)))
    await h.idle(user)
    count = len(h.fake.bot_messages(channel))
    await h.fake.user_sends_dm(user, "stop", thread_ts=thread)
    confirm = await _wait_action(h, user, "ib:act:cancel_exit", count)
    count = len(h.fake.bot_messages(channel))
    await h.click(confirm, "ib:act:cancel_exit", user)
    await h.fake.wait_for(lambda: len(h.fake.bot_messages(channel)) > count)  # "let's carry on"

    count = len(h.fake.bot_messages(channel))
    await h.fake.user_sends_dm(user, "No, that's all", thread_ts=thread)
    await _wait_action(h, user, "ib:act:new_interview", count)
    await h.record_status(RecordStatus.COMPLETED, user)

    for text in ("status", "help"):
        await h.fake.slash_command(user, "/interview", text)
    await h.fake.open_app_home(user)
    await h.fake.wait_for(lambda: h.fake.home_view(user) is not None)
    count = len(h.fake.bot_messages(channel))
    await h.fake.user_sends_dm(user, "hello again")  # after the end: a new interview is offered
    await _wait_action(h, user, "ib:act:new_interview", count)


def sent_texts(h: Harness, user: str) -> list[str]:
    """Every text in every Web API call the bot made, and the ephemeral answers the user saw."""
    texts = [text for call in h.fake.calls for text in shown_texts(call.args)]
    return texts + [text for ephemeral in h.fake.ephemerals(user) for text in shown_texts(ephemeral)]


async def interviewer_texts(h: Harness, user: str) -> set[str]:
    """What the interview API said in the user's interviews, and its questions."""
    said = brief_texts(yaml.safe_load(BRIEF))
    for record in await h.store.interviews_of_user("slack", user):
        details = await h.bridge.client.get(record.interview_id)
        said.update(entry.content for entry in details.transcript if entry.role != "respondent")
    return {s for s in said if s.strip()}


async def test_every_text_a_user_sees_comes_from_the_catalogue(harness: Harness) -> None:
    h = harness
    locale = install_pseudo_locale()
    h.fake.add_user(PIA, "pia", locale=locale)
    h.fake.add_user(PIO, "pio", locale=locale)
    await whole_interview(h, PIA, PIO)
    record = await h.store.latest_interview(h.key(PIA))
    assert record is not None and record.locale == locale

    texts = sent_texts(h, PIA)
    assert len(texts) > 60 and any("⟦" in text for text in texts)
    interviewer = await interviewer_texts(h, PIA)
    bypassing = {line for text in texts for line in unmarked_lines(text, interviewer)}
    assert bypassing == set(), f"texts that bypass the catalogue: {sorted(bypassing)}"


def english_sentences() -> list[re.Pattern[str]]:
    """A pattern per English sentence of the bot that German words differently (placeholders match anything)."""
    german = catalogue("de")
    patterns = []
    for message in extracted():
        english = message.id if isinstance(message.id, str) else message.id[0]
        if not english:
            continue
        translated = german.pgettext(message.context, english) if message.context else german.gettext(english)
        if translated == english or len(re.sub(r"\{\w*\}", "", english).strip(" .:…")) < 4:
            continue
        parts = re.split(r"\{\w*\}", english)
        patterns.append(re.compile(r"(?<!\w)" + r".+?".join(re.escape(p) for p in parts) + r"(?!\w)"))
    return patterns


async def test_a_german_user_sees_every_sentence_of_the_bot_in_german(harness: Harness) -> None:
    h = harness
    h.fake.add_user(PIA, "pia", locale="de-DE")
    h.fake.add_user(PIO, "pio", locale="de-DE")
    await whole_interview(h, PIA, PIO)

    texts = sent_texts(h, PIA)
    interviewer = await interviewer_texts(h, PIA)
    english = english_sentences()
    leaks = {
        pattern.pattern
        for text in texts
        for line in without_interviewer(text, interviewer)
        for pattern in english
        if pattern.search(line)
    }
    assert leaks == set(), f"English sentences shown to a German user: {sorted(leaks)}"
    shown = "\n".join(texts)
    for german in ("nicht anonym", "Nein, weitermachen", "Du hast *Ja* gewählt", "Deine Interviews", "denkt nach…"):
        assert german in shown, german


async def test_choosing_a_study_and_its_refusals_come_from_the_catalogue(
    fake_slack: FakeSlack, serve_http: Callable[[web.Application], Awaitable[str]], tmp_path: Path
) -> None:
    locale = install_pseudo_locale()
    async with open_harness(fake_slack, serve_http, tmp_path, studies=parse_studies(STUDIES)) as h:
        h.fake.add_user(PIA, "pia", locale=locale)
        await h.fake.slash_command(PIA, "/interview", "start archive")  # refused: closed
        await h.fake.slash_command(PIA, "/interview", "start nothing-like-it")  # refused: no such study
        await h.fake.user_sends_dm(PIA, "hi")  # several studies open: a select
        choice = await _wait_action(h, PIA, STUDY_SELECT_ACTION)
        await h.click(choice, STUDY_SELECT_ACTION, PIA, selected=["pulse"])
        await agree(h, PIA)  # the study's consent text, in the user's language
        await h.record_status(RecordStatus.ACTIVE, PIA)
        await h.idle(PIA)
        record = await h.store.latest_interview(h.key(PIA))
        assert record is not None and record.study == "pulse" and record.locale == locale

        studies = yaml.safe_load(STUDIES)["studies"]  # the study owners' words (ids, names): not the bot's
        owners = {str(s[k]) for s in studies for k in ("id", "name") if s.get(k)}
        interviewer = await interviewer_texts(h, PIA) | owners
        bypassing = {line for text in sent_texts(h, PIA) for line in unmarked_lines(text, interviewer)}
        assert bypassing == set(), f"texts that bypass the catalogue: {sorted(bypassing)}"
