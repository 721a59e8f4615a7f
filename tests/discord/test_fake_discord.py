"""Tests of the fake Discord itself, driven by the real discord.py client over loopback."""

from __future__ import annotations

import asyncio
import io
from typing import Any

import aiohttp
import discord
import pytest
from fake_discord import FakeDiscord, running_client, serving

ADA = "100000000000000001"
BOB = "100000000000000002"
GUILD = "200000000000000001"


def make_client(**kwargs: Any) -> discord.Client:
    """A plain discord.py client with default intents (no privileged ones), ready without a 2 s wait."""
    return discord.Client(intents=discord.Intents.default(), guild_ready_timeout=0.05, **kwargs)


class EchoClient(discord.Client):
    """Answers a DM with a placeholder, then edits it — the shape of a streamed reply."""

    def __init__(self) -> None:
        super().__init__(intents=discord.Intents.default(), guild_ready_timeout=0.05)
        self.received: list[discord.Message] = []
        self.own_seen: list[int] = []

    async def on_message(self, message: discord.Message) -> None:
        if message.author.id == self.user.id:  # type: ignore[union-attr]
            self.own_seen.append(message.id)
            return
        self.received.append(message)
        async with message.channel.typing():
            reply = await message.channel.send("…")
        await reply.edit(content=f"you said: {message.content}")


async def test_connects_and_logs_in(fake_discord: FakeDiscord) -> None:
    client = make_client()
    async with running_client(client, fake_discord):
        assert client.user is not None
        assert str(client.user.id) == fake_discord.bot_user_id
        assert str(client.application_id) == fake_discord.application_id
    paths = [r.path for r in fake_discord.requests]
    assert "/users/@me" in paths
    assert fake_discord.gateway.stats.identifies == 1
    assert fake_discord.gateway.stats.heartbeats >= 1
    fake_discord.assert_no_spec_errors()


async def test_wrong_token_is_refused(fake_discord: FakeDiscord) -> None:
    client = make_client()
    with pytest.raises(discord.LoginFailure):
        await client.login("not-the-token")
    await client.close()


async def test_dm_in_reply_out_and_edit(fake_discord: FakeDiscord) -> None:
    fake_discord.add_user(ADA, "ada")
    client = EchoClient()
    async with running_client(client, fake_discord):
        sent = await fake_discord.user_sends_dm(ADA, "hello bot")
        channel_id = sent["channel_id"]
        assert fake_discord.dm_channel_of(ADA) == channel_id

        def replied() -> bool:
            bot = fake_discord.bot_messages(channel_id)
            return len(bot) == 1 and bot[0]["content"] == "you said: hello bot"

        await fake_discord.wait_for(replied)
        got = client.received[0]
        assert isinstance(got.channel, discord.DMChannel)
        assert got.guild is None
        assert got.content == "hello bot"
        assert str(got.author.id) == ADA
        reply = fake_discord.bot_messages(channel_id)[0]
        assert reply["edits"] == 1
        assert fake_discord.typing_count(channel_id) >= 1
        # the bot sees its own DM message too, as on Discord
        await fake_discord.wait_for(lambda: int(reply["id"]) in client.own_seen)
    fake_discord.assert_no_spec_errors()


async def test_closed_dms_answer_50007(fake_discord: FakeDiscord) -> None:
    fake_discord.add_user(BOB, "bob", dms_open=False)
    client = make_client()
    async with running_client(client, fake_discord):
        user = await client.fetch_user(int(BOB))
        channel = await user.create_dm()
        with pytest.raises(discord.Forbidden) as caught:
            await channel.send("hi")
        assert caught.value.code == 50007
        fake_discord.set_dms_open(BOB, True)
        await channel.send("hi again")
    assert [m["content"] for m in fake_discord.messages(str(channel.id))] == ["hi again"]


class Question(discord.ui.View):
    """A persistent yes/no question whose answer replaces the buttons (UPDATE_MESSAGE)."""

    def __init__(self) -> None:
        super().__init__(timeout=None)
        self.answers: list[str] = []

    @discord.ui.button(label="Yes", custom_id="q1:yes", style=discord.ButtonStyle.success)
    async def yes(self, interaction: discord.Interaction, button: discord.ui.Button[Question]) -> None:
        self.answers.append("yes")
        await interaction.response.edit_message(content="Answer: yes", view=None)

    @discord.ui.button(label="Other…", custom_id="q1:other")
    async def other(self, interaction: discord.Interaction, button: discord.ui.Button[Question]) -> None:
        await interaction.response.send_modal(OtherModal(self))


