"""PostgreSQL connection strings (DSNs), shown without their password."""

from __future__ import annotations

__all__ = ["describe_dsn"]


def describe_dsn(dsn: str) -> str:
    """``dsn`` without its password (for logs and reprs)."""
    scheme, sep, rest = dsn.partition("://")
    if not sep or "@" not in rest:
        return dsn
    credentials, _, location = rest.rpartition("@")
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}@{location}" if user else f"{scheme}://{location}"
