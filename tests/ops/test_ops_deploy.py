"""The deploy files: compose.yaml is valid Compose, the Dockerfile's commands work on a fresh venv, and the
systemd unit passes ``systemd-analyze verify`` (where those tools exist here)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import jsonschema
import pytest
import yaml
from aiohttp import web

from tests.serving import serving

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
SCHEMA = Path(__file__).resolve().parent / "compose-spec" / "compose-spec.json"


# --- compose.yaml ---------------------------------------------------------------------------------------------


def compose_problems(document: object) -> list[str]:
    """What the Compose Specification's schema finds wrong with ``document`` (empty: valid)."""
    validator = jsonschema.Draft7Validator(json.loads(SCHEMA.read_text()))
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document)]


def test_compose_file_is_valid_compose(tmp_path: Path) -> None:
    text = (DEPLOY / "compose.yaml").read_text()
    compose = yaml.safe_load(text)
    assert compose_problems(compose) == []
    if shutil.which("docker") and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        shutil.copytree(DEPLOY, tmp_path / "deploy")
        (tmp_path / ".env").write_text("POSTGRES_PASSWORD=x\n")
        checked = subprocess.run(
            ["docker", "compose", "-f", str(tmp_path / "deploy" / "compose.yaml"), "--profile", "postgres", "config"],
            capture_output=True, text=True,
        )  # fmt: skip
        assert checked.returncode == 0, checked.stderr

    bot = compose["services"]["bot"]
    assert bot["restart"] == "unless-stopped" and bot["stop_signal"] == "SIGTERM"
    assert "/readyz" in " ".join(bot["healthcheck"]["test"])
    assert bot["env_file"][0]["path"] == "../.env"
    assert bot["build"] == {"context": "..", "dockerfile": "deploy/Dockerfile"}
    assert any(volume.endswith(":/data") for volume in bot["volumes"])
    assert all(port.startswith("127.0.0.1:") for port in bot["ports"])  # operations stay off public interfaces
    assert compose["services"]["postgres"]["profiles"] == ["postgres"]
    assert not re.search(r"(TOKEN|SECRET|KEY)\s*:\s*\S", text), "secrets come from .env, never from the file"


def test_the_schema_check_catches_a_broken_compose_file() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    compose["services"]["bot"]["restart_policy"] = "always"  # not a Compose key
    compose["services"]["bot"]["volumes"] = "bot-data:/data"  # must be a list
    problems = compose_problems(compose)
    assert any("restart_policy" in p for p in problems) and any("volumes" in p for p in problems)


# --- Dockerfile -----------------------------------------------------------------------------------------------


def instructions(path: Path) -> list[tuple[str, str]]:
    """The Dockerfile as (INSTRUCTION, arguments), continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n\s*", " ", path.read_text())
    found = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            found.append((word.upper(), rest.strip()))
    return found


def test_dockerfile_shape() -> None:
    steps = instructions(DEPLOY / "Dockerfile")
    words = [word for word, _ in steps]
    assert words.count("FROM") == 2 and "COPY" in words  # multi-stage
    args = dict(rest.split("=", 1) for word, rest in steps if word == "ARG" and "=" in rest)
    assert args["PYTHON_IMAGE"].startswith("python:3.11-slim")
    final = words[len(words) - 1 - words[::-1].index("FROM") :]
    user = [rest for word, rest in steps[len(steps) - len(final) :] if word == "USER"]
    assert user == ["interview-bridge"]  # the running stage is not root
    assert ("STOPSIGNAL", "SIGTERM") in steps
    assert any(word == "HEALTHCHECK" and "/readyz" in rest for word, rest in steps)
    assert ("VOLUME", '["/data"]') in steps
    assert ("COPY", "requirements.lock ./") in steps
    assert ("CMD", '["interview-bridge", "run"]') in steps


def docker_runs() -> list[str]:
    """The build stage's RUN commands."""
    return [rest for word, rest in instructions(DEPLOY / "Dockerfile") if word == "RUN" and "/opt/venv" in rest]


def test_dockerfile_installs_exactly_as_the_makefile_does() -> None:
    makefile = (ROOT / "Makefile").read_text()
    recipe = [line.strip() for line in makefile.split("$(STAMP):", 1)[1].splitlines()[1:6]]
    made = [line.replace("$(PYTHON)", "python").replace("$(VENV)", "/opt/venv").replace("$(BIN)", "/opt/venv/bin")
            for line in recipe if "venv" in line or "pip install" in line]  # fmt: skip
    made = [line.replace(" -e .", " .") for line in made]  # the image installs the project, not a link to it
    assert docker_runs() == made


