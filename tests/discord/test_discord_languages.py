"""Every text the bot sends a Discord member comes from the catalogue, in the member's language.

A member whose Discord client speaks the pseudo-locale (every translation marked ``⟦…⟧``) goes through a whole
interview: slash command start, a rejected message, every question type, someone else's and a stale click,
exit then cancel, the natural end, ``/interview status`` and a message after the end. Every text in every
request the bot made to the fake Discord (messages and their edits, buttons, selects, modals, ephemeral
answers) must be marked or the interviewer's own words (which come from the interview API). The same flow in
German shows no English sentence of the bot at all.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import yaml
from discord_helpers import BRIEF, Stack, custom_ids, discord_stack, first_id
from test_discord_studies import STUDIES

from adapters.discord import ids
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

PIA, PIO = "1101", "1102"  # two members whose clients speak the language under test


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    async with discord_stack(tmp_path) as built:
        yield built


async def _new_message(stack: Stack, user: str, count: int) -> None:
    await stack.fake.wait_for(lambda: len(stack.dm(user)) > count, timeout=10.0)


async def whole_interview(stack: Stack, user: str, other: str, locale: str) -> None:
    """One member's interview through every path that makes the bot talk (waits on ids, never on words)."""
    start = [{"type": 1, "name": "start", "options": []}]
    started = await stack.fake.slash_command(user, "interview", start, locale=locale)
    await stack.agree(user)  # the consent text, in the member's language
    await stack.said(user, "What brought you to the server?")
    await stack.reply_done(user)
    await stack.fake.wait_for(lambda: bool(started.followups), timeout=10.0)

    count = len(stack.dm(user))
    await stack.fake.user_sends_dm(user, "", attachments=1)  # refused: a photo only
    await _new_message(stack, user, count)
    await stack.fake.user_sends_dm(user, "My friends are here")

    yes_no = await stack.question(user, "yn")
    yes = first_id(yes_no, "ib:a:", ":y")
    await stack.click(user, yes_no, yes)
    await stack.click(user, yes_no, yes, force=True)  # a double click: stale

    scale = await stack.question(user, "nps")
    await stack.click(other, scale, first_id(scale, "ib:a:", ":3"), force=True)  # someone else's click
    await stack.click(user, scale, first_id(scale, "ib:a:", ":7"))

    choice = await stack.question(user, "src")
    opened = await stack.click(user, choice, first_id(choice, "ib:o:"))
    assert opened.modal is not None
    submitted = await stack.fake.submit_modal(user, opened, opened.modal["custom_id"], {"other": "A podcast"})
    await submitted.wait_responded(5.0)

    long_choice = await stack.question(user, "pick")
    await stack.click(user, long_choice, first_id(long_choice, "ib:s:", ":1"), values=["27"])

    multi = await stack.question(user, "many")
    opened = await stack.click(user, multi, first_id(multi, "ib:mo:"))
    assert opened.modal is not None
    submitted = await stack.fake.submit_modal(user, opened, opened.modal["custom_id"], {"choices": ["0", "2"]})
    await submitted.wait_responded(5.0)

    ranking = await stack.question(user, "rank")
    tapped = await stack.click(user, ranking, first_id(ranking, "ib:r:", ":2"))
    tapped = await stack.click(
        user, tapped.original_message() or {}, first_id(tapped.original_message() or {}, "ib:r:", ":0")
    )
    ranked = tapped.original_message() or {}
    await stack.click(user, ranked, first_id(ranked, "ib:rs:"))

    await stack.said(user, "Anything else?")
    await stack.reply_done(user)
    await stack.fake.user_sends_dm(user, "exit")
    await stack.fake.wait_for(lambda: ids.action_id("cancel_exit") in custom_ids(stack.dm(user)[-1]), timeout=10.0)
    count = len(stack.dm(user))
    await stack.click(user, stack.dm(user)[-1], ids.action_id("cancel_exit"))
    await _new_message(stack, user, count)  # "let's carry on"

    await stack.fake.user_sends_dm(user, "No, that's all")
    await stack.fake.wait_for(lambda: ids.action_id("new_interview") in custom_ids(stack.dm(user)[-1]), timeout=10.0)
    record = await stack.core.status(stack.key(user))
    assert record is not None and record.status is RecordStatus.COMPLETED and record.locale == locale

    status = await stack.fake.slash_command(
        user, "interview", [{"type": 1, "name": "status", "options": []}], locale=locale
    )
    await stack.fake.wait_for(lambda: bool(status.followups), timeout=10.0)
    count = len(stack.dm(user))
    await stack.fake.user_sends_dm(user, "hello again")  # after the end: a new interview is offered
    await _new_message(stack, user, count)


def sent_texts(stack: Stack) -> list[str]:
    """Every text in every request the bot made to one member (the commands are synced once for every language:
    see the German test)."""
    return [
        text
        for request in stack.fake.requests
        if request.json is not None and "/commands" not in request.path
        for text in shown_texts(request.json)
    ]


async def interviewer_texts(stack: Stack, user: str) -> set[str]:
    """What the interview API said in the member's interviews, and its questions."""
    said = brief_texts(yaml.safe_load(BRIEF))
    for record in await stack.store.interviews_of_user("discord", user):
        details = await stack.api.get(record.interview_id)
        said.update(entry.content for entry in details.transcript if entry.role != "respondent")
    return said


