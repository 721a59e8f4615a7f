"""Studies: what a research team runs — who may take it, where results go, how long it is open.

Plain dataclasses: the studies file (``bot/studies_file.py``) validates the YAML at the edge and builds these.
Without a studies file the composition root makes one default study from the environment settings.
A study's run state (open, paused, closed by an admin) lives in storage, so every instance agrees on it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

__all__ = [
    "DEFAULT_STUDY",
    "Admins",
    "Audience",
    "ResultsDestination",
    "Study",
    "StudyApi",
    "StudyBook",
    "StudyState",
]

#: The id of the study made from the environment settings when no studies file is given.
DEFAULT_STUDY = "default"


class StudyState(StrEnum):
    """An admin's decision about a study (``closes_at`` closes it too, by the clock)."""

    OPEN = "open"
    PAUSED = "paused"  # no new interviews; running ones finish
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class StudyApi:
    """Where a study's interviews run: the API base and the *name* of the env variable holding the key."""

    url: str
    key_env: str


@dataclass(frozen=True, slots=True)
class Audience:
    """Who may take a study. Empty everywhere: anyone who can reach the bot.

    A platform's lists apply to that platform only: ``discord_guilds``/``discord_roles`` to Discord respondents,
    ``slack_workspaces``/``slack_usergroups`` to Slack respondents. Within a platform every non-empty list
    must be satisfied.
    """

    discord_guilds: tuple[str, ...] = ()
    discord_roles: tuple[str, ...] = ()
    slack_workspaces: tuple[str, ...] = ()
    slack_usergroups: tuple[str, ...] = ()

    def admits(self, platform: str, workspace: str, groups: frozenset[str]) -> bool:
        """Whether a respondent on ``platform`` in ``workspace`` with ``groups`` (guild/role/group ids) may take it."""
        if platform == "discord":
            return _meets(self.discord_guilds, groups | {workspace}) and _meets(self.discord_roles, groups)
        if platform == "slack":
            return _meets(self.slack_workspaces, groups | {workspace}) and _meets(self.slack_usergroups, groups)
        return True


def _meets(required: tuple[str, ...], have: frozenset[str] | set[str]) -> bool:
    return not required or any(item in have for item in required)


@dataclass(frozen=True, slots=True)
class ResultsDestination:
    """Where a study's results go: a Slack channel id and/or a Discord channel id."""

    slack_channel: str | None = None
    discord_channel: str | None = None

    def channels(self) -> list[tuple[str, str]]:
        """``(platform, channel)`` pairs, Slack first."""
        found = [("slack", self.slack_channel), ("discord", self.discord_channel)]
        return [(platform, channel) for platform, channel in found if channel]


@dataclass(frozen=True, slots=True)
class Study:
    """One study. ``api=None``: the built-in interview server runs it."""

    id: str
    name: str
    api: StudyApi | None = None
    project: str | None = None  # the project/study id sent to the interview API when starting
    anonymous: bool = False
    min_responses: int = 5
    results: ResultsDestination = field(default_factory=ResultsDestination)
    closes_at: float | None = None  # unix seconds
    once_per_respondent: bool = True
    consent: str | None = None
    audience: Audience = field(default_factory=Audience)
    locale: str | None = None
    description: str | None = None  # what the study is about, in a sentence or two (a Discord panel shows it)
    minutes: int | None = None  # about how long an interview takes

    def closed_by_clock(self, now: float) -> bool:
        """True once ``closes_at`` has passed."""
        return self.closes_at is not None and now >= self.closes_at


@dataclass(frozen=True, slots=True)
class Admins:
    """Who may run the admin commands besides Discord members with Manage Server."""

    slack_users: tuple[str, ...] = ()
    slack_usergroups: tuple[str, ...] = ()
    discord_roles: tuple[str, ...] = ()

    def admits(self, platform: str, user: str, groups: frozenset[str], *, manages_server: bool = False) -> bool:
        """Whether ``user`` (with ``groups``: role or usergroup ids) may run admin commands on ``platform``."""
        if platform == "discord":
            return manages_server or any(role in groups for role in self.discord_roles)
        if platform == "slack":
            return user in self.slack_users or any(group in groups for group in self.slack_usergroups)
        return platform == "terminal"  # whoever runs the terminal runs the bot


@dataclass(frozen=True, slots=True)
class StudyBook:
    """Every study this bot runs, in the order of the file, and its admins."""

    studies: tuple[Study, ...]
    admins: Admins = field(default_factory=Admins)
    from_file: bool = False

    def __post_init__(self) -> None:
        if not self.studies:
            raise ValueError("at least one study is needed")
        ids = [study.id for study in self.studies]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"study ids must be unique; repeated: {', '.join(duplicates)}")

    @property
    def default(self) -> Study:
        """The first study: the one a start without a study means when it is the only one open."""
        return self.studies[0]

    def get(self, study_id: str | None) -> Study | None:
        """The study with this id (None for an unknown id)."""
        return next((study for study in self.studies if study.id == study_id), None)

    def of_record(self, study_id: str | None) -> Study:
        """The study an interview record belongs to; records from before studies existed belong to the default."""
        return self.get(study_id) or self.default
