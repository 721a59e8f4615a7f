"""Wiring: the settings become a store, an API client (or the built-in server) and a bridge."""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import web

from bot.api.client import InterviewClient
from bot.api.keys import clean_api_key
from bot.api.transport import fingerprint
from bot.config import Settings
from bot.core.bridge import Bridge, default_studies
from bot.core.clock import Clock, SystemClock
from bot.core.coordination import Coordination
from bot.core.observe import Observer
from bot.core.policy import BridgeConfig
from bot.core.privacy import Erasure
from bot.core.recruiting import InvitationDesk
from bot.core.request_budget import RequestBudget, shared_budget
from bot.core.store import Store
from bot.core.studies import StudyApi, StudyBook
from bot.core.volunteers import Volunteers
from bot.emulator import EmulatorConfig, run_emulator
from bot.emulator.brief import load_brief
from bot.names import claim
from bot.ops.metrics import Metrics
from bot.ops.readiness import Readiness
from bot.ops.server import OpsServer
from bot.studies_file import load_studies

if TYPE_CHECKING:
    from storage.pg_budget import PostgresRequestWindow

log = logging.getLogger("bot.app")


def _secret(value: object) -> str | None:
    getter = getattr(value, "get_secret_value", None)
    return getter() if callable(getter) else None


def bridge_config(settings: Settings) -> BridgeConfig:
    """The core's part of the settings."""
    return BridgeConfig(
        inactivity_timeout=settings.inactivity_timeout,
        inactivity_nudge=settings.inactivity_nudge,
        max_message_length=settings.max_message_length,
        exit_words=settings.exit_words,
        after_completion=settings.after_completion,
        study=settings.koji_study,
        locale=settings.koji_locale,
        retention_days=settings.retention_days,
    )


def study_book(settings: Settings) -> StudyBook:
    """The studies file, or one study made from the settings (raises ValueError naming field and line)."""
    if settings.studies_file:
        return load_studies(settings.studies_file)
    book = default_studies(bridge_config(settings))
    if settings.uses_builtin_server():
        return _named_after_brief(book, settings)
    return StudyBook((dataclasses.replace(book.default, api=StudyApi(settings.koji_api_url, "KOJI_API_KEY")),))


def _named_after_brief(book: StudyBook, settings: Settings) -> StudyBook:
    """The built-in server's study is named as its brief's title (what the consent text and the admins show)."""
    if settings.koji_study:
        return book
    try:
        title = load_brief(settings.emulator_brief).study.title
    except ValueError:  # the server itself says what is wrong with the brief when it starts
        return book
    return StudyBook((dataclasses.replace(book.default, name=title),))


def study_key(settings: Settings, api: StudyApi) -> str:
    """The API key a study names by its env variable (``KOJI_API_KEY`` also from ``.env``)."""
    key = os.environ.get(api.key_env, "")
    if not key and api.key_env == "KOJI_API_KEY":
        key = _secret(settings.koji_api_key) or ""
    if not key:
        raise ValueError(f"{api.key_env} is not set: a study in STUDIES_FILE names it as the key of {api.url}")
    return key


def key_budget(api_key: str, settings: Settings) -> RequestBudget:
    """The fair request budget of one API key, shared by every conversation and client of the key in the
    process (``KOJI_RATE_LIMIT`` requests a minute); named by the key's fingerprint, never the key."""
    return shared_budget(fingerprint(clean_api_key(api_key)), settings.koji_rate_limit)


@asynccontextmanager
async def open_clients(
    settings: Settings, book: StudyBook
) -> AsyncIterator[tuple[InterviewClient, dict[str, InterviewClient]]]:
    """One API client per API key (studies on one key share it and its request budget) and the default one.

    The default client is the built-in server's when any study has no ``api`` (started for the occasion),
    else the first study's.
    """
    async with AsyncExitStack() as stack:
        by_key: dict[tuple[str, str], InterviewClient] = {}
        clients: dict[str, InterviewClient] = {}
        for study in book.studies:
            if study.api is None:
                continue
            key = study_key(settings, study.api)
            client = by_key.get((study.api.url, key))
            if client is None:
                client = by_key[(study.api.url, key)] = InterviewClient(
                    study.api.url, key, budget=key_budget(key, settings)
                )
                stack.push_async_callback(client.aclose)
            clients[study.id] = client
        if all(study.api is not None for study in book.studies):
            yield clients[book.default.id], clients
            return
        builtin = await stack.enter_async_context(open_client(settings.model_copy(update={"koji_api_key": None})))
        yield builtin, clients