@pytest.fixture
async def readyz_server() -> AsyncIterator[tuple[str, dict[str, int]]]:
    """A stand-in for the bot's /readyz whose status the test sets."""
    state = {"status": 200}

    async def readyz(request: web.Request) -> web.Response:
        return web.json_response({}, status=state["status"])

    app = web.Application()
    app.router.add_get("/readyz", readyz)
    async with serving(app) as base:
        yield base, state


@pytest.mark.timeout(900)
@pytest.mark.skipif(
    not (os.environ.get("CI") or os.environ.get("OPS_FRESH_VENV")),
    reason="installs every pinned package into a fresh venv (minutes): runs in CI (CI=true) or with OPS_FRESH_VENV=1",
)
async def test_dockerfile_commands_on_a_fresh_venv(tmp_path: Path, readyz_server: tuple[str, dict[str, int]]) -> None:
    """The RUN commands build a working venv; CMD starts the bot; HEALTHCHECK follows /readyz."""
    source = tmp_path / "src"
    source.mkdir()
    for name in ("requirements.lock", "pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    for package in ("bot", "adapters", "storage"):
        shutil.copytree(ROOT / package, source / package, ignore=shutil.ignore_patterns("__pycache__"))
    venv = tmp_path / "venv"
    for command in docker_runs():
        argv = [part.replace("/opt/venv", str(venv)) for part in shlex.split(command)]
        if argv[0] == "python":
            argv[0] = sys.executable
        done = await asyncio.to_thread(subprocess.run, argv, cwd=source, capture_output=True, text=True, timeout=800)
        assert done.returncode == 0, f"{command}\n{done.stderr[-3000:]}"

    env = {"PATH": f"{venv / 'bin'}", "HOME": str(tmp_path), "DATABASE_PATH": str(tmp_path / "bot.db")}
    cmd = json.loads(dict(instructions(DEPLOY / "Dockerfile"))["CMD"])
    ran = await asyncio.to_thread(subprocess.run, cmd, cwd=tmp_path, env=env, capture_output=True, text=True)
    assert ran.returncode == 2 and "No platform is configured" in ran.stderr  # the installed bot runs and says why
    demo = await asyncio.to_thread(
        subprocess.run, [str(venv / "bin" / "interview-bridge"), "demo", "--token-rate", "5000"],
        input="I joined last week\nexit\nyes\n", cwd=tmp_path, env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert demo.returncode == 0 and "Interviewer:" in demo.stdout, demo.stderr  # package data (briefs, locales) too

    healthcheck = dict(instructions(DEPLOY / "Dockerfile"))["HEALTHCHECK"]
    probe = json.loads(healthcheck.split(" CMD ", 1)[1])
    base, state = readyz_server
    port = base.rsplit(":", 1)[1]
    for status, expected in ((200, 0), (503, 1)):
        state["status"] = status
        checked = await asyncio.to_thread(subprocess.run, probe, env={**env, "HTTP_PORT": port}, capture_output=True)
        assert checked.returncode == expected, checked.stderr


# --- systemd ----------------------------------------------------------------------------------------------------


def test_systemd_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    unit_text = (DEPLOY / "interview-bridge.service").read_text()
    assert "Restart=on-failure" in unit_text and "NoNewPrivileges=yes" in unit_text
    assert "ProtectSystem=strict" in unit_text and "ReadWritePaths=/var/lib/interview-bridge" in unit_text
    assert "EnvironmentFile=/etc/interview-bridge/env" in unit_text
    analyze = shutil.which("systemd-analyze")
    units = Path("/usr/lib/systemd/system")
    if analyze is None or not units.is_dir():
        pytest.skip("systemd-analyze is not installed here")
    root = tmp_path / "root"  # a root where the unit's program exists, with the system's own targets
    shutil.copytree(units, root / "usr/lib/systemd/system", symlinks=True)
    program = root / "opt/interview-bridge/bin/interview-bridge"
    program.parent.mkdir(parents=True)
    program.write_text("#!/bin/sh\n")
    program.chmod(0o755)

    def verify(text: str) -> str:
        (root / "etc/systemd/system").mkdir(parents=True, exist_ok=True)
        (root / "etc/systemd/system/interview-bridge.service").write_text(text)
        done = subprocess.run(
            [analyze, "verify", "--man=no", f"--root={root}", "/etc/systemd/system/interview-bridge.service"],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        return (done.stdout + done.stderr).strip() + ("" if done.returncode == 0 else f"\nrc={done.returncode}")

    assert verify(unit_text) == ""
    assert "Unknown key" in verify(unit_text.replace("Restart=on-failure", "Restart=on-failure\nRestarts=3"))