class OtherModal(discord.ui.Modal, title="Your answer"):
    text: discord.ui.TextInput[OtherModal] = discord.ui.TextInput(label="Answer", custom_id="other:text", max_length=50)

    def __init__(self, question: Question) -> None:
        super().__init__(custom_id="other:modal", timeout=None)
        self.question = question

    async def on_submit(self, interaction: discord.Interaction) -> None:
        self.question.answers.append(self.text.value)
        await interaction.response.send_message(f"Noted: {self.text.value}", ephemeral=True)


class QuestionClient(discord.Client):
    """Posts the question on any DM, and counts every interaction it sees."""

    def __init__(self) -> None:
        super().__init__(intents=discord.Intents.default(), guild_ready_timeout=0.05)
        self.view = Question()
        self.seen: list[discord.Interaction] = []

    async def setup_hook(self) -> None:
        self.add_view(self.view)

    async def on_message(self, message: discord.Message) -> None:
        if message.author != self.user:
            await message.channel.send("Do you like it?", view=self.view)

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        self.seen.append(interaction)


async def _asked(fake: FakeDiscord, user_id: str) -> dict[str, Any]:
    sent = await fake.user_sends_dm(user_id, "start")
    await fake.wait_for(lambda: len(fake.bot_messages(sent["channel_id"])) == 1)
    return fake.bot_messages(sent["channel_id"])[0]


async def test_click_updates_the_message(fake_discord: FakeDiscord) -> None:
    fake_discord.add_user(ADA, "ada", locale="de")
    client = QuestionClient()
    async with running_client(client, fake_discord):
        question = await _asked(fake_discord, ADA)
        assert [c["custom_id"] for c in question["components"][0]["components"]] == ["q1:yes", "q1:other"]
        click = await fake_discord.click(ADA, question["id"], "q1:yes")
        await click.wait_responded()
        assert click.response_type == 7
        after = fake_discord.messages(question["channel_id"])[-1]
        assert after["content"] == "Answer: yes"
        assert after["components"] == []
        assert client.view.answers == ["yes"]
        seen = client.seen[0]
        assert seen.locale is discord.Locale.german
        assert isinstance(seen.channel, discord.DMChannel)
        assert seen.data is not None and seen.data.get("custom_id") == "q1:yes"
        # the buttons are gone: a Discord client cannot click them any more
        with pytest.raises(ValueError, match="no component"):
            await fake_discord.click(ADA, question["id"], "q1:yes")
    fake_discord.assert_no_spec_errors()


async def test_second_callback_is_refused(fake_discord: FakeDiscord) -> None:
    fake_discord.add_user(ADA, "ada")
    errors: list[int] = []

    class Twice(discord.Client):
        async def on_interaction(self, interaction: discord.Interaction) -> None:
            await interaction.response.defer()
            try:
                await interaction.followup.send("x")  # allowed: a followup
                await self.http.request(  # a second callback for the same interaction
                    discord.http.Route(
                        "POST",
                        "/interactions/{interaction_id}/{token}/callback",
                        interaction_id=interaction.id,
                        token=interaction.token,
                    ),
                    json={"type": 6},
                )
            except discord.HTTPException as exc:
                errors.append(exc.code)

    client = Twice(intents=discord.Intents.default(), guild_ready_timeout=0.05)
    async with running_client(client, fake_discord):
        channel = await (await client.fetch_user(int(ADA))).create_dm()
        view = discord.ui.View(timeout=None)
        view.add_item(discord.ui.Button(label="Yes", custom_id="plain:yes"))  # no callback of its own
        message = await channel.send("pick", view=view)
        click = await fake_discord.click(ADA, str(message.id), "plain:yes")
        await fake_discord.wait_for(lambda: bool(errors))
    assert errors == [40060]
    assert click.response_type == 6
    assert [f["content"] for f in click.followups] == ["x"]