def builtin_server_database(database_path: str) -> Path:
    """The built-in server's own file next to the bot's: ``interview-bridge.db`` → ``interview-bridge.emulator.db``."""
    path = Path(database_path)
    return path.with_name(f"{path.stem}.emulator{path.suffix or '.db'}")


@asynccontextmanager
async def open_client(settings: Settings) -> AsyncIterator[InterviewClient]:
    """The API client for the configured service, or for a built-in server started for the occasion."""
    async with AsyncExitStack() as stack:
        api_key = _secret(settings.koji_api_key)
        if settings.uses_builtin_server() or api_key is None:
            brief = Path(settings.emulator_brief) if settings.emulator_brief else None
            emulator = await stack.enter_async_context(
                run_emulator(
                    EmulatorConfig(
                        brief=brief,
                        token_rate=settings.emulator_token_rate,
                        rate_limit=settings.koji_rate_limit,
                        database=builtin_server_database(settings.database_path),
                    )
                )
            )
            log.info("no KOJI_API_KEY set: using the built-in interview server at %s", emulator.base_url)
            base_url, api_key = emulator.base_url, emulator.api_key
        else:
            base_url = settings.koji_api_url
        client = InterviewClient(base_url, api_key, budget=key_budget(api_key, settings), study=settings.koji_study)
        stack.push_async_callback(client.aclose)
        yield client


def store_for(settings: Settings) -> Store:
    """The store at ``DATABASE_URL`` / ``DATABASE_PATH`` (not yet opened).

    ``storage`` is a generic name: a host bot's own ``storage`` package must not silently stand in for ours, so
    the name is claimed first (one clear sentence if the host's takes it, see :mod:`bot.names`).
    """
    claim("storage")
    from storage.locations import store_at

    return store_at(settings.database_location(), encryption_key=_secret(settings.token_encryption_key))


async def open_coordination(settings: Settings, store: Store, stack: AsyncExitStack) -> Coordination | None:
    """How this instance shares ``store``'s database with others (PostgreSQL only; None: it is the only one)."""
    claim("storage")
    from storage.pg_coordination import PostgresCoordination
    from storage.postgres import PostgresStore

    if not isinstance(store, PostgresStore):
        return None
    coordination = PostgresCoordination(store.dsn, instance=settings.instance_id)
    await coordination.open()
    stack.push_async_callback(coordination.close)
    return coordination


def share_budgets(store: Store, clients: Iterable[InterviewClient]) -> None:
    """With PostgreSQL, each key's requests a minute are shared by every instance, not granted to each."""
    claim("storage")
    from storage.pg_budget import PostgresRequestWindow
    from storage.postgres import PostgresStore

    if not isinstance(store, PostgresStore):
        return
    budgets = (c.budget for c in clients if isinstance(c.budget, RequestBudget))
    for budget in {id(b): b for b in budgets}.values():
        budget.shared = PostgresRequestWindow(store.pool, budget.name, budget.limit, budget.window)


def shared_windows(bridge: Bridge) -> Callable[[str, int, float], PostgresRequestWindow] | None:
    """With PostgreSQL, the windows in which every instance on ``bridge``'s database books its calls of a limit
    they share (a Slack workspace's rate tiers, a Discord bot's global writes a second); None: this instance is
    the only one."""
    claim("storage")
    from storage.pg_budget import PostgresRequestWindow
    from storage.postgres import PostgresStore

    store = bridge.store
    if not isinstance(store, PostgresStore):
        return None
    pool = store.pool

    def window(key: str, limit: int, seconds: float) -> PostgresRequestWindow:
        return PostgresRequestWindow(pool, key, limit, seconds)

    return window


