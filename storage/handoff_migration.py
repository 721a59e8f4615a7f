"""Schema version 9, both backends: handoffs wait for the person's consent (no interview id until they agree, more
statuses, the hash of the request, an expiry). ``storage.migrations`` and ``storage.pg_migrations`` make it a
:class:`~storage.migrations.Migration`."""

from __future__ import annotations

__all__ = ["DESCRIPTION", "HANDOFF_STATUSES", "POSTGRES", "sqlite"]

DESCRIPTION = (
    "handoffs wait for the person's consent: no interview id until they agree, more statuses, the request's hash"
)

#: The statuses a handoff can be in (the HTTP API's enum): waiting for the person's consent, starting, running,
#: ended, analysed; or refused, timed out, withdrawn before the person answered.
HANDOFF_STATUSES = (
    "'consent_pending', 'starting', 'accepted', 'completed', 'analysed', 'declined', 'expired', 'cancelled'"
)


def sqlite(callbacks_table: str) -> tuple[str, ...]:
    """The SQLite statements; ``callbacks_table`` is version 6's ``CREATE TABLE handoff_callbacks`` (built anew as
    it was, pointing at the new handoffs table)."""
    callbacks_next = callbacks_table.replace("TABLE handoff_callbacks", "TABLE handoff_callbacks_next").replace(
        "REFERENCES handoffs (", "REFERENCES handoffs_next ("
    )
    if "handoffs_next" not in callbacks_next:
        raise ValueError("version 6's handoff_callbacks table no longer refers to handoffs")
    return (
        # SQLite cannot change a column or a CHECK in place: both tables are built anew and renamed (the callbacks
        # refer to the new handoffs table, so no foreign key is broken at any point)
        f"""
        CREATE TABLE handoffs_next (
            handoff_id TEXT PRIMARY KEY,
            idempotency_key TEXT UNIQUE,
            conversation TEXT NOT NULL,
            study TEXT NOT NULL,
            interview_id TEXT,
            context TEXT NOT NULL,
            callback_url TEXT,
            status TEXT NOT NULL CHECK (status IN ({HANDOFF_STATUSES})),
            end_reason TEXT,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL,
            request_hash TEXT,
            expires_at REAL
        )
        """,
        "INSERT INTO handoffs_next SELECT *, NULL, NULL FROM handoffs",
        callbacks_next,
        "INSERT INTO handoff_callbacks_next SELECT * FROM handoff_callbacks",
        "DROP TABLE handoff_callbacks",
        "DROP TABLE handoffs",
        "ALTER TABLE handoffs_next RENAME TO handoffs",
        "ALTER TABLE handoff_callbacks_next RENAME TO handoff_callbacks",
        "CREATE INDEX handoffs_open ON handoffs (created_at) WHERE status <> 'analysed'",
        "CREATE INDEX handoffs_by_interview ON handoffs (interview_id)",
        "CREATE INDEX handoffs_waiting ON handoffs (expires_at) WHERE status IN ('consent_pending', 'starting')",
        "CREATE INDEX handoff_callbacks_due ON handoff_callbacks (next_attempt_at) WHERE done_at IS NULL",
    )


POSTGRES: tuple[str, ...] = (
    "ALTER TABLE handoffs ALTER COLUMN interview_id DROP NOT NULL",
    "ALTER TABLE handoffs DROP CONSTRAINT handoffs_status_check",
    f"ALTER TABLE handoffs ADD CONSTRAINT handoffs_status_check CHECK (status IN ({HANDOFF_STATUSES}))",
    "ALTER TABLE handoffs ADD COLUMN request_hash TEXT",
    "ALTER TABLE handoffs ADD COLUMN expires_at DOUBLE PRECISION",
    "CREATE INDEX handoffs_waiting ON handoffs (expires_at) WHERE status IN ('consent_pending', 'starting')",
)