async def test_every_text_a_member_sees_comes_from_the_catalogue(stack: Stack) -> None:
    locale = install_pseudo_locale()
    stack.fake.add_user(PIA, "pia", locale=locale)
    stack.fake.add_user(PIO, "pio", locale=locale)
    await whole_interview(stack, PIA, PIO, locale)

    texts = sent_texts(stack)
    assert len(texts) > 60 and any("⟦" in text for text in texts)
    interviewer = await interviewer_texts(stack, PIA)
    bypassing = {line for text in texts for line in unmarked_lines(text, interviewer)}
    assert bypassing == set(), f"texts that bypass the catalogue: {sorted(bypassing)}"
    stack.fake.assert_no_spec_errors()


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
            continue  # the same in both languages, or too short to tell (a number, "No", "Yes")
        parts = re.split(r"\{\w*\}", english)
        patterns.append(re.compile(r"(?<!\w)" + r".+?".join(re.escape(p) for p in parts) + r"(?!\w)"))
    return patterns


async def test_a_german_member_sees_every_sentence_of_the_bot_in_german(stack: Stack) -> None:
    stack.fake.add_user(PIA, "pia", locale="de")
    stack.fake.add_user(PIO, "pio", locale="de")
    await whole_interview(stack, PIA, PIO, "de")

    texts = sent_texts(stack)
    interviewer = await interviewer_texts(stack, PIA)
    english = english_sentences()
    leaks = {
        pattern.pattern
        for text in texts
        for line in without_interviewer(text, interviewer)
        for pattern in english
        if pattern.search(line)
    }
    assert leaks == set(), f"English sentences shown to a German member: {sorted(leaks)}"
    shown = "\n".join(texts)
    for german in ("Interview beenden", "Das war das Interview", "Neues Interview starten", "Absenden"):
        assert german in shown, german
    assert "Prima — machen wir weiter." in shown and "Dein Interview hat unten begonnen." in shown
    assert "✓ Ja" in shown and "✓ Andere: A podcast" in shown

    synced = [r.json for r in stack.fake.requests if r.method == "PUT" and r.path.endswith("/commands")]
    commands = {command["name"]: command for command in synced[-1]}
    interview = commands["interview"]
    assert interview["description_localizations"]["de"] == "Nimm in deinen DMs an einem Interview teil."
    start = next(option for option in interview["options"] if option["name"] == "start")
    assert start["description_localizations"]["de"] == "Starte ein Interview in deinen DMs."
    assert start["options"][0]["description_localizations"]["de"].startswith("An welcher Studie")
    assert not interview.get("name_localizations")  # members type the English names
    stack.fake.assert_no_spec_errors()


async def test_an_interview_started_by_a_dm_uses_the_language_of_the_members_last_interaction(stack: Stack) -> None:
    stack.fake.add_user(PIA, "pia", locale="de")
    status = await stack.fake.slash_command(
        PIA, "interview", [{"type": 1, "name": "status", "options": []}], locale="de"
    )
    await stack.fake.wait_for(lambda: bool(status.followups), timeout=10.0)
    assert "Du hast noch kein Interview" in status.all_texts()[-1]

    await stack.shut_down()  # remembered across a restart
    await stack.boot()
    await stack.fake.user_sends_dm(PIA, "hi")  # a DM carries no locale
    consent = await stack.consent(PIA)
    assert "Bevor wir" in consent["content"], "the consent text in the member's language"
    await stack.agree(PIA)
    await stack.reply_done(PIA)
    record = await stack.core.status(stack.key(PIA))
    assert record is not None and record.locale == "de"
    count = len(stack.dm(PIA))
    await stack.fake.user_sends_dm(PIA, "", attachments=1)
    await _new_message(stack, PIA, count)
    assert "Ich kann keine Dateien oder Bilder" in stack.dm(PIA)[-1]["content"]


async def test_choosing_a_study_and_its_refusals_come_from_the_catalogue(tmp_path: Path) -> None:
    locale = install_pseudo_locale()
    async with discord_stack(tmp_path, studies=parse_studies(STUDIES)) as stack:
        stack.fake.add_user(PIA, "pia", locale=locale)
        start = [{"type": 1, "name": "start", "options": [{"type": 3, "name": "study", "value": "archive"}]}]
        closed = await stack.fake.slash_command(PIA, "interview", start, locale=locale)  # refused: closed
        await stack.fake.wait_for(lambda: bool(closed.followups), timeout=10.0)
        await stack.fake.user_sends_dm(PIA, "hi")  # several studies open: a select, in the member's language
        await stack.fake.wait_for(lambda: any(m.get("components") for m in stack.dm(PIA)), timeout=10.0)
        [choice] = [m for m in stack.dm(PIA) if m.get("components")]
        [select] = [c for row in choice["components"] for c in row["components"]]
        picked = await stack.click(PIA, choice, select["custom_id"], values=["onboarding"])
        await stack.agree(PIA)  # the study's consent text, in the member's language
        await stack.said(PIA, "What brought you to the server?")
        await stack.reply_done(PIA)
        await stack.fake.wait_for(lambda: bool(picked.followups), timeout=10.0)

        studies = yaml.safe_load(STUDIES)["studies"]  # the study owners' words (ids, names, consent): not the bot's
        owners = {str(s[k]) for s in studies for k in ("id", "name", "consent") if s.get(k)}
        interviewer = await interviewer_texts(stack, PIA) | owners
        bypassing = {line for text in sent_texts(stack) for line in unmarked_lines(text, interviewer)}
        assert bypassing == set(), f"texts that bypass the catalogue: {sorted(bypassing)}"
        stack.fake.assert_no_spec_errors()
