"""One API client and one fair request budget per API key, whatever the number of studies on it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.app import open_clients, study_book
from bot.config import Settings
from bot.emulator import Emulator
from bot.studies_file import parse_studies

from .conftest import TWO_STUDIES


def _book(url: str) -> str:
    return f"""\
studies:
  - id: one
    name: One
    api: {{url: "{url}", key_env: TEST_KEY_A, project: results-test}}
  - id: two
    name: Two
    api: {{url: "{url}", key_env: TEST_KEY_A}}
  - id: three
    name: Three
    api: {{url: "{url}", key_env: TEST_KEY_B}}
"""


async def test_studies_on_one_key_share_one_client_and_budget(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    emulator.add_api_key("key-b")
    monkeypatch.setenv("TEST_KEY_A", emulator.api_key)
    monkeypatch.setenv("TEST_KEY_B", "key-b")
    book = parse_studies(_book(emulator.base_url))
    async with open_clients(Settings(_env_file=None), book) as (default, clients):  # type: ignore[call-arg]
        assert clients["one"] is clients["two"] is default
        assert clients["three"] is not clients["one"]
        assert clients["one"].budget is clients["two"].budget
        assert clients["three"].budget is not clients["one"].budget
        started = await clients["one"].start(study="results-test")
        assert started.interview_id


async def test_a_missing_key_variable_is_named(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TEST_KEY_A", raising=False)
    with pytest.raises(ValueError, match="TEST_KEY_A is not set"):
        async with open_clients(Settings(_env_file=None), parse_studies(_book(emulator.base_url))):  # type: ignore[call-arg]
            pass


def test_without_a_studies_file_the_settings_make_one_default_study() -> None:
    book = study_book(Settings(_env_file=None, koji_study="proj_9"))  # type: ignore[call-arg]
    [study] = book.studies
    assert study.id == "default" and study.project == "proj_9" and study.api is None
    assert not study.once_per_respondent, "as before studies: a member may take it again"


def test_with_a_studies_file_the_book_comes_from_it(tmp_path: Path) -> None:
    path = tmp_path / "studies.yaml"
    path.write_text(TWO_STUDIES)
    book = study_book(Settings(_env_file=None, studies_file=str(path)))  # type: ignore[call-arg]
    assert [s.id for s in book.studies] == ["onboarding", "pulse", "archive"]


def test_chat_with_a_bad_studies_file_says_where(tmp_path: Path) -> None:
    path = tmp_path / "studies.yaml"
    path.write_text(TWO_STUDIES.replace("min_responses: 3", "min_responses: lots"))
    done = subprocess.run(
        [sys.executable, "-m", "bot", "chat"],
        input="",
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "STUDIES_FILE": str(path), "DATABASE_PATH": str(tmp_path / "x.db")},
        cwd=tmp_path,
    )
    assert done.returncode == 2
    assert f"{path}: line 10: studies[1].min_responses: Input should be a valid integer" in done.stderr
    assert "Traceback" not in done.stderr
