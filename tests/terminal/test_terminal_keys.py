"""The demo at a real terminal (a pty): Ctrl-C pauses and the next start continues; Ctrl-D asks before ending;
the name is asked, never taken from the login; a line the terminal cut says so."""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from pathlib import Path

import pytest

from .console import Console, demo_env


@pytest.fixture
def consoles() -> Iterator[list[Console]]:
    started: list[Console] = []
    yield started
    for console in started:
        console.close()


def _demo(consoles: list[Console], state: Path, *args: str) -> Console:
    console = Console(["demo", *args], demo_env(state))
    consoles.append(console)
    return console


def test_ctrl_c_at_the_prompt_pauses_and_the_next_demo_continues_with_the_question(
    consoles: list[Console], tmp_path: Path
) -> None:
    first = _demo(consoles, tmp_path, "--token-rate", "5000")
    first.expect("What should the interviewer call you?")
    first.type("Ada\r")
    assert "Before we start" in first.expect("You: "), "the consent text first"
    first.type("I agree\r")
    opening = first.expect("You: ")
    assert "Hi Ada!" in opening and f"Hi {getpass.getuser()}" not in opening
    first.type("A friend told me about the jams\r")
    first.expect("Where did you hear of us?")
    first.expect("You: ")
    first.type("\x03")  # Ctrl-C at the prompt
    paused = first.expect("interview-bridge demo")
    assert "Paused" in paused and "your interview is kept" in paused
    assert first.wait() == 130
    assert "What the interview service made of it" not in first.text()

    second = _demo(consoles, tmp_path, "--token-rate", "5000")
    resumed = second.expect("You: ")
    assert "continuing your interview where you left off" in resumed
    assert "Where did you hear of us?" in resumed and "  2. Reddit" in resumed, "the pending question again"
    assert "What should the interviewer call you?" not in resumed
    second.type("the second one\r")
    second.expect("How easy was joining?")


def test_ctrl_c_mid_reply_stops_at_once_and_the_reply_is_shown_whole_next_time(
    consoles: list[Console], tmp_path: Path
) -> None:
    slow = _demo(consoles, tmp_path, "--token-rate", "3", "--name", "Ada")
    slow.expect("You: ")
    slow.type("I agree\r")
    slow.expect("You: ")
    slow.type("A friend told me about the jams\r")
    slow.expect("Interviewer: ")  # the reply has begun streaming (three tokens a second)
    slow.type("\x03")
    slow.expect("Paused")
    assert slow.wait(timeout=10) == 130
    assert "Where did you hear of us?" not in slow.text(), "stopped mid-reply"

    again = _demo(consoles, tmp_path, "--token-rate", "5000")
    again.expect("continuing your interview where you left off")
    shown = again.expect("You: ")
    assert "Where did you hear of us?" in shown and "  1. Friend" in shown


def test_ctrl_d_asks_before_ending_and_a_second_one_confirms(consoles: list[Console], tmp_path: Path) -> None:
    demo = _demo(consoles, tmp_path, "--token-rate", "5000", "--name", "Ada")
    demo.expect("You: ")
    demo.type("I agree\r")
    demo.expect("You: ")
    demo.type("\x04")  # Ctrl-D
    asked = demo.expect("You: ")
    assert "Do you want to end the interview now?" in asked and "“no”" in asked
    demo.type("no\r")
    assert "carry on" in demo.expect("You: ")
    demo.type("\x04")
    demo.expect("Do you want to end the interview now?")
    demo.expect("You: ")
    demo.type("\x04")
    demo.expect("The interview has ended")
    assert demo.wait() == 0


def test_a_line_the_terminal_cut_says_so_and_nothing_is_sent(consoles: list[Console], tmp_path: Path) -> None:
    demo = _demo(consoles, tmp_path, "--token-rate", "5000", "--name", "Ada")
    demo.expect("You: ")
    demo.type("I agree\r")
    demo.expect("You: ")
    demo.type("x" * 5000 + "\r")  # the line discipline keeps 4095 bytes of it
    said = demo.expect("You: ")
    assert "your terminal's limit of 4095 bytes" in said and "nothing was sent" in said
    assert "Where did you hear of us?" not in said