async def test_modal_round_trip_and_ephemeral_answer(fake_discord: FakeDiscord) -> None:
    fake_discord.add_user(ADA, "ada")
    client = QuestionClient()
    async with running_client(client, fake_discord):
        question = await _asked(fake_discord, ADA)
        click = await fake_discord.click(ADA, question["id"], "q1:other")
        await click.wait_responded()
        assert click.modal is not None and click.modal["custom_id"] == "other:modal"
        with pytest.raises(ValueError, match="outside"):
            await fake_discord.submit_modal(ADA, click, "other:modal", {"other:text": "x" * 51})
        submitted = await fake_discord.submit_modal(ADA, click, "other:modal", {"other:text": "purple"})
        await submitted.wait_responded()
        assert client.view.answers == ["purple"]
        assert submitted.response_type == 4 and submitted.ephemeral
        note = submitted.original_message()
        assert note is not None and note["content"] == "Noted: purple"
        visible = fake_discord.messages(question["channel_id"], include_ephemeral=False)
        assert all(m["content"] != "Noted: purple" for m in visible)
    fake_discord.assert_no_spec_errors()


async def test_select_values_are_checked_and_delivered(fake_discord: FakeDiscord) -> None:
    fake_discord.add_user(ADA, "ada")
    picked: list[list[str]] = []

    class Pick(discord.ui.View):
        def __init__(self) -> None:
            super().__init__(timeout=None)

        @discord.ui.select(
            custom_id="pick",
            min_values=1,
            max_values=2,
            options=[discord.SelectOption(label=x, value=x) for x in ("red", "green", "blue")],
        )
        async def pick(self, interaction: discord.Interaction, select: discord.ui.Select[Pick]) -> None:
            picked.append(select.values)
            await interaction.response.defer()
            await interaction.edit_original_response(content=", ".join(select.values), view=None)

    client = make_client()
    async with running_client(client, fake_discord):
        channel = await (await client.fetch_user(int(ADA))).create_dm()
        message = await channel.send("colours?", view=Pick())
        with pytest.raises(ValueError, match="no options"):
            await fake_discord.click(ADA, str(message.id), "pick", values=["pink"])
        with pytest.raises(ValueError, match=r"takes 1\.\.2"):
            await fake_discord.click(ADA, str(message.id), "pick", values=["red", "green", "blue"])
        click = await fake_discord.click(ADA, str(message.id), "pick", values=["red", "blue"])
        await fake_discord.wait_for(lambda: fake_discord.messages(str(channel.id))[-1]["content"] == "red, blue")
    assert picked == [["red", "blue"]]
    assert click.data["component_type"] == 3
    fake_discord.assert_no_spec_errors()


async def test_slash_command_reaches_the_tree(fake_discord: FakeDiscord) -> None:
    fake_discord.add_user(ADA, "ada")
    fake_discord.add_guild(GUILD, "Makers", [ADA])
    calls: list[tuple[str, str | None, str]] = []
    client = make_client()
    tree = discord.app_commands.CommandTree(client)
    group = discord.app_commands.Group(name="interview", description="Interviews")

    @group.command(name="start", description="Start an interview")
    async def start(interaction: discord.Interaction, study: str | None = None) -> None:
        calls.append((str(interaction.user.id), study, str(interaction.locale)))
        await interaction.response.send_message("Check your DMs", ephemeral=True)

    tree.add_command(group)
    async with running_client(client, fake_discord):
        with pytest.raises(ValueError, match="not registered"):
            await fake_discord.slash_command(ADA, "interview", [], guild_id=GUILD)
        await tree.sync()
        assert [c["name"] for c in fake_discord.world.global_commands] == ["interview"]
        options = [{"type": 1, "name": "start", "options": [{"type": 3, "name": "study", "value": "onboarding"}]}]
        command = await fake_discord.slash_command(ADA, "interview", options, guild_id=GUILD, locale="fr")
        await command.wait_responded()
        assert command.ephemeral and command.all_texts() == ["Check your DMs"]
        in_dm = await fake_discord.slash_command(ADA, "interview", [{"type": 1, "name": "start", "options": []}])
        await in_dm.wait_responded()
        assert in_dm.channel_id == fake_discord.dm_channel_of(ADA)
    assert calls == [(ADA, "onboarding", "fr"), (ADA, None, "en-US")]
    fake_discord.assert_no_spec_errors()


