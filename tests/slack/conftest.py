"""Fixtures for Slack tests: `fake_slack` (a started FakeSlack) and `serve_http` (serve an aiohttp app locally).

Do not add an `__init__.py` to tests/slack: the folder would become a package named `slack`, which clashes with
slack_sdk's own `slack` package. Import the fake as `from fake_slack import FakeSlack`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack

import pytest
from aiohttp import web
from fake_slack import FakeSlack

from tests.serving import serving

SIGNING_SECRET = "fake-signing-secret-for-tests"


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    """A FakeSlack on 127.0.0.1 with signing secret `SIGNING_SECRET` and one user, U0ALICE01 ("alice")."""
    async with FakeSlack(signing_secret=SIGNING_SECRET) as fake:
        fake.add_user("U0ALICE01", "alice")
        yield fake


@pytest.fixture
async def serve_http() -> AsyncIterator[Callable[[web.Application], Awaitable[str]]]:
    """`await serve_http(web_app)` serves it on 127.0.0.1 (ephemeral port); returns "http://127.0.0.1:PORT"."""
    async with AsyncExitStack() as stack:

        async def serve(app: web.Application) -> str:
            return await stack.enter_async_context(serving(app))

        yield serve
