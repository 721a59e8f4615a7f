"""A throwaway PostgreSQL server for the tests: the machine's own server binaries, a temp dir, a free port.

``initdb`` and ``pg_ctl`` are looked up on ``PATH``, then in ``pg_config --bindir``, then in
``/usr/lib/postgresql/*/bin`` (Debian and Ubuntu keep them there, off ``PATH``). PostgreSQL refuses to run as
root, so under root (CI) the server runs as the unprivileged ``postgres`` user. It listens on 127.0.0.1 only,
trusts local connections (nothing else can reach it) and skips fsync: it lives for one test session.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SUPERUSER = "bridge"
SERVER_USER = "postgres"
"""The OS user the server runs as when the tests run as root."""


class ServerUnavailable(RuntimeError):
    """No PostgreSQL server can be started here (the message says why, in one line)."""


def find_bindir() -> Path | None:
    """The folder holding ``initdb`` and ``pg_ctl``, or None."""
    candidates: list[Path] = []
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).parent)
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=True, timeout=30)
            candidates.append(Path(out.stdout.strip()))
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=_version_of, reverse=True)
    candidates.extend(versions)
    for folder in candidates:
        if (folder / "initdb").is_file() and (folder / "pg_ctl").is_file():
            return folder
    return None


def _version_of(bindir: Path) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in bindir.parent.name.split("."))
    except ValueError:
        return (0,)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class PostgresServer:
    """A running server; :meth:`dsn` names a database on it."""

    bindir: Path
    folder: Path
    port: int
    user: pwd.struct_passwd | None  # the OS user it runs as (None: the current one)

    def dsn(self, database: str = "postgres", **settings: str) -> str:
        """A ``postgresql://`` URL; ``settings`` become server settings of each connection (e.g. search_path)."""
        query = "&".join(f"{name}={value}" for name, value in settings.items())
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}" + (f"?{query}" if query else "")

    def _run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        kwargs: dict[str, object] = {}
        if self.user is not None:
            kwargs = {"user": self.user.pw_uid, "group": self.user.pw_gid, "extra_groups": []}
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", "HOME": str(self.folder)}
        return subprocess.run(
            [str(self.bindir / args[0]), *args[1:]],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            stdin=subprocess.DEVNULL,
            cwd=self.folder,
            check=False,
            **kwargs,  # type: ignore[call-overload]
        )

    @property
    def data(self) -> Path:
        return self.folder / "data"

    def start(self) -> None:
        """initdb, then pg_ctl start on a free port (a few tries: another process may take the port first)."""
        done = self._run("initdb", "-D", str(self.data), "-U", SUPERUSER, "--auth=trust", "-E", "UTF8",
                         "--locale=C", "--no-sync")  # fmt: skip
        if done.returncode != 0:
            raise ServerUnavailable(f"initdb failed: {_last_line(done)}")
        for _ in range(5):
            self.port = _free_port()
            options = (
                f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.folder} -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off -c max_connections=300"
            )
            log = self.folder / "server.log"
            done = self._run("pg_ctl", "-D", str(self.data), "-l", str(log), "-w", "-t", "120", "-o", options, "start")
            if done.returncode == 0:
                return
        raise ServerUnavailable(f"pg_ctl start failed: {_last_line(done)}")

    def stop(self) -> None:
        """Stop at once (nothing in it needs to survive) and remove the folder."""
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop", timeout=60)
        shutil.rmtree(self.folder, ignore_errors=True)


def _last_line(done: subprocess.CompletedProcess[str]) -> str:
    lines = (done.stderr or done.stdout or "").strip().splitlines()
    return lines[-1] if lines else f"exit status {done.returncode}"


@contextlib.contextmanager
def running_server() -> Iterator[PostgresServer]:
    """A started server, stopped and removed afterwards; raises :class:`ServerUnavailable` when there is none."""
    bindir = find_bindir()
    if bindir is None:
        raise ServerUnavailable(
            "PostgreSQL server binaries (initdb, pg_ctl) not found on PATH, in pg_config --bindir "
            "or in /usr/lib/postgresql/*/bin"
        )
    user: pwd.struct_passwd | None = None
    if os.geteuid() == 0:
        try:
            user = pwd.getpwnam(SERVER_USER)
        except KeyError:
            raise ServerUnavailable(
                f"running as root and there is no {SERVER_USER!r} user to run PostgreSQL as"
            ) from None
    folder = Path(tempfile.mkdtemp(prefix="interview-bridge-pg-"))
    if user is not None:
        os.chown(folder, user.pw_uid, user.pw_gid)
    server = PostgresServer(bindir, folder, 0, user)
    try:
        server.start()
        yield server
    finally:
        server.stop()