async def test_a_role_option_comes_with_the_role_resolved(fake_discord: FakeDiscord) -> None:
    fake_discord.add_user(ADA, "ada")
    fake_discord.add_guild(GUILD, "Makers", [ADA], roles={"77": [ADA]})
    seen: list[tuple[str, str]] = []
    client = make_client()
    tree = discord.app_commands.CommandTree(client)

    @tree.command(name="pick", description="Pick a role")
    async def pick(interaction: discord.Interaction, role: discord.Role) -> None:
        seen.append((type(role).__name__, role.name))
        await interaction.response.send_message("ok", ephemeral=True)

    async with running_client(client, fake_discord):
        await tree.sync()
        command = await fake_discord.slash_command(
            ADA, "pick", [{"type": 8, "name": "role", "value": "77"}], guild_id=GUILD
        )
        await command.wait_responded()
        assert command.data["resolved"]["roles"]["77"]["name"] == "role-77"  # as Discord sends it
    assert seen == [("Role", "role-77")]


# --- rate limits --------------------------------------------------------------------------------------------
async def test_forced_429_is_retried_by_discord_py(fake_discord: FakeDiscord) -> None:
    fake_discord.add_user(ADA, "ada")
    client = make_client()
    async with running_client(client, fake_discord):
        channel = await (await client.fetch_user(int(ADA))).create_dm()
        fake_discord.force_429("POST", r"^/channels/\d+/messages$", count=2, retry_after=0.05)
        await channel.send("first")
        fake_discord.force_429("PATCH", r"^/channels/\d+/messages/\d+$", retry_after=0.05, global_=True)
        message = await channel.send("second")
        await message.edit(content="second, edited")
    statuses = [r.status for r in fake_discord.requests_to("POST", r"^/channels/\d+/messages$")]
    assert statuses == [429, 429, 200, 200]
    assert [r.status for r in fake_discord.requests_to("PATCH", r"/messages/")] == [429, 200]
    assert [m["content"] for m in fake_discord.messages(str(channel.id))] == ["first", "second, edited"]


async def test_interaction_webhook_429_is_retried(fake_discord: FakeDiscord) -> None:
    fake_discord.add_user(ADA, "ada")

    class Deferring(discord.Client):
        async def on_interaction(self, interaction: discord.Interaction) -> None:
            await interaction.response.defer(thinking=True)
            await interaction.edit_original_response(content="done")

    client = Deferring(intents=discord.Intents.default(), guild_ready_timeout=0.05)
    async with running_client(client, fake_discord):
        channel = await (await client.fetch_user(int(ADA))).create_dm()
        view = discord.ui.View(timeout=None)
        view.add_item(discord.ui.Button(label="Go", custom_id="go"))
        message = await channel.send("go?", view=view)
        fake_discord.force_429("PATCH", r"^/webhooks/\d+/[^/]+/messages/@original$", retry_after=0.05)
        click = await fake_discord.click(ADA, str(message.id), "go")
        await fake_discord.wait_for(lambda: (click.original_message() or {}).get("content") == "done")
    assert click.response_type == 5
    original = click.original_message()
    assert original is not None and not original["flags"] & 128  # no longer "thinking"
    assert [r.status for r in fake_discord.requests_to("PATCH", "@original")] == [429, 200]


