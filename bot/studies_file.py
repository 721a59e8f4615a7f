"""The studies file (``STUDIES_FILE``): YAML validated with pydantic; a mistake is reported with its field and line.

The file's names are kept as documented in the README (``admins``, ``studies``, ``id``, ``name``, ``api``,
``anonymous``, ``min_responses``, ``results``, ``closes_at``, ``once_per_respondent``, ``consent``, ``who``,
``description``, ``minutes``).
:func:`load_studies` returns the core's :class:`~bot.core.studies.StudyBook`.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator

from bot.core.studies import Admins, Audience, ResultsDestination, Study, StudyApi, StudyBook

__all__ = ["StudiesFileError", "load_studies", "parse_studies"]

_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class StudiesFileError(ValueError):
    """The studies file cannot be used; the message names the file, the field and the line."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _id_text(value: object) -> object:
    """Platform ids are strings; YAML reads an unquoted id as a number."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


PlatformId = Annotated[str, BeforeValidator(_id_text)]


class AdminsModel(_Strict):
    slack_users: list[PlatformId] = Field(default_factory=list)
    slack_usergroups: list[PlatformId] = Field(default_factory=list)
    discord_roles: list[PlatformId] = Field(default_factory=list)


class ApiModel(_Strict):
    url: str = Field(min_length=1)
    key_env: str
    project: str | None = None

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value

    @field_validator("key_env")
    @classmethod
    def _env(cls, value: str) -> str:
        if not _ENV_NAME.match(value):
            raise ValueError("must be the name of an environment variable (letters, digits, _), not the key itself")
        return value


class ResultsModel(_Strict):
    slack_channel: PlatformId | None = None
    discord_channel: PlatformId | None = None


class WhoModel(_Strict):
    discord_guilds: list[PlatformId] = Field(default_factory=list)
    discord_roles: list[PlatformId] = Field(default_factory=list)
    slack_workspaces: list[PlatformId] = Field(default_factory=list)
    slack_usergroups: list[PlatformId] = Field(default_factory=list)


class StudyModel(_Strict):
    id: str
    name: str = Field(min_length=1)
    api: ApiModel | None = None
    anonymous: bool = False
    min_responses: int = Field(5, ge=1)
    results: ResultsModel = Field(default_factory=ResultsModel)
    closes_at: datetime | None = None
    once_per_respondent: bool = True
    consent: str | None = None
    who: WhoModel = Field(default_factory=WhoModel)
    locale: str | None = None
    description: str | None = Field(None, max_length=1000)
    minutes: int | None = Field(None, ge=1, le=240)

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError("must be 1-40 lowercase letters, digits, - or _ (it is typed in commands)")
        return value

    @field_validator("closes_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)  # a time without a zone is read as UTC
        return value

    def to_study(self) -> Study:
        api = self.api
        return Study(
            id=self.id,
            name=self.name,
            api=StudyApi(api.url, api.key_env) if api is not None else None,
            project=api.project if api is not None else None,
            anonymous=self.anonymous,
            min_responses=self.min_responses,
            results=ResultsDestination(self.results.slack_channel, self.results.discord_channel),
            closes_at=self.closes_at.timestamp() if self.closes_at is not None else None,
            once_per_respondent=self.once_per_respondent,
            consent=self.consent.strip() if self.consent else None,
            audience=Audience(
                tuple(self.who.discord_guilds),
                tuple(self.who.discord_roles),
                tuple(self.who.slack_workspaces),
                tuple(self.who.slack_usergroups),
            ),
            locale=self.locale,
            description=" ".join(self.description.split()) if self.description else None,
            minutes=self.minutes,
        )


class StudiesFileModel(_Strict):
    admins: AdminsModel = Field(default_factory=AdminsModel)
    studies: list[StudyModel] = Field(min_length=1)

    @field_validator("studies")
    @classmethod
    def _unique(cls, value: list[StudyModel]) -> list[StudyModel]:
        seen: set[str] = set()
        for study in value:
            if study.id in seen:
                raise ValueError(f"study id {study.id!r} is used twice")
            seen.add(study.id)
        return value


def _lines(node: yaml.Node, path: tuple[str | int, ...], found: dict[tuple[str | int, ...], int]) -> None:
    """Map each path in the document to the 1-based line where it starts."""
    found.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            child = (*path, str(key_node.value))
            found[child] = key_node.start_mark.line + 1
            _lines(value_node, child, found)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _lines(item, (*path, index), found)


def _line_of(loc: tuple[str | int, ...], lines: dict[tuple[str | int, ...], int]) -> int:
    for cut in range(len(loc), -1, -1):
        if loc[:cut] in lines:
            return lines[loc[:cut]]
    return 1


def _field(loc: tuple[str | int, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(the file)"


def parse_studies(text: str, source: str = "<studies>") -> StudyBook:
    """Validate a studies document; :class:`StudiesFileError` names the field and line of every problem."""
    try:
        root = yaml.compose(text)
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise StudiesFileError(f"{source}:{where} not valid YAML: {getattr(error, 'problem', error)}") from None
    if not isinstance(data, dict):
        raise StudiesFileError(f"{source}: line 1: expected a mapping with `studies:` (and optionally `admins:`)")
    lines: dict[tuple[str | int, ...], int] = {}
    if root is not None:
        _lines(root, (), lines)
    try:
        model = StudiesFileModel.model_validate(data)
    except ValidationError as error:
        problems = []
        for item in error.errors(include_url=False):
            loc = tuple(item["loc"])
            problems.append(f"{source}: line {_line_of(loc, lines)}: {_field(loc)}: {item['msg']}")
        raise StudiesFileError("\n".join(problems)) from None
    admins = model.admins
    return StudyBook(
        tuple(study.to_study() for study in model.studies),
        Admins(tuple(admins.slack_users), tuple(admins.slack_usergroups), tuple(admins.discord_roles)),
        from_file=True,
    )


def load_studies(path: str | Path) -> StudyBook:
    """Read and validate the studies file at ``path``."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as error:
        raise StudiesFileError(f"STUDIES_FILE {file}: cannot be read ({error.strerror or error})") from None
    return parse_studies(text, str(file))