@asynccontextmanager
async def open_bridge(
    settings: Settings, *, clock: Clock | None = None, observer: Observer | None = None
) -> AsyncIterator[Bridge]:
    """A started bridge with its store and client; register adapters on it (they resume as they register).

    ``observer`` (e.g. :class:`bot.ops.metrics.Metrics`) is told what happens; a ``Metrics`` also watches the
    API key's request budget and the platform links.
    """
    async with AsyncExitStack() as stack:
        book = study_book(settings)
        client, clients = await stack.enter_async_context(open_clients(settings, book))
        store = store_for(settings)
        await store.open()
        stack.push_async_callback(store.close)
        coordination = await open_coordination(settings, store, stack)  # other instances may share the database
        share_budgets(store, (client, *clients.values()))
        bridge = Bridge(
            client,
            store,
            bridge_config(settings),
            clock=clock,
            studies=book,
            clients=clients,
            observer=observer,
            coordination=coordination,
        )
        bridge.handoffs.rate_limit = settings.handoff_rate_limit
        bridge.handoffs.consent_timeout = settings.handoff_consent_timeout
        if isinstance(observer, Metrics):
            budgets = (c.budget for c in (client, *clients.values()) if isinstance(c.budget, RequestBudget))
            for budget in {id(b): b for b in budgets}.values():
                observer.watch_budget(budget)
            observer.watch_connections(bridge.connections)
            observer.watch_lifecycle(bridge)
        await bridge.start()
        stack.push_async_callback(bridge.stop)
        yield bridge


def operations_server(settings: Settings, bridge: Bridge, metrics: Metrics | None = None) -> OpsServer:
    """The bot's HTTP server on ``HTTP_HOST:HTTP_PORT``, not yet started: health, readiness, metrics.

    Readiness needs the store to answer and every link in ``bridge.connections`` to be connected. Routes of
    other parts (the handoff API, the interview service's webhook receiver) are added in
    :func:`mount_routes`, before the server starts.
    """
    readiness = Readiness()
    readiness.add_store(bridge.store)
    readiness.add_connections(bridge.connections)
    server = OpsServer(readiness, metrics, host=settings.http_host, port=settings.http_port)
    mount_routes(server, bridge, settings)
    return server


def mount_routes(server: OpsServer, bridge: Bridge, settings: Settings) -> None:
    """Add the routes other parts serve on the bot's HTTP server (``server.add_routes`` / ``add_subapp``)."""
    from bot.handoff import Outbox, handoff_routes

    token = _secret(settings.handoff_token)
    v1, routes = handoff_routes(bridge, token or "")
    server.add_routes(routes)  # /openapi.json
    if token:  # other bots hand users over (POST /v1/handoffs); their callbacks are swept while serving
        server.add_subapp("/v1/", v1)
        server.app.cleanup_ctx.append(Outbox(bridge, _secret(settings.handoff_secret)).lifetime)
    secret = _secret(settings.koji_webhook_secret)
    if secret:  # the interview service's signed webhook brings analyses (else they are polled)
        from bot.koji_webhook import WEBHOOK_PATH, koji_webhook_handler

        server.add_routes([web.post(WEBHOOK_PATH, koji_webhook_handler(bridge.results, secret))])


async def export_study(settings: Settings, study_id: str, file_format: str) -> str:
    """A study's interviews as CSV or JSONL text, from the configured database (no API call)."""
    from bot.core.export import export_csv, export_jsonl

    book = study_book(settings)
    study = book.get(study_id)
    if study is None:
        raise ValueError(f"no study {study_id!r}; studies: {', '.join(s.id for s in book.studies)}")
    store = store_for(settings)
    await store.open()
    try:
        if file_format == "jsonl":
            return await export_jsonl(store, study)
        return await export_csv(store, study)
    finally:
        await store.close()


def invitation_desk(bridge: Bridge, clock: Clock | None = None) -> InvitationDesk:
    """The campaigns' desk on the bridge's store and studies (both storage backends hold the invitation tables)."""
    return InvitationDesk(bridge.store, bridge.studies, clock or SystemClock())


def volunteers(bridge: Bridge, platform: str) -> Volunteers:
    """Opt-in recruiting on ``platform`` (Discord's panels): its reminders go through an invitation desk on the
    bridge's store, studies and clock."""
    return Volunteers(bridge.store, invitation_desk(bridge, bridge.clock), platform)


async def forget_person(settings: Settings, platform: str, workspace: str, user: str) -> Erasure | None:
    """Erase one person (an operator's answer to an emailed request); None: nothing was stored about them.

    Their running interviews end first (on the API too); only the erasure log's hash and date remain. Their results
    cards wait for the running bot to delete them (no platform is connected here).
    """
    async with open_bridge(settings) as bridge:
        privacy = bridge.privacy
        if not await privacy.stores_anything(platform, workspace, user):
            return None
        return await privacy.forget(platform, workspace, user)