async def test_message_edits_share_a_per_channel_bucket() -> None:
    async with serving(message_limit=(3, 0.3)) as fake:
        fake.add_user(ADA, "ada")
        client = make_client()
        async with running_client(client, fake):
            channel = await (await client.fetch_user(int(ADA))).create_dm()
            message = await channel.send("0")
            for step in range(1, 6):
                await message.edit(content=str(step))
        assert fake.messages(str(channel.id))[-1]["content"] == "5"
        assert all(r.status == 200 for r in fake.requests_to("PATCH", "/messages/"))  # discord.py waited
        writes = fake.requests_to("POST", r"/messages$") + fake.requests_to("PATCH", "/messages/")
        assert len({r.path.split("/")[2] for r in writes}) == 1
        # a client that ignores the headers meets the 429 (a fresh DM and a 60 s window: no race with the clock)
        fake.limiter.message_limit = (4, 60.0)
        fake.add_user(BOB, "bob")
        async with aiohttp.ClientSession(headers={"Authorization": f"Bot {fake.token}"}) as http:
            async with http.post(f"{fake.rest_base}/users/@me/channels", json={"recipient_id": BOB}) as response:
                dm = (await response.json())["id"]
            async with http.post(f"{fake.rest_base}/channels/{dm}/messages", json={"content": "0"}) as response:
                posted = (await response.json())["id"]
            url = f"{fake.rest_base}/channels/{dm}/messages/{posted}"
            answers = []
            for _ in range(4):
                async with http.patch(url, json={"content": "fast"}) as response:
                    answers.append((response.status, response.headers.get("X-RateLimit-Remaining")))
                    body = await response.json()
            assert answers[:3] == [(200, "2"), (200, "1"), (200, "0")]
            assert answers[-1][0] == 429
            assert body["global"] is False and 0 < body["retry_after"] <= 60.0


# --- gateway ------------------------------------------------------------------------------------------------
async def test_disconnect_resumes_on_the_resume_url(fake_discord: FakeDiscord) -> None:
    fake_discord.add_user(ADA, "ada")
    client = EchoClient()
    async with running_client(client, fake_discord):
        await fake_discord.disconnect_gateway()
        await fake_discord.wait_for(lambda: fake_discord.gateway.stats.resumes == 1)
        await fake_discord.user_sends_dm(ADA, "after")
        await fake_discord.wait_for(lambda: len(client.received) == 1)
    stats = fake_discord.gateway.stats
    assert stats.identifies == 1 and stats.resume_url_connections == 1


async def test_events_missed_during_an_outage_are_replayed_once(fake_discord: FakeDiscord) -> None:
    fake_discord.add_user(ADA, "ada")
    client = EchoClient()
    async with running_client(client, fake_discord):
        await fake_discord.user_sends_dm(ADA, "before")
        await fake_discord.wait_for(lambda: len(client.received) == 1)
        async with fake_discord.gateway_outage():
            await fake_discord.user_sends_dm(ADA, "during 1")
            await fake_discord.user_sends_dm(ADA, "during 2")
            await asyncio.sleep(0.05)
            assert len(client.received) == 1  # nothing arrives while the gateway is down
        await fake_discord.wait_for(lambda: len(client.received) == 3)
        await fake_discord.user_sends_dm(ADA, "after")
        await fake_discord.wait_for(lambda: len(client.received) == 4)
        await asyncio.sleep(0.05)
    assert [m.content for m in client.received] == ["before", "during 1", "during 2", "after"]
    assert fake_discord.gateway.stats.resumes == 1
    assert fake_discord.gateway.stats.identifies == 1


async def test_restart_keeps_persistent_buttons_working(fake_discord: FakeDiscord) -> None:
    fake_discord.add_user(ADA, "ada")
    first = QuestionClient()
    async with running_client(first, fake_discord):
        question = await _asked(fake_discord, ADA)
    second = QuestionClient()  # a new process: only its setup_hook's add_view knows the buttons
    async with running_client(second, fake_discord):
        click = await fake_discord.click(ADA, question["id"], "q1:yes")
        await click.wait_responded()
    assert second.view.answers == ["yes"] and first.view.answers == []
    assert fake_discord.gateway.stats.identifies == 2


async def test_privileged_intents_are_refused_unless_enabled(fake_discord: FakeDiscord) -> None:
    client = discord.Client(intents=discord.Intents.all(), guild_ready_timeout=0.05)
    with pytest.raises(discord.PrivilegedIntentsRequired):
        async with running_client(client, fake_discord):
            pass
    async with serving(allowed_privileged_intents=(1 << 1) | (1 << 8) | (1 << 15)) as fake:
        client = discord.Client(intents=discord.Intents.all(), guild_ready_timeout=0.05)
        async with running_client(client, fake):
            assert client.is_ready()


