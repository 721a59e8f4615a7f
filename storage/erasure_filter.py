"""The erasure log, consulted when rows are copied into a database (``interview-bridge migrate-store``).

A row about a person is left out when that person is in an erasure log and the row is older than their erasure:
data from before a forget-me (an old backup, a copy taken earlier) never comes back. Rows made after it (the
person came back and took part again, of their own accord) are kept. The logs consulted are the source's own and
any other database's (``--erasures-from``, e.g. the live database when an older backup is restored); each log's
hashes are matched with its own install secret. Rows of an interview (turns, transcript, analyses, handoffs…)
follow their interview; adapter state naming a person whose rows were all left out goes too.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.core.pseudonyms import SECRET_KEY, SECRET_SCOPE, erasure_hash, secret_of
from storage.privacy_rows import KEPT_SCOPES

__all__ = ["Copied", "ErasureFilter", "ErasureLog"]

#: Tables whose rows name a person, and the column that says when the row was made.
PERSON_TABLES = {
    "interviews": "created_at",
    "consents": "at",
    "invitations": "created_at",
    "invitation_opt_outs": "opted_out_at",
}
#: Tables whose rows belong to an interview (by ``interview_id``).
INTERVIEW_TABLES = ("turns", "queued_messages", "pending_questions", "transcript", "analyses", "handoffs")


@dataclass(frozen=True, slots=True)
class Copied:
    """What a copy did: rows copied per table; rows left out per table (people in an erasure log) and how many
    people that was; erasure-log entries of ``erasures_from`` carried into the target, and those that could not
    be (another install's secret)."""

    rows: dict[str, int]
    skipped: dict[str, int]
    people: int = 0
    carried: int = 0
    unmatched: int = 0


@dataclass(frozen=True, slots=True)
class ErasureLog:
    """One database's erasure log: its install secret (None: it never made one) and ``{hash: erased_at}``."""

    secret: bytes | None
    erased: dict[str, float]

    @classmethod
    def of(cls, state_rows: Iterable[Sequence[Any]], erasure_rows: Iterable[Sequence[Any]]) -> ErasureLog:
        """From the rows of ``adapter_state (scope, key, value)`` and ``erasures (erasure, erased_at)``."""
        secret = None
        for scope, key, value in state_rows:
            if scope == SECRET_SCOPE and key == SECRET_KEY:
                secret = secret_of(json.loads(value))
        return cls(secret, {str(erasure): float(at) for erasure, at in erasure_rows})

    def erased_at(self, platform: str, workspace: str, user: str) -> float | None:
        """When this log says the person was forgotten (None: never, or it cannot tell without a secret)."""
        if self.secret is None or not self.erased:
            return None
        return self.erased.get(erasure_hash(self.secret, platform, workspace, user))


@dataclass(slots=True)
class ErasureFilter:
    """Decides, row by row in the order of ``storage.transfer.TABLES`` (adapter state last), what is copied."""

    logs: Sequence[ErasureLog]
    #: rows left out, per table
    skipped: dict[str, int] = field(default_factory=dict)
    _interviews: set[str] = field(default_factory=set)
    _handoffs: set[str] = field(default_factory=set)
    _left_out: set[tuple[str, str, str]] = field(default_factory=set)
    _kept: set[str] = field(default_factory=set)

    @property
    def people(self) -> int:
        """How many people had rows left out."""
        return len(self._left_out)

    def keep(self, table: str, names: Sequence[str], row: Sequence[Any]) -> bool:
        """Whether ``row`` of ``table`` (columns ``names``) is copied; counts it in :attr:`skipped` if not."""
        if self._keeps(table, names, row):
            return True
        self.skipped[table] = self.skipped.get(table, 0) + 1
        return False

    def _keeps(self, table: str, names: Sequence[str], row: Sequence[Any]) -> bool:
        value = dict(zip(names, row, strict=True))
        if table in PERSON_TABLES:
            person = (str(value["platform"]), str(value["workspace"]), str(value["user_id"]))
            if self._forgotten_before(person, float(value[PERSON_TABLES[table]])):
                self._left_out.add(person)
                if table == "interviews":
                    self._interviews.add(str(value["interview_id"]))
                return False
            self._kept.add(person[2])
            return True
        if table in INTERVIEW_TABLES and value["interview_id"] in self._interviews:
            if table == "handoffs":
                self._handoffs.add(str(value["handoff_id"]))
            return False
        if table == "handoff_callbacks":
            return value["handoff_id"] not in self._handoffs
        if table == "adapter_state" and value["scope"] not in KEPT_SCOPES:
            if value["key"] in self._interviews:  # e.g. where a left-out interview's results card was posted
                return False
            gone = {user for _, _, user in self._left_out} - self._kept
            return not any(user in str(value["key"]) or user in str(value["value"]) for user in gone)
        return True

    def _forgotten_before(self, person: tuple[str, str, str], at: float) -> bool:
        for log in self.logs:
            erased = log.erased_at(*person)
            if erased is not None and at <= erased:
                return True
        return False

    def carried_over(self, source: ErasureLog) -> tuple[list[tuple[str, float]], bytes | None]:
        """The other logs' entries the target's log gains, and the secret it must adopt to match them (when the
        source never made one). Entries under another install's secret cannot be matched there: left behind."""
        secret = source.secret
        for log in self.logs:
            if secret is None and log.secret is not None and log.erased:
                secret = log.secret
        merged: dict[str, float] = {}
        for log in self.logs:
            if log is source or log.secret is None or log.secret != secret:
                continue
            for erasure, at in log.erased.items():
                if erasure not in source.erased:
                    merged[erasure] = max(at, merged.get(erasure, at))
        adopted = secret if source.secret is None and secret is not None else None
        return sorted(merged.items()), adopted

    def unmatched(self, source: ErasureLog) -> int:
        """Erasure-log entries of other databases that the target cannot carry (another install's secret)."""
        _, adopted = self.carried_over(source)
        secret = source.secret or adopted
        return sum(len(log.erased) for log in self.logs if log is not source and log.secret != secret)
