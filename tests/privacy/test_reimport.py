"""The erasure log is consulted on re-import: ``interview-bridge migrate-store`` leaves out the rows of forgotten
people from before their erasure (an older backup restored brings nobody back), keeps what they did after it, says
how much it left out, and carries the erasure log into the target."""

from __future__ import annotations

from pathlib import Path

from bot.core.bridge import Bridge
from bot.core.clock import ManualClock
from bot.core.pseudonyms import Pseudonyms
from storage.locations import store_at
from tests.core.helpers import key_of
from tests.core.test_cli import _run

from .tables import containing, every_row
from .test_forget import OTHER_WORDS, WORDS, interview

GONE, STAYS = "U0GONE0001", "U0STAYS002"
LATER_WORDS = "I came back later: the new onboarding buddy helped"


def migrate(*args: str) -> str:
    result = _run(["migrate-store", *args], "")
    assert result.returncode == 0, result.stderr
    return result.stdout


async def test_a_restored_backup_brings_back_nobody_who_was_forgotten(
    bridge: Bridge, database: str, clock: ManualClock, tmp_path: Path
) -> None:
    await interview(bridge, GONE, WORDS)
    await interview(bridge, STAYS, OTHER_WORDS)
    backup = tmp_path / "backup.db"
    assert "left out nothing" in migrate("--from", database, "--to", str(backup))  # taken before the erasure
    clock.advance(3600)
    key = key_of(GONE)
    await bridge.privacy.forget(key.platform, key.workspace, GONE)
    clock.advance(3600)
    await interview(bridge, GONE, LATER_WORDS)  # they came back of their own accord

    restored = tmp_path / "restored.db"
    out = migrate("--from", str(backup), "--to", str(restored), "--erasures-from", database)
    assert "left out" in out and "of 1 people in the erasure log" in out, out
    assert "interviews 1" in out and "transcript" in out, out
    assert "the target's erasure log gained 1 entries" in out, out
    rows = await every_row(str(restored))
    assert containing(rows, GONE, WORDS) == {}, "nothing from before the erasure comes back"
    assert containing(rows, STAYS, OTHER_WORDS), "everyone else is restored"
    assert len(rows["erasures"]) == 1
    async with store_at(str(restored)) as store:  # the restored database still knows who was forgotten
        assert await Pseudonyms(store).erased_among(key.platform, key.workspace, [GONE, STAYS]) == {GONE}

    moved = tmp_path / "moved.db"
    out = migrate("--from", database, "--to", str(moved))
    assert "left out nothing" in out, out
    rows = await every_row(str(moved))
    assert containing(rows, LATER_WORDS) and containing(rows, GONE), "what they did after the erasure is theirs"
    assert containing(rows, WORDS) == {} and len(rows["erasures"]) == 1


async def test_without_the_live_erasure_log_a_backup_is_copied_whole(
    bridge: Bridge, database: str, tmp_path: Path
) -> None:
    """The source's own log: a backup taken after the erasure already lacks the person, and says nothing was
    left out; the option is what protects a restore of an older one."""
    await interview(bridge, GONE, WORDS)
    key = key_of(GONE)
    await bridge.privacy.forget(key.platform, key.workspace, GONE)
    out = migrate("--from", database, "--to", str(tmp_path / "copy.db"))
    assert "left out nothing" in out
    bad = _run(["migrate-store", "--from", database, "--to", str(tmp_path / "x.db"), "--erasures-from", "nope.db"], "")
    assert bad.returncode == 2 and "there is no SQLite file at nope.db" in bad.stderr
    assert not (tmp_path / "x.db").exists()