# --- Discord's rules ----------------------------------------------------------------------------------------
async def test_spec_violations_and_discord_rules_are_reported(fake_discord: FakeDiscord) -> None:
    fake_discord.add_user(ADA, "ada")
    client = make_client()
    async with running_client(client, fake_discord):
        channel = await (await client.fetch_user(int(ADA))).create_dm()
        route = discord.http.Route("POST", "/channels/{channel_id}/messages", channel_id=channel.id)
        bad_button = {"type": 2, "style": 1, "label": "x", "custom_id": "y" * 101}
        await client.http.request(
            route, json={"content": "hi", "components": [{"type": 1, "components": [bad_button]}]}
        )
        with pytest.raises(discord.HTTPException) as too_long:
            await channel.send("x" * 2001)
        with pytest.raises(discord.HTTPException) as empty:
            await client.http.request(route, json={"content": ""})
    assert too_long.value.code == 50035 and empty.value.code == 50006
    problems = fake_discord.spec_errors()
    assert len(problems) == 1 and "custom_id" in problems[0] and "too long" in problems[0]
    with pytest.raises(AssertionError, match="custom_id"):
        fake_discord.assert_no_spec_errors()


async def test_late_interaction_answer_is_unknown() -> None:
    codes: list[int] = []

    class Slow(discord.Client):
        async def on_interaction(self, interaction: discord.Interaction) -> None:
            await asyncio.sleep(0.1)
            try:
                await interaction.response.send_message("too late")
            except discord.NotFound as exc:
                codes.append(exc.code)

    async with serving(interaction_deadline=0.05) as fake:
        fake.add_user(ADA, "ada")
        client = Slow(intents=discord.Intents.default(), guild_ready_timeout=0.05)
        async with running_client(client, fake):
            channel = await (await client.fetch_user(int(ADA))).create_dm()
            view = discord.ui.View(timeout=None)
            view.add_item(discord.ui.Button(label="Go", custom_id="go"))
            message = await channel.send("go?", view=view)
            await fake.click(ADA, str(message.id), "go")
            await fake.wait_for(lambda: bool(codes))
    assert codes == [10062]


# --- more of Discord ----------------------------------------------------------------------------------------
async def test_files_followups_and_visibility(fake_discord: FakeDiscord) -> None:
    fake_discord.add_user(ADA, "ada")
    fake_discord.add_user(BOB, "bob")

    class Followups(discord.Client):
        async def on_interaction(self, interaction: discord.Interaction) -> None:
            await interaction.response.defer(ephemeral=True, thinking=True)
            await interaction.edit_original_response(content="working")
            note = await interaction.followup.send("only you see this", ephemeral=True, wait=True)
            await interaction.followup.edit_message(note.id, content="only you see this (edited)")
            await interaction.followup.send("everyone sees this", file=discord.File(io.BytesIO(b"x"), "a.txt"))

    client = Followups(intents=discord.Intents.default(), guild_ready_timeout=0.05)
    async with running_client(client, fake_discord):
        channel = await (await client.fetch_user(int(ADA))).create_dm()
        view = discord.ui.View(timeout=None)
        view.add_item(discord.ui.Button(label="Go", custom_id="go"))
        message = await channel.send("go?", view=view, file=discord.File(io.BytesIO(b"data"), "note.txt"))
        with pytest.raises(ValueError, match="cannot see"):
            await fake_discord.click(BOB, str(message.id), "go")
        click = await fake_discord.click(ADA, str(message.id), "go")
        await fake_discord.wait_for(lambda: len(click.followups) == 2)
    assert click.ephemeral
    assert click.all_texts() == ["working", "only you see this (edited)", "everyone sees this"]
    visible = [m["content"] for m in fake_discord.messages(str(channel.id), include_ephemeral=False)]
    assert visible == ["go?", "everyone sees this"]
    [upload] = fake_discord.requests_to("POST", r"^/channels/\d+/messages$")
    assert upload.files == 1 and upload.json["content"] == "go?"
    assert len(fake_discord.messages(str(channel.id))[0]["attachments"]) == 1
    fake_discord.assert_no_spec_errors()


