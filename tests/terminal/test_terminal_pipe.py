"""The demo over a pipe with the sample brief, as the README shows it: the person changes their mind about
leaving, answers in their own words, and nothing anyone typed can drive the terminal."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from adapters.terminal.console import terminal_locale

LINES = [
    "I joined on a quiet evening \x1b[2J and looked around the server",  # an escape sequence, typed
    "exit",
    "no",  # cancels the exit: not an answer to "How did you first hear about Pixel Forge?"
    "the second one",  # → Reddit
    "Game jams and people to make games with, honestly",
    "four",  # → 4
    "The channel names mostly, they were clear enough",
    "#introductions and #help-desk",
    "Within an hour, and the answer was useful",
    "buddy, channel list, events, roles",  # a ranking by (parts of) the options' names
    "Someone who checks in during the first week",
    "yes",
    "Read the start-here channel and join a jam",
    "No, that's all",
]


def _demo(lines: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    prefixes = ("KOJI_", "DISCORD_", "SLACK_", "DATABASE_", "TOKEN_", "STUDIES_", "EMULATOR_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)} | {"XDG_STATE_HOME": str(tmp_path)}
    return subprocess.run(
        [sys.executable, "-m", "bot", "demo", "--token-rate", "5000"],
        input="\n".join(lines if lines[:1] == ["I agree"] else ["I agree", *lines]) + "\n",  # consent first
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=tmp_path,
    )


def test_the_readme_demo_over_a_pipe(tmp_path: Path) -> None:
    result = _demo(LINES, tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "\x1b" not in out and "\x07" not in out
    assert "You: I joined on a quiet evening ^[[2J and looked around the server" in out
    cancelled = out.split("You: no\n", 1)[1]
    assert cancelled.lstrip().startswith("— Great — let's carry on.")
    assert "What were you hoping to find when you clicked the invite?" in cancelled, "Reddit's follow-up"
    assert "Glad it was fairly smooth" in out  # four → 4
    assert "You put “A welcome buddy” first" in out
    assert "Options:" not in out and out.count("  2. Reddit") == 1
    summary = out.split("What the interview service made of it")[1]
    for expected in (
        "How did you first hear about Pixel Forge? → Reddit",
        "→ 4",
        "→ #introductions, #help-desk",
        "→ A welcome buddy, A clearer channel list, More beginner events, Better role selection",
        "Would you invite a friend to Pixel Forge today? → yes",
    ):
        assert expected in summary, summary
    assert result.stderr == "", "warnings and logs go to the demo's log file, never into the chat"


def test_what_the_interview_service_echoes_is_shown_never_obeyed(tmp_path: Path) -> None:
    result = _demo([LINES[0], "Other: \x1b]0;pwned\x07 a podcast \x1b[31mred"], tmp_path)
    assert result.returncode == 0, result.stderr
    echoed = result.stdout.split("Interviewer: Interesting", 1)[1]  # the follow-up quotes the "other" answer
    assert "^[]0;pwned^G a podcast ^[[31mred" in echoed
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout


@pytest.mark.parametrize(
    ("environ", "locale"),
    [
        ({"LANG": "C.UTF-8"}, None),
        ({"LANG": "POSIX"}, None),
        ({}, None),
        ({"LANG": "de_DE.UTF-8"}, "de-DE"),
        ({"LANG": "en_US.UTF-8", "LC_ALL": "fr_FR@euro"}, "fr-FR"),
        ({"LANG": "pt_BR"}, "pt-BR"),
        ({"LANG": "xx_YY.UTF-8"}, None),
    ],
)
def test_the_locale_comes_from_the_environment_never_c(environ: dict[str, str], locale: str | None) -> None:
    assert terminal_locale(environ) == locale


def test_the_readme_piped_example_fits_the_sample_brief(tmp_path: Path) -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    found = re.search(r"printf '([^']*)' \\\n\s*\| \.venv/bin/interview-bridge demo", readme)
    assert found, "the README's piped example"
    lines = found.group(1).split("\\n")[:-1]
    result = _demo(lines, tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "didn't quite catch" not in out and "couldn't" not in out, out  # every line answered what was asked
    assert "What were you hoping to find when you clicked the invite?" in out  # "the second one" → Reddit
    assert "Glad it was fairly smooth" in out  # "four" → 4
    assert "The interview has ended" in out  # exit, yes
