"""The studies file: the documented names parse; mistakes are named by field and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.studies_file import StudiesFileError, load_studies, parse_studies

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "studies.yaml"

ISSUE_EXAMPLE = """\
admins:
  slack_users: [U0ADMIN]
studies:
  - id: onboarding
    name: Joining Pixel Forge
    results:
      slack_channel: C0RESULTS
  - id: pulse
    name: Team pulse
    api: {url: https://koji.so/api/v1, key_env: KOJI_KEY_PULSE, project: proj_123}
    anonymous: true
    min_responses: 3
    results: {slack_channel: C0PULSE}
  - id: archive
    name: Last year's survey
    closes_at: "2020-01-31T00:00:00Z"
"""


def test_the_names_scripts_rely_on_parse_with_their_defaults() -> None:
    book = parse_studies(ISSUE_EXAMPLE)
    onboarding, pulse, archive = book.studies
    assert book.admins.slack_users == ("U0ADMIN",)
    assert onboarding.api is None and onboarding.results.slack_channel == "C0RESULTS"
    assert onboarding.min_responses == 5 and onboarding.once_per_respondent and not onboarding.anonymous
    assert pulse.api is not None and pulse.api.key_env == "KOJI_KEY_PULSE" and pulse.project == "proj_123"
    assert pulse.anonymous and pulse.min_responses == 3
    assert archive.closes_at == 1580428800.0
    assert book.default is onboarding and book.get("pulse") is pulse and book.get("nope") is None


def test_the_commented_example_in_examples_is_valid() -> None:
    book = load_studies(EXAMPLE)
    assert [s.id for s in book.studies] == ["onboarding", "pulse", "archive"]
    assert book.studies[0].consent and "five minutes" in book.studies[0].consent
    assert book.admins.discord_roles == ("1234567890",)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (ISSUE_EXAMPLE.replace("min_responses: 3", "min_responses: 0"), "line 12: studies[1].min_responses"),
        (ISSUE_EXAMPLE.replace("anonymous: true", "anonymus: true"), "line 11: studies[1].anonymus"),
        (ISSUE_EXAMPLE.replace("key_env: KOJI_KEY_PULSE", "key_env: sk-123 abc"), "line 10: studies[1].api.key_env"),
        (ISSUE_EXAMPLE.replace("    name: Team pulse\n", ""), "line 8: studies[1].name: Field required"),
        (ISSUE_EXAMPLE.replace('"2020-01-31T00:00:00Z"', "next tuesday"), "line 16: studies[2].closes_at"),
        (ISSUE_EXAMPLE.replace("id: archive", "id: pulse"), "line 3: studies"),
        (ISSUE_EXAMPLE.replace("id: archive", "id: Archive Study"), "line 14: studies[2].id"),
        ("studies: []\n", "line 1: studies"),
        ("studies:\n  - id: a\n    name: [unclosed\n", "not valid YAML"),
    ],
)
def test_a_mistake_names_the_field_and_the_line(text: str, expected: str) -> None:
    with pytest.raises(StudiesFileError) as caught:
        parse_studies(text, "studies.yaml")
    assert expected in str(caught.value)
    assert str(caught.value).startswith("studies.yaml:")


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StudiesFileError, match="cannot be read"):
        load_studies(tmp_path / "missing.yaml")
