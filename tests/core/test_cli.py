"""The command line as a user runs it: the demo over a pipe, doctor, the emulator's key."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

BRIEF = Path(__file__).parent / "briefs" / "every-type.yaml"
ANSWERS = [
    "A friend told me about the game jams.",  # open-ended
    "2",  # single choice by number
    "4",  # scale
    "1,3",  # multiple choice
    "3 1 2",  # ranking
    "y",  # yes / no
]


def _run(args: list[str], stdin: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        env={**{k: v for k, v in os.environ.items() if k != "KOJI_LOCALE"}, "LANG": "C.UTF-8", **(env or {})},
    )


def test_demo_over_a_pipe_answers_every_question_type_to_the_natural_end(tmp_path: Path) -> None:
    env = {"DATABASE_PATH": str(tmp_path / "x.db"), "EMULATOR_BRIEF": str(BRIEF)}
    result = _run(["demo", "--token-rate", "5000"], "I agree\n" + "\n".join(ANSWERS) + "\n", env)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "  2. Reddit" in out and "→ type the number of your choice, or type your own answer" in out
    assert "Scale 1 = Hard … 5 = Easy" in out
    assert "That's all — thank you" in out  # the natural end, not the end of input
    assert "That's the end of the interview" in out
    summary = out.split("What the interview service made of it")[1]
    for expected in ("→ Reddit", "→ 4", "→ general, showcase", "→ Roles, Docs, Events", "→ yes"):
        assert expected in summary  # readable values, not Python's
    assert "Options:" not in out and out.count("Reddit") == 2, "the option list once, then the summary"
    assert "Traceback" not in out + result.stderr
    assert not (tmp_path / "x.db").exists(), "the demo keeps its database to itself"


def test_end_of_piped_input_completes_as_respondent_left() -> None:
    result = _run(["demo", "--token-rate", "5000"], "I agree\nI joined last week because a friend invited me\n")
    assert result.returncode == 0, result.stderr
    assert "The interview has ended. Thank you for your time" in result.stdout


def test_demo_refuses_empty_and_asks_before_exit(tmp_path: Path) -> None:
    result = _run(["demo", "--token-rate", "5000"], "I agree\n\n   \nexit\nyes\n")
    assert result.returncode == 0, result.stderr
    assert "could you type your answer" in result.stdout
    assert "Do you want to end the interview now?" in result.stdout
    assert "The interview has ended" in result.stdout


def test_doctor_says_what_is_missing(tmp_path: Path) -> None:
    clean = {"DATABASE_PATH": str(tmp_path / "bot.db"), "SLACK_BOT_TOKEN": "xoxb-1", "DISCORD_TOKEN": "nodots"}
    result = _run(["doctor"], "", clean)
    assert result.returncode == 1
    assert "built-in interview server" in result.stdout
    assert "does not look like a bot token" in result.stdout
    assert "SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET" in result.stdout
    assert "xoxb-1" not in result.stdout  # secrets never printed
    key = _run(["doctor", "--generate-key"], "").stdout.strip()
    fine = _run(["doctor"], "", {"DATABASE_PATH": str(tmp_path / "bot.db"), "TOKEN_ENCRYPTION_KEY": key})
    assert fine.returncode == 0, fine.stdout
    assert "session tokens and transcripts are encrypted at rest" in fine.stdout
    assert "each person's platform language where shipped (de, en)" in fine.stdout
    french = _run(["doctor"], "", {"DATABASE_PATH": str(tmp_path / "bot.db"), "KOJI_LOCALE": "fr-FR"})
    assert "KOJI_LOCALE=fr-FR has no text catalogue, so the bot speaks English" in french.stdout
    german = _run(["doctor"], "", {"DATABASE_PATH": str(tmp_path / "bot.db"), "KOJI_LOCALE": "de_DE"})
    assert "'de' where the platform tells no language" in german.stdout


def test_the_handover_example_runs() -> None:
    example = Path(__file__).parents[2] / "examples" / "handover.py"
    result = subprocess.run([sys.executable, str(example)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("[bridge] Before we start"), "the consent text comes first"
    assert "interviewer: Hi Sam!" in out
    assert "user: The welcome channel was friendly" in out  # the user's lines too
    assert "user: [clicks] A friend invited me" in out and "recorded: A friend invited me" in out  # a round trip
    assert "Did your friend help you get settled in" in out  # the interviewer read the structured answer
    assert "ended (respondent_left)" in out
    after = out.split("ended (respondent_left)", 1)[1]
    assert "nothing goes to the interview" in after and "interviewer:" not in after  # no forwarding after hand-back
