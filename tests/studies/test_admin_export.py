"""Admin views of a study: the digest with one PNG chart per structured question, the CSV/JSONL export, pause."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import struct
import subprocess
import sys
from pathlib import Path

from bot.core.admin import AdminActor
from bot.core.bridge import Bridge
from bot.core.clock import ManualClock
from bot.core.events import OutcomeKind, Start
from bot.core.export import export_csv, export_jsonl
from bot.core.i18n import catalogue
from bot.core.store import AnalysisStatus
from bot.core.studies import StudyState
from bot.emulator import Emulator
from storage.sqlite import SQLiteStore
from tests.core.helpers import key_of, respondent
from tests.waiting import wait_until

from .conftest import TWO_STUDIES, ResultsRecorder
from .steps import finish_interview

TR = catalogue("en")


async def _three_analysed(
    bridge: Bridge, adapter: ResultsRecorder, clock: ManualClock, emulator: Emulator, study: str
) -> list[str]:
    ids = []
    for n in range(1, 4):
        interview_id = await finish_interview(bridge, adapter, key_of(f"{study}{n}"), study, n)
        done = lambda i=interview_id: emulator.interview(i).analysis_status == "completed"  # noqa: E731
        await wait_until(done, asyncio.Event(), 10.0, 0.02)
        clock.advance(15)
        await bridge.results.poll_due()
        ids.append(interview_id)
    return ids


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


async def test_the_digest_has_counts_themes_and_one_phone_sized_png_per_structured_question(
    bridge: Bridge, adapter: ResultsRecorder, clock: ManualClock, emulator: Emulator, tmp_path: Path
) -> None:
    await _three_analysed(bridge, adapter, clock, emulator, "onboarding")
    study = bridge.studies.get("onboarding")
    assert study is not None
    digest = await bridge.desk.digest(study, TR)
    assert digest.card is not None and digest.withheld is None
    fields = dict(digest.card.fields)
    assert fields["Started"] == "3" and fields["Completed"] == "3" and fields["Analysed"] == "3"
    assert "Mean quality" in fields and "Channel overload (3)" in fields["Themes (interviews mentioning them)"]
    assert fields["Completed by how they ended"] == "completed: 3"
    names = [chart.filename for chart in digest.charts]
    assert names == ["01-ease.png", "02-src.png", "03-use.png", "04-rank.png", "05-back.png"]
    for chart in digest.charts:
        assert _png_size(chart.content) == (900, 540)
        (tmp_path / chart.filename).write_bytes(chart.content)


async def test_an_anonymous_digest_is_withheld_below_min_responses(
    bridge: Bridge, adapter: ResultsRecorder, clock: ManualClock, emulator: Emulator
) -> None:
    await finish_interview(bridge, adapter, key_of("p1"), "pulse", 1)
    study = bridge.studies.get("pulse")
    assert study is not None
    digest = await bridge.desk.digest(study, TR)
    assert digest.card is None and digest.charts == ()
    assert digest.withheld == "“Team pulse” is anonymous: results appear once 3 interviews are analysed (0 so far)."


async def test_the_csv_has_a_column_per_question_a_row_per_interview_and_no_formulas(
    bridge: Bridge, adapter: ResultsRecorder, store: SQLiteStore, clock: ManualClock, emulator: Emulator
) -> None:
    ids = await _three_analysed(bridge, adapter, clock, emulator, "onboarding")
    # a fourth interview whose analysis (from the service, via the webhook route) holds formula-like text
    fourth = await finish_interview(bridge, adapter, key_of("evil"), "onboarding", 4)
    hostile = {
        "quality_score": 2,
        "themes": ["=HYPERLINK(\"http://x\")"],
        "structured_answers": [
            {"questionId": "src", "questionText": "Where did you hear of us?", "questionType": "single_choice",
             "structuredValue": "=1+2"},
            {"questionId": "use", "questionText": "Which do you use?", "questionType": "multiple_choice",
             "structuredValue": ["+cmd", "x"]},
            {"questionId": "ease", "questionText": "How easy was joining?", "questionType": "scale",
             "structuredValue": -1},
            {"questionId": "note", "questionText": "@Note", "questionType": "single_choice",
             "structuredValue": "@SUM(A1)"},
        ],
    }  # fmt: skip
    assert await bridge.results.land(fourth, AnalysisStatus.COMPLETED, hostile)
    study = bridge.studies.get("onboarding")
    assert study is not None
    text = await export_csv(store, study)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["interview_id"] for r in rows] == [*ids, fourth]
    questions = ["How easy was joining?", "Where did you hear of us?", "Which do you use?", "Rank these for us.",
                 "Would you come back?", "'@Note"]  # fmt: skip
    assert list(rows[0])[10:] == questions, "every structured question is its own column"
    assert rows[0]["Where did you hear of us?"] == "Reddit" and rows[0]["Would you come back?"] == "no"
    assert rows[0]["Rank these for us."] == "Fun, Speed, Price"
    evil = rows[3]
    assert evil["Where did you hear of us?"] == "'=1+2" and evil["Which do you use?"] == "'+cmd, x"
    assert evil["How easy was joining?"] == "'-1" and evil["themes"] == '\'=HYPERLINK("http://x")'
    assert evil["'@Note"] == "'@SUM(A1)"
    for row in rows:
        assert row["respondent"] and "onboarding" not in row["respondent"] and "evil" not in row["respondent"]
        assert row["end_reason"] == "natural" and row["platform"] == "test"
    assert text == await export_csv(store, study), "pseudonyms are stable"
    lines = [json.loads(line) for line in (await export_jsonl(store, study)).splitlines()]
    assert len(lines) == 4 and lines[0]["analysis"]["structured_answers"]
    assert [t["role"] for t in lines[0]["transcript"]][:2] == ["interviewer", "respondent"]


async def test_pause_takes_no_new_interviews_and_admins_are_who_the_file_says(
    bridge: Bridge, adapter: ResultsRecorder
) -> None:
    desk = bridge.desk
    assert desk.may_administer(AdminActor("slack", "U0ADMIN"))
    assert not desk.may_administer(AdminActor("slack", "U0OTHER"))
    assert desk.may_administer(AdminActor("discord", "1", manages_server=True))
    assert not desk.may_administer(AdminActor("discord", "1", groups=frozenset({"42"})))
    study = desk.find("pul", TR)
    assert not isinstance(study, str) and study.id == "pulse"
    assert desk.find("zzz", TR) == "There is no study called “zzz”. Studies: onboarding, pulse, archive."
    said = await desk.set_state(study, StudyState.PAUSED, TR)
    assert said == "“Team pulse” is paused: no new interviews; running ones can finish."
    outcome = await bridge.handle(Start(key_of("late"), respondent("late"), "pulse"))
    assert outcome.kind is OutcomeKind.REJECTED
    counts = await desk.counts(study)
    assert counts.state is StudyState.PAUSED and counts.started == 0


def test_the_export_command_writes_a_csv_file(tmp_path: Path) -> None:
    studies = tmp_path / "studies.yaml"
    studies.write_text(TWO_STUDIES, encoding="utf-8")
    out = tmp_path / "pulse.csv"
    env = {**os.environ, "STUDIES_FILE": str(studies), "DATABASE_PATH": str(tmp_path / "bot.db")}
    args = [sys.executable, "-m", "bot", "export", "--study", "pulse", "--format", "csv", "--out", str(out)]
    done = subprocess.run(args, capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert out.read_text().splitlines()[0].startswith("interview_id,study,platform,respondent,started_at")
    wrong = subprocess.run([*args[:5], "nope"], capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)
    assert wrong.returncode == 2 and "no study 'nope'" in wrong.stderr