async def test_guild_content_needs_the_intent_and_members_can_leave(fake_discord: FakeDiscord) -> None:
    fake_discord.add_guild(GUILD, "Makers", [ADA, BOB], roles={"Researchers": [ADA]})
    seen: list[str] = []

    class Listener(discord.Client):
        async def on_message(self, message: discord.Message) -> None:
            seen.append(message.content)

    client = Listener(intents=discord.Intents.default(), guild_ready_timeout=0.05)
    async with running_client(client, fake_discord):
        guild = client.get_guild(int(GUILD))
        assert guild is not None and guild.name == "Makers"
        await fake_discord.user_sends_guild_message(ADA, GUILD, "no mention")
        await fake_discord.user_sends_guild_message(ADA, GUILD, f"<@{fake_discord.bot_user_id}> hello")
        await fake_discord.wait_for(lambda: len(seen) == 2)
        member = await guild.fetch_member(int(ADA))
        assert [r.name for r in member.roles if r.name != "@everyone"] == ["Researchers"]
        await fake_discord.remove_member(GUILD, ADA)
        with pytest.raises(discord.NotFound):
            await guild.fetch_member(int(ADA))
    assert seen == ["", f"<@{fake_discord.bot_user_id}> hello"]  # no MESSAGE_CONTENT intent


async def test_sharded_client_asks_for_the_gateway(fake_discord: FakeDiscord) -> None:
    fake_discord.add_user(ADA, "ada")
    client = discord.AutoShardedClient(intents=discord.Intents.default(), guild_ready_timeout=0.05)
    async with running_client(client, fake_discord):
        assert client.shard_count == 1
    assert fake_discord.requests_to("GET", r"^/gateway/bot$")


async def test_dms_arrive_on_shard_zero_only(fake_discord: FakeDiscord) -> None:
    fake_discord.add_user(ADA, "ada")
    received: list[int] = []

    class TwoShards(discord.AutoShardedClient):
        async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
            pass  # discord.py sleeps 5 s between IDENTIFYs by default

    client = TwoShards(intents=discord.Intents.default(), shard_count=2, guild_ready_timeout=0.05)

    async def on_message(message: discord.Message) -> None:
        received.append(message.id)

    client.event(on_message)
    async with running_client(client, fake_discord):
        await fake_discord.user_sends_dm(ADA, "hi")
        await fake_discord.wait_for(lambda: len(received) == 1)
        await asyncio.sleep(0.05)
    assert len(received) == 1  # one delivery, though two shards are connected
    assert sorted(s.shard for s in fake_discord.gateway.sessions.values() if s.shard) == [(0, 2), (1, 2)]


async def test_component_rules_discord_enforces() -> None:
    async with serving(strict_spec=True) as fake:
        fake.add_user(ADA, "ada")
        client = make_client()
        async with running_client(client, fake):
            channel = await (await client.fetch_user(int(ADA))).create_dm()
            route = discord.http.Route("POST", "/channels/{channel_id}/messages", channel_id=channel.id)

            def row(*custom_ids: str) -> dict[str, Any]:
                buttons = [{"type": 2, "style": 1, "label": c, "custom_id": c} for c in custom_ids]
                return {"type": 1, "components": buttons}

            refused = []
            for components in (
                [row(f"r{n}") for n in range(6)],  # six action rows
                [row("same"), row("same")],  # duplicate custom ids
                [row("y" * 101)],  # breaks the OpenAPI schema: rejected in strict mode
            ):
                with pytest.raises(discord.HTTPException) as caught:
                    await client.http.request(route, json={"content": "q", "components": components})
                refused.append(caught.value.code)
            await client.http.request(route, json={"content": "q", "components": [row(f"r{n}") for n in range(5)]})
    assert refused == [50035, 50035, 50035]
    assert len(fake.messages(str(channel.id))) == 1


