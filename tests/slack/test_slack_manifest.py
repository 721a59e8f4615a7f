"""deploy/slack-manifest.yaml against what the adapter really calls: with exactly the manifest's bot scopes
granted, the whole flow works (no `missing_scope` at runtime), and every scope it asks for is needed by a method
the adapter called, an event it subscribes to, or its slash command (no needless scope)."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import test_slack_e2e as e2e
import yaml
from aiohttp import web
from fake_slack import FakeSlack
from fake_slack.scopes import COMMANDS_SCOPE, EVENT_SCOPES, METHOD_SCOPES, missing_scope
from test_slack_e2e import ALICE, Harness, action_ids, start_interview

from adapters.slack.listeners import COMMAND, EVENTS
from adapters.slack.runner import SCOPES, check_tokens, make_client
from bot.config import Settings
from bot.studies_file import parse_studies

#: One study (so the respondent flow is unchanged) and admins by user group (the admin commands' scopes).
STUDIES = "admins: {slack_usergroups: [S0ADMINS]}\nstudies:\n  - {id: survey, name: Survey}\n"


@pytest.fixture
async def harness(
    fake_slack: FakeSlack, serve_http: Callable[[web.Application], Awaitable[str]], tmp_path: Path
) -> AsyncIterator[Harness]:
    fake_slack.add_usergroup("S0ADMINS", [ALICE])
    async with e2e.open_harness(fake_slack, serve_http, tmp_path, studies=parse_studies(STUDIES)) as h:
        yield h


MANIFEST = Path(__file__).parents[2] / "deploy" / "slack-manifest.yaml"
#: Slack's official manifest schema (slackapi/manifest-schema, v1 manifests), see tests/specs/README.md.
SCHEMA = Path(__file__).parents[1] / "specs" / "slack-manifest-schema.json"


def manifest() -> dict[str, Any]:
    return dict(yaml.safe_load(MANIFEST.read_text(encoding="utf-8")))


def test_missing_scope_is_reported_like_slack() -> None:
    assert missing_scope("users.info", {"chat:write"}) == "users:read"
    assert missing_scope("users.info", {"users:read"}) is None
    assert missing_scope("views.publish", set()) is None
    assert missing_scope("chat.postMessage", None) is None
    # a conversation's members: the scope of its kind (Slack lists one per kind), not any of them
    assert missing_scope("conversations.members", {"im:read"}, "channels") == "channels:read"
    assert missing_scope("conversations.members", {"channels:read"}, "groups") == "groups:read"
    assert missing_scope("conversations.members", {"channels:read"}, "channels") is None
    assert missing_scope("users.lookupByEmail", {"users:read"}) == "users:read.email"


async def test_the_manifest_scopes_are_exactly_what_the_adapter_needs(harness: Harness) -> None:
    h = harness
    granted = set(manifest()["oauth_config"]["scopes"]["bot"])
    h.fake.granted_scopes = granted
    # everything a respondent does: DM, typed answer, a click, the "other" modal, /interview from a channel,
    # the Home tab and its buttons
    thread = await start_interview(h)
    await h.fake.user_sends_dm(ALICE, "I am a designer", thread_ts=thread)
    question = await h.wait_for_action("ib:yes")
    await h.click(question, "ib:yes")
    await h.wait_for_action("ib:scale:4")
    await h.fake.slash_command(ALICE, "/interview", "status", channel_id="C0GENERAL")
    await h.fake.wait_for(lambda: any("in progress" in e["text"] for e in h.fake.ephemerals(ALICE)))
    assert await h.fake.open_app_home(ALICE) == 200
    await h.fake.wait_for(lambda: (v := h.fake.home_view(ALICE)) is not None and "ib_home:resume" in action_ids(v))
    view = h.fake.home_view(ALICE)
    assert view is not None
    await h.fake.click_in_view(ALICE, view["id"], "ib_home:resume")
    await h.fake.wait_for(lambda: any("Welcome back" in m["text"] for m in h.bot_replies(thread=thread)))
    await h.idle()
    # an admin (a member of the admins' user group) takes the export: usergroups.users.list, the file upload
    await h.fake.slash_command(ALICE, "/interview", "export survey")
    await h.fake.wait_for(lambda: bool(h.fake.shared_files(h.fake.dm_channel_of(ALICE))))
    # and invites a channel's members and a colleague by email: conversations.members, users.lookupByEmail
    h.fake.add_user("U0BOB0001", "bob", email="bob@example.org")
    h.fake.add_user("U0CAROL01", "carol")
    h.fake.add_channel("C0TEAM", members=["U0CAROL01"])
    await h.fake.slash_command(ALICE, "/interview", "invite survey <#C0TEAM|team> emails:bob@example.org")
    await h.fake.wait_for(lambda: any("queued for an invitation now" in e["text"] for e in h.fake.ephemerals(ALICE)))
    assert (await h.invitations.desk.sweep(h.invitations, "slack")).invited == 2

    refused = [c for c in h.fake.calls if c.response.get("error") == "missing_scope"]
    assert not refused, [(c.method, c.response.get("needed")) for c in refused]
    used: set[str] = set()
    for method in {c.method for c in h.fake.calls}:
        accepted = METHOD_SCOPES[method]
        if accepted and not accepted & used:
            used |= accepted & granted
    for event in manifest()["settings"]["event_subscriptions"]["bot_events"]:
        used |= EVENT_SCOPES[event]
    used.add(COMMANDS_SCOPE)
    assert granted == used, f"needless: {sorted(granted - used)}"


def test_manifest_lists_the_events_command_and_features_the_code_handles() -> None:
    data = manifest()
    assert sorted(data["oauth_config"]["scopes"]["bot"]) == sorted(SCOPES)
    assert sorted(data["settings"]["event_subscriptions"]["bot_events"]) == sorted(EVENTS)
    assert [c["command"] for c in data["features"]["slash_commands"]] == [COMMAND]
    assert data["settings"]["socket_mode_enabled"] is True
    assert data["settings"]["interactivity"]["is_enabled"] is True
    home = data["features"]["app_home"]
    assert home["home_tab_enabled"] and home["messages_tab_enabled"] and not home["messages_tab_read_only_enabled"]
    assert "assistant:write" in SCOPES and "assistant_view" in data["features"]  # Slack requires both together
    info = data["display_information"]
    assert len(info["description"]) <= 140 and 175 <= len(info["long_description"]) <= 4000


def test_manifest_follows_slacks_schema_and_offers_the_agent_view() -> None:
    data = manifest()
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    errors = [e.message for e in jsonschema.Draft7Validator(schema).iter_errors(data)]
    assert not errors
    agent = data["features"]["agent_view"]
    assert 0 < len(agent["agent_description"]) <= 300
    assert 1 <= len(agent["suggested_prompts"]) <= 4
    assert [p["title"] for p in agent["suggested_prompts"]] == ["Start the interview", "How does this work?"]


async def test_an_app_from_an_older_manifest_is_told_which_scopes_to_add(
    fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    scopes = set(manifest()["oauth_config"]["scopes"]["bot"])
    settings = Settings(_env_file=None, slack_bot_token=fake_slack.bot_token, slack_api_url=fake_slack.api_url)  # type: ignore[call-arg]
    client = make_client(fake_slack.bot_token, fake_slack.api_url)
    fake_slack.granted_scopes = scopes - {"channels:read", "users:read.email"}  # installed before campaigns
    with caplog.at_level(logging.WARNING, "adapters.slack"):
        await check_tokens(settings, client)
    assert "the bot token lacks channels:read, users:read.email" in caplog.text
    assert "users.lookupByEmail" in caplog.text and "conversations.members" in caplog.text  # what each is for
    caplog.clear()
    fake_slack.granted_scopes = scopes
    with caplog.at_level(logging.WARNING, "adapters.slack"):
        await check_tokens(settings, client)
    assert "lacks" not in caplog.text
