"""The terminal chat speaks the respondent's language (``LANG``): every line the bot prints itself is from the
catalogue. A piped interview in the pseudo-locale (every translation marked ``⟦…⟧``) shows only marked text, the
interviewer's words and the respondent's own; in German, the bot's words are German."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import yaml

from adapters.terminal.chat import TerminalChat
from bot.api.client import InterviewClient
from bot.core.bridge import Bridge
from bot.core.policy import BridgeConfig
from bot.emulator import EmulatorConfig, run_emulator
from storage.sqlite import SQLiteStore
from tests.pseudo_locale import brief_texts, install_pseudo_locale, unmarked_lines

BRIEF = """
study: {id: terminal-languages, title: Terminal languages}
interviewer:
  greeting: "Hello {name}! Let's begin."
  closing: "That's all — thanks, {name}!"
  acknowledgements: [Noted.]
questions:
  - {id: why, type: open_ended, text: "What do you do here?", max_follow_ups: 0}
  - {id: yn, type: yes_no, text: "Do you come daily?", max_follow_ups: 0}
  - {id: nps, type: scale, text: "How likely are you to recommend us?", scale_min: 1, scale_max: 5,
     min_label: Unlikely, max_label: Very likely, max_follow_ups: 0}
  - {id: src, type: single_choice, text: "Where did you hear of us?", options: [A friend, Reddit], allow_other: true,
     max_follow_ups: 0}
  - {id: many, type: multiple_choice, text: "Which do you use?", options: [Voice, Forums, Events], max_choices: 2,
     max_follow_ups: 0}
  - {id: rank, type: ranking, text: "Rank these.", options: [Speed, Price, Fun], max_follow_ups: 0}
  - {id: last, type: open_ended, text: "Anything else?", max_follow_ups: 0}
"""
TYPED = ["hi there", " ", "Working on games", "yes", "9", "4", "2", "1,3", "3 1 2", "exit", "no", "Nothing more"]


async def chat(tmp_path: Path, lang: str) -> tuple[str, set[str]]:
    """A piped terminal interview with ``LANG=lang``; what was printed and what the interviewer said."""
    brief = tmp_path / "brief.yaml"
    brief.write_text(BRIEF, encoding="utf-8")
    async with (
        run_emulator(EmulatorConfig(brief=brief, token_rate=4000.0, analysis_delay=0.05)) as emulator,
        InterviewClient(emulator.base_url, emulator.api_key) as api,
    ):
        store = SQLiteStore(tmp_path / "bridge.db")
        await store.open()
        bridge = Bridge(api, store, BridgeConfig(inactivity_timeout=600.0, sweep_interval=3600.0))
        await bridge.start()
        try:
            stdout = io.StringIO()
            with pytest.MonkeyPatch.context() as patch:
                patch.setenv("LANG", lang)
                terminal = TerminalChat(bridge, io.StringIO("\n".join(TYPED) + "\n"), stdout, user="pia")
            assert await terminal.run() == 0
            said = brief_texts(yaml.safe_load(BRIEF))
            for record in await store.interviews_of_user("terminal", "pia"):
                details = await api.get(record.interview_id)
                said.update(entry.content for entry in details.transcript if entry.role != "respondent")
        finally:
            await bridge.stop()
            await store.close()
    return stdout.getvalue(), said


async def test_every_line_the_terminal_prints_comes_from_the_catalogue(tmp_path: Path) -> None:
    install_pseudo_locale()
    printed, interviewer = await chat(tmp_path, "qps_PLOC.UTF-8")
    assert printed.count("⟦") > 10
    bypassing = unmarked_lines(printed, {*interviewer, *TYPED})
    assert bypassing == [], f"lines that bypass the catalogue: {bypassing}"


async def test_a_german_terminal_speaks_german(tmp_path: Path) -> None:
    printed, _ = await chat(tmp_path, "de_DE.UTF-8")
    for german in ("Interviewer:", "Du: yes", "tippe „ja“ oder „nein“", "Möchtest du das Interview jetzt beenden?"):
        assert german in printed, german
    assert "Prima — machen wir weiter." in printed and "type " not in printed and "You: " not in printed
