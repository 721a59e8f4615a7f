"""The terminal's consent text and erasure, through the real terminal chat (the demo over a pipe): the study is
named after the built-in server's brief, the text names only what works here (typed words, no slash commands),
and "delete my data" then "yes" erases and ends the chat."""

from __future__ import annotations

from pathlib import Path

from tests.terminal.test_terminal_pipe import _demo

TITLE = "Joining Pixel Forge — the new-member experience"  # the sample brief's study title


def test_the_demo_consent_names_the_study_and_only_what_the_terminal_can_do(tmp_path: Path) -> None:
    result = _demo(["I agree"], tmp_path)
    assert result.returncode == 0, result.stderr
    consent = result.stdout.split("You:", 1)[0]
    assert f"Before we start “{TITLE}”:" in consent, consent
    assert "“Interview”" not in consent
    assert "/interview" not in consent and "my-data" not in consent, "the terminal has no slash commands"
    assert "account id" not in consent, "the terminal sends a pseudonym of the login, not an account id"
    assert "Stop at any time by typing “exit”. Typing “delete my data” erases what this bot stores" in consent
    assert "(type “I agree” to begin; type “No thanks” to decline)" in consent


def test_typing_delete_my_data_then_yes_erases_and_ends_the_chat(tmp_path: Path) -> None:
    lines = ["I agree", "I joined on a quiet evening", "delete my data", "yes", "and one more thing"]
    result = _demo(lines, tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    asked = out.split("You: delete my data\n", 1)[1]
    assert asked.lstrip().startswith("— Erase everything this bot stores about you"), asked
    assert "(type “yes” to erase; type “no” to keep it)" in asked
    done = out.split("You: yes\n", 1)[1]
    assert done.lstrip().startswith("— Done: this bot erased everything it stored about you — 1 interview"), done
    assert "keeps its own copy" in done
    assert "and one more thing" not in done and "Before we start" not in done, "the chat ends with the erasure"
    assert "What the interview service made of it" not in done
