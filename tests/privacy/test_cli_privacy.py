"""The operator's side: `interview-bridge forget` for an emailed request, `doctor` on anonymous studies."""

from __future__ import annotations

from pathlib import Path

from cryptography.fernet import Fernet

from bot.api.client import InterviewClient
from bot.core.bridge import Bridge
from bot.core.events import Exit, Start
from bot.core.keys import ConversationKey
from bot.emulator import Emulator
from storage.sqlite import SQLiteStore
from tests.core.conftest import CONFIG
from tests.core.helpers import respondent, say
from tests.core.recording import RecordingAdapter
from tests.core.test_cli import _run

from .conftest import BOOK
from .tables import containing, every_row
from .test_forget import WORDS

STUDIES = """
studies:
  - id: pulse
    name: Team pulse
    anonymous: true
"""


async def _seed(database: Path, client: InterviewClient, key: ConversationKey) -> None:
    store = SQLiteStore(database)
    await store.open()
    bridge = Bridge(client, store, CONFIG, studies=BOOK)
    adapter = RecordingAdapter()
    adapter.platform = key.platform
    bridge.register(adapter)
    await bridge.start()
    try:
        await bridge.handle(Start(key, respondent(key.user), "named"))
        await bridge.handle(Start(key, respondent(key.user), "named"))  # asked twice: still one consent record
        await bridge.privacy.consent.reply(key, agreed=True)
        await bridge.wait_until_idle(key)
        await say(bridge, key, WORDS)
        await bridge.handle(Exit(key, confirmed=True, actor=key.user))
    finally:
        await bridge.stop()
        await store.close()


async def test_the_operator_forgets_a_slack_user_by_workspace_and_id(
    tmp_path: Path, client: InterviewClient, emulator: Emulator
) -> None:
    database = tmp_path / "bot.db"
    key = ConversationKey("slack", "T0ACME", "D0DM1", "U0EMAILED")
    await _seed(database, client, key)
    assert containing(await every_row(str(database)), "U0EMAILED", WORDS)
    env = {"DATABASE_PATH": str(database)}
    result = _run(["forget", "--platform", "slack", "--workspace", "T0ACME", "--user", "U0EMAILED"], "", env)
    assert result.returncode == 0, result.stderr
    assert "Erased everything stored about slack user U0EMAILED" in result.stdout
    assert "keeps its own copy" in result.stdout
    rows = await every_row(str(database))
    assert containing(rows, "U0EMAILED", WORDS) == {} and len(rows["erasures"]) == 1
    again = _run(["forget", "--platform", "slack", "--workspace", "T0ACME", "--user", "U0EMAILED"], "", env)
    assert again.returncode == 0 and "Nothing is stored about slack user U0EMAILED" in again.stdout
    missing = _run(["forget", "--platform", "slack", "--user", "U0EMAILED"], "", env)
    assert missing.returncode == 2 and "--workspace" in missing.stderr


def test_doctor_warns_when_a_study_is_anonymous_but_encryption_is_off(tmp_path: Path) -> None:
    studies = tmp_path / "studies.yaml"
    studies.write_text(STUDIES, encoding="utf-8")
    env = {"DATABASE_PATH": str(tmp_path / "bot.db"), "STUDIES_FILE": str(studies)}
    plain = _run(["doctor"], "", env)
    assert "pulse is anonymous but encryption is off" in plain.stdout
    assert "purged after 180 days" in plain.stdout
    key = Fernet.generate_key().decode()
    encrypted = _run(["doctor"], "", {**env, "TOKEN_ENCRYPTION_KEY": key, "RETENTION_DAYS": "30"})
    assert "anonymous but encryption is off" not in encrypted.stdout
    assert "purged after 30 days" in encrypted.stdout


async def test_the_operator_forgets_a_discord_member_by_id_alone(
    tmp_path: Path, client: InterviewClient, emulator: Emulator
) -> None:
    database = tmp_path / "bot.db"
    await _seed(database, client, ConversationKey("discord", "", "1600000000000000001", "1500000000000000042"))
    env = {"DATABASE_PATH": str(database)}
    result = _run(["forget", "--platform", "discord", "--user", "1500000000000000042"], "", env)
    assert result.returncode == 0, result.stderr
    assert "Erased everything stored about discord user 1500000000000000042" in result.stdout
    rows = await every_row(str(database))
    assert containing(rows, "1500000000000000042", WORDS) == {} and len(rows["erasures"]) == 1
