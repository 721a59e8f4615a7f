"""The bench harness and the storage benchmark run end to end (tiny sizes: figures are not checked here)."""

from __future__ import annotations

import pytest

from bench import __main__ as harness
from bench import bench_storage


def test_storage_bench_produces_its_table(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("BENCH_INTERVIEWS", "3000")
    for name, value in {"SAMPLES": 50, "SWEEP_SAMPLES": 20, "TURN_SAMPLES": 10, "WARMUP": 5, "ROUNDS": 1}.items():
        monkeypatch.setattr(bench_storage, name, value)

    assert harness.main(["storage"]) == 0

    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == ["module", "metric", "value", "unit", "note"]
    body = "\n".join(table[2:])
    assert "populate 2,000 interviews" in body
    for operation in ("get_interview", "active_interview", "latest_interview", "interviews_of_user", "due_interviews"):
        assert f"storage  {operation} p50 @1k" in body
        assert f"storage  {operation} p50 @3k" in body
        assert f"sqlite-only {operation} p50 @3k" in body
    assert "p50 ratio" in body


def test_harness_lists_and_rejects_names(capsys: pytest.CaptureFixture[str]) -> None:
    assert "storage" in harness.available()
    assert harness.main(["no-such-bench"]) == 2
    assert "unknown benchmark" in capsys.readouterr().err


def test_values_are_formatted_for_reading() -> None:
    assert harness.format_value(1234567) == "1,234,567"
    assert harness.format_value(254.4) == "254"
    assert harness.format_value(51.06) == "51.1"
    assert harness.format_value(2.131) == "2.13"
    assert harness.format_value("n/a") == "n/a"