async def test_guild_button_click_by_member_with_closed_dms(fake_discord: FakeDiscord) -> None:
    fake_discord.add_user(ADA, "ada")
    fake_discord.add_user(BOB, "bob", dms_open=False)
    outcomes: list[str] = []

    class Starter(discord.Client):
        async def on_interaction(self, interaction: discord.Interaction) -> None:
            await interaction.response.defer(ephemeral=True)
            try:
                await interaction.user.send("Welcome to the interview")
                outcomes.append("dm")
            except discord.Forbidden as exc:
                outcomes.append(f"forbidden {exc.code}")
                await interaction.followup.send("Please open your DMs", ephemeral=True)

    client = Starter(intents=discord.Intents.default(), guild_ready_timeout=0.05)
    async with running_client(client, fake_discord):
        fake_discord.add_guild(GUILD, "Makers", [BOB], roles={"Mods": []}, locale="pt-BR")
        await fake_discord.wait_for(lambda: client.get_guild(int(GUILD)) is not None)
        guild = client.get_guild(int(GUILD))
        assert guild is not None
        assert guild.get_role(int(fake_discord.role_id(GUILD, "Mods"))) is not None
        channel = guild.get_channel(int(fake_discord.guild_channel_of(GUILD)))
        assert isinstance(channel, discord.TextChannel)
        view = discord.ui.View(timeout=None)
        view.add_item(discord.ui.Button(label="Start interview", custom_id="start"))
        post = await channel.send("Take part!", view=view)
        with pytest.raises(ValueError, match="not a member"):
            await fake_discord.click(ADA, str(post.id), "start")
        click = await fake_discord.click(BOB, str(post.id), "start")
        await fake_discord.wait_for(lambda: len(click.followups) == 1)
        assert click.payload["guild_locale"] == "pt-BR" and "member" in click.payload
    assert outcomes == ["forbidden 50007"]
    assert click.response_type == 6  # discord.py defers a component click as "update" unless thinking=True
    assert click.all_texts() == ["Please open your DMs"] and click.followups[0]["ephemeral"] is True
    dm = fake_discord.dm_channel_of(BOB)
    assert dm is not None and fake_discord.messages(dm) == []
    fake_discord.assert_no_spec_errors()


async def test_reconnect_request_and_invalidated_session(fake_discord: FakeDiscord) -> None:
    fake_discord.add_user(ADA, "ada")

    class QuickEcho(EchoClient):
        async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
            pass  # discord.py sleeps 5 s before a repeated IDENTIFY by default

    client = QuickEcho()
    async with running_client(client, fake_discord):
        await fake_discord.request_reconnect()
        await fake_discord.wait_for(lambda: fake_discord.gateway.stats.resumes == 1)
        await fake_discord.invalidate_sessions()
        await fake_discord.wait_for(lambda: fake_discord.gateway.stats.identifies == 2)
        await fake_discord.wait_for(lambda: client.is_ready())
        await fake_discord.user_sends_dm(ADA, "still there?")
        await fake_discord.wait_for(lambda: len(client.received) == 1)
    stats = fake_discord.gateway.stats
    assert stats.invalid_sessions == 1 and stats.resumes == 1


async def test_history_fetch_and_delete(fake_discord: FakeDiscord) -> None:
    fake_discord.add_user(ADA, "ada")
    deleted: list[int] = []

    class Watcher(discord.Client):
        async def on_raw_message_delete(self, payload: discord.RawMessageDeleteEvent) -> None:
            deleted.append(payload.message_id)

    client = Watcher(intents=discord.Intents.default(), guild_ready_timeout=0.05)
    async with running_client(client, fake_discord):
        await fake_discord.user_sends_dm(ADA, "one")
        channel = await (await client.fetch_user(int(ADA))).create_dm()
        two = await channel.send("two")
        await channel.send("three")
        assert [m.content async for m in channel.history(limit=10)] == ["three", "two", "one"]
        assert [m.content async for m in channel.history(limit=10, before=two)] == ["one"]
        fetched = await channel.fetch_message(two.id)
        assert fetched.content == "two" and fetched.author == client.user
        await fetched.delete()
        await fake_discord.wait_for(lambda: deleted == [two.id])
        with pytest.raises(discord.NotFound):
            await channel.fetch_message(two.id)
        [first] = [m async for m in channel.history(oldest_first=True, limit=1)]
        route = discord.http.Route(
            "PATCH", "/channels/{channel_id}/messages/{message_id}", channel_id=channel.id, message_id=first.id
        )
        with pytest.raises(discord.Forbidden):  # the bot cannot edit the user's message
            await client.http.request(route, json={"content": "hacked"})
        with pytest.raises(discord.Forbidden) as refused:  # nor delete it: nobody deletes another's DM message
            await first.delete()
        assert refused.value.code == 50003
    assert [m["content"] for m in fake_discord.messages(str(channel.id))] == ["one", "three"]
    assert [m["content"] for m in fake_discord.deleted_messages] == ["two"]
