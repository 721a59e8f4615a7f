"""``interview-bridge`` (also ``python -m bot``): run, demo, chat, emulator, doctor."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import logging
import os
import sys
import tempfile
from collections.abc import Coroutine, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from bot import __version__
from bot.config import Settings, explain
from bot.core.campaign_record import MAX_REMINDERS
from bot.core.i18n import Catalogue
from bot.logs import log_to_file
from bot.ops.logs import configure_logging
from bot.preflight import preflight, report

if TYPE_CHECKING:
    from adapters.terminal.chat import TerminalChat
    from bot.core.bridge import Bridge

log = logging.getLogger("bot.cli")


def chat_log(settings: Settings) -> Path:
    """The chat's log file (never in the middle of the chat): next to its SQLite file (``interview-bridge.log``),
    else (PostgreSQL) in the user's state folder."""
    if settings.database_url is not None and settings.database_url.get_secret_value().strip():
        folder = demo_folder().parent
        folder.mkdir(parents=True, exist_ok=True)
        return folder / "chat.log"
    return Path(settings.database_path).expanduser().with_suffix(".log")


def demo_folder() -> Path:
    """Where an interactive demo keeps its interviews, so a paused one (Ctrl-C) can be continued."""
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "interview-bridge" / "demo"


async def _chat(settings: Settings, study: str | None, name: str | None, command: str) -> int:
    from adapters.terminal.chat import PAUSED, TerminalChat
    from bot.app import open_bridge

    async with open_bridge(settings) as bridge:
        chat = TerminalChat(bridge, sys.stdin, sys.stdout, study=study, name=name, resume_command=command)
        status = await chat.run()
        if settings.uses_builtin_server() and status != PAUSED:
            await _print_summary(bridge, chat)
        return status


def readable(value: object, tr: Catalogue) -> str:
    """An answer as a person writes it: ``#introductions, #help-desk``, ``yes``, ``4``."""
    if isinstance(value, bool):
        return tr.gettext("yes") if value else tr.gettext("no")
    if isinstance(value, list):
        return ", ".join(readable(item, tr) for item in value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


async def _print_summary(bridge: Bridge, chat: TerminalChat) -> None:
    """After the demo: what the interview service made of it (the built-in server's analysis)."""
    record = await bridge.status(chat.key)
    if record is None:
        return
    details = None
    for _ in range(30):
        details = await bridge.client.get(record.interview_id)
        if details.analysis_status in ("completed", "failed", None) and details.status == "completed":
            break
        await asyncio.sleep(0.2)
    if details is None or not details.analysis:
        return
    analysis = details.analysis
    out = chat.adapter
    out.write("\n── What the interview service made of it " + "─" * 20 + "\n")
    if "quality_score" in analysis:
        out.write(f"Quality score: {analysis['quality_score']} / 5\n")
    for theme in analysis.get("themes", [])[:5]:
        name = theme.get("name", theme) if isinstance(theme, dict) else theme
        out.write(f"Theme: {name}\n")
    for answer in analysis.get("structured_answers", analysis.get("structuredAnswers", []))[:10]:
        if isinstance(answer, dict) and answer.get("structuredValue") is not None:
            shown = readable(answer["structuredValue"], chat.tr)
            out.write(f"  {answer.get('questionText', answer.get('questionId'))} → {shown}\n")


def _export(settings: Settings, study: str, file_format: str, out: str | None) -> int:
    from bot.app import export_study

    try:
        text = asyncio.run(export_study(settings, study, file_format))
    except ValueError as error:
        print(f"interview-bridge export: {error}", file=sys.stderr)
        return 2
    if out is None:
        sys.stdout.write(text)
    else:
        Path(out).write_text(text, encoding="utf-8", newline="")
        print(f"wrote {out}", file=sys.stderr)
    return 0


def _forget(settings: Settings, platform: str, workspace: str, user: str) -> int:
    from bot.app import forget_person

    if platform == "slack" and not workspace:
        print("interview-bridge forget: --workspace is needed for Slack (the T… id)", file=sys.stderr)
        return 2
    erasure = asyncio.run(forget_person(settings, platform, workspace, user))
    if erasure is None:
        print(f"Nothing is stored about {platform} user {user}: nothing to erase.")
        return 0
    counts = ", ".join(f"{kind}: {count}" for kind, count in sorted(erasure.removed.items()) if count)
    print(f"Erased everything stored about {platform} user {user} ({counts}).")
    if erasure.cards.waiting:
        print(
            f"{erasure.cards.waiting} results card(s) naming them wait for the running bot (interview-bridge run) to "
            "delete them from the results channel at its next housekeeping sweep."
        )
    print("Kept: one erasure-log entry (a salted hash of the person and today's date), so a re-import can be refused.")
    print("The interview service keeps its own copy (its API has no delete endpoint): ask its operator to remove it.")
    return 0


async def _emulator(args: argparse.Namespace) -> int:
    from bot.emulator import EmulatorConfig, serve_forever

    config = EmulatorConfig(
        brief=Path(args.brief) if args.brief else None,
        api_key=args.api_key,
        port=args.port,
        token_rate=args.token_rate,
        generation=args.generation,
    )
    try:
        await serve_forever(config)
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            print(
                report([f"emulator --port {args.port}: the port is in use (choose another, e.g. --port 0)"]),
                file=sys.stderr,
            )
            return 2
        raise
    return 0


def port_number(text: str) -> int:
    """``--port``: a TCP port, 0 (any free one) to 65535."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (0 to 65535)") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is out of range: a port is a number from 0 to 65535")
    return port


def build_parser() -> argparse.ArgumentParser:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="interview-bridge", description="AI-moderated interviews in Discord and Slack DMs."
    )
    parser.add_argument("--version", action="version", version=f"interview-bridge {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="run the configured adapters (Discord, Slack)")
    demo = commands.add_parser("demo", help="built-in interview server + terminal chat, no credentials")
    demo.add_argument("--token-rate", type=float, default=60.0, help="tokens per second the server streams")
    demo.add_argument("--name", default=None, help="the name the interviewer calls you (default: asked)")
    chat = commands.add_parser("chat", help="a terminal interview against the configured API")
    chat.add_argument("--study", default=None)
    chat.add_argument("--name", default=None, help="the name the interviewer calls you (default: asked)")
    emulator = commands.add_parser("emulator", help="serve the built-in Koji-compatible interview server")
    emulator.add_argument("--port", type=port_number, default=8765, help="0 to 65535 (0: any free port)")
    emulator.add_argument("--brief", default=None, help="research brief YAML (default: the sample brief)")
    emulator.add_argument("--api-key", default=None, help="the key it accepts (default: printed at start)")
    emulator.add_argument("--token-rate", type=float, default=40.0)
    emulator.add_argument("--generation", choices=("new", "old"), default="new", help="which API docs to speak")
    migrate = commands.add_parser(
        "migrate-store", help="copy every interview from one database to another (SQLite ⇄ PostgreSQL)"
    )
    migrate.add_argument(
        "--from", dest="source", required=True, help="sqlite:///file.db, a file path or postgresql://…"
    )
    migrate.add_argument("--to", dest="target", required=True, help="an empty database: postgresql://… or sqlite:///…")
    migrate.add_argument(
        "--erasures-from",
        action="append",
        default=[],
        metavar="DATABASE",
        help="also honour this database's erasure log (e.g. the live one, when restoring an older backup)",
    )
    backup = commands.add_parser("backup", help="an online, consistent copy of the SQLite database")
    backup.add_argument("file", help="the new backup file")
    backup.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    export = commands.add_parser("export", help="write a study's interviews as CSV or JSONL")
    export.add_argument("--study", required=True, help="the study's id (STUDIES_FILE; without one: default)")
    export.add_argument("--format", choices=("csv", "jsonl"), default="csv", dest="file_format")
    export.add_argument("--out", default=None, help="file to write (default: standard output)")
    invite = commands.add_parser("invite", help="record a Slack invitation campaign (the running bot sends it)")
    invite.add_argument("--study", required=True, help="the study's id")
    invite.add_argument("--usergroup", action="append", default=[], help="a user group id (S…); repeatable")
    invite.add_argument("--channel", action="append", default=[], help="a channel id (C…): its members; repeatable")
    invite.add_argument("--users", action="append", default=[], help="user ids, comma-separated (U1,U2)")
    invite.add_argument("--csv", default=None, dest="csv_file", help="a CSV file with an email column")
    most = range(0, MAX_REMINDERS + 1)
    invite.add_argument("--reminders", type=int, default=2, choices=most, help="at most this many (default 2)")
    invite.add_argument("--reminder-after", default="3d,5d", help="delays of the reminders (default 3d,5d)")
    campaign = commands.add_parser("campaign", help="invitation campaigns")
    campaign_commands = campaign.add_subparsers(dest="campaign_command", required=True)
    status = campaign_commands.add_parser("status", help="per-state counts of a study's invitees")
    status.add_argument("--study", required=True, help="the study's id")
    status.add_argument("--json", action="store_true", help="print JSON")
    forget = commands.add_parser("forget", help="erase everything stored about one person (an erasure request)")
    forget.add_argument("--platform", required=True, choices=("slack", "discord", "terminal"))
    forget.add_argument("--workspace", default="", help="the Slack workspace (team) id; Discord ids are global")
    forget.add_argument("--user", required=True, help="the person's platform user id")
    doctor = commands.add_parser("doctor", help="check the configuration and say what is missing")
    doctor.add_argument("--generate-key", action="store_true", help="print a new TOKEN_ENCRYPTION_KEY")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``interview-bridge`` command."""
    args = build_parser().parse_args(argv)
    try:
        settings = Settings()
    except ValidationError as error:  # values that do not parse or make no sense: one plain report, exit 2
        print(report(explain(error)), file=sys.stderr)
        return 2
    if args.command == "migrate-store":
        from bot.migrate_store import migrate_store

        configure_logging("WARNING")
        return migrate_store(args.source, args.target, erasures_from=args.erasures_from)
    if args.command == "doctor" and args.generate_key:
        from bot.doctor import doctor

        return doctor(settings, generate_key=True)
    if args.command == "backup":
        return _backup(settings, args.file, force=args.force)
    if args.command == "export":
        return _export(settings, args.study, args.file_format, args.out)
    problems = preflight(settings, args.command, getattr(args, "brief", None))
    if problems:
        print(report(problems), file=sys.stderr)
        return 2
    if args.command in ("invite", "campaign"):
        return _campaigns(settings, args)
    if args.command == "forget":
        return _forget(settings, args.platform, args.workspace, args.user)
    if args.command == "doctor":
        from bot.doctor import doctor

        return doctor(settings)
    if args.command == "demo":
        return _demo(settings, args)
    if args.command == "chat":
        log_to_file(settings.log_level, chat_log(settings))
        return _main_loop(_chat(settings, args.study, args.name, "interview-bridge chat"))
    configure_logging(settings.log_level, settings.log_format)
    if args.command == "emulator":
        return _main_loop(_emulator(args))
    from bot.service import main_loop

    return main_loop(settings)


def _campaigns(settings: Settings, args: argparse.Namespace) -> int:
    from bot.campaigns import InviteRequest, campaign_status, invite, parse_offsets

    configure_logging("WARNING")
    if args.command == "campaign":
        return asyncio.run(campaign_status(settings, args.study, args.json))
    try:
        offsets = parse_offsets(args.reminder_after)
    except ValueError as error:
        print(f"interview-bridge invite: --reminder-after: {error}", file=sys.stderr)
        return 2
    request = InviteRequest(
        study=args.study,
        usergroups=tuple(args.usergroup),
        channels=tuple(args.channel),
        users=tuple(u.strip() for chunk in args.users for u in chunk.split(",") if u.strip()),
        csv_file=args.csv_file,
        reminders=args.reminders,
        reminder_after=offsets,
    )
    return asyncio.run(invite(settings, request))


def _backup(settings: Settings, file: str, *, force: bool) -> int:
    """``interview-bridge backup FILE``: copy the SQLite database while the bot may be running."""
    from storage.backup import BackupError, backup_sqlite
    from storage.locations import is_postgres, sqlite_path

    location = settings.database_location()
    if is_postgres(location):
        print(
            "interview-bridge: DATABASE_URL is PostgreSQL: back it up with pg_dump (see docs/deploy.md)",
            file=sys.stderr,
        )
        return 2
    try:
        size = backup_sqlite(sqlite_path(location), file, overwrite=force)
    except (BackupError, ValueError) as error:
        print(f"interview-bridge: {error}", file=sys.stderr)
        return 1
    print(f"backed up {sqlite_path(location)} to {file} ({size} bytes, integrity ok)")
    return 0


def _demo(settings: Settings, args: argparse.Namespace) -> int:
    """The demo keeps its own database: a throwaway one over a pipe, a lasting one at a terminal (resumable)."""
    with contextlib.ExitStack() as stack:
        if sys.stdin.isatty():
            folder = demo_folder()
            folder.mkdir(parents=True, exist_ok=True)
        else:
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="interview-bridge-demo-")))
        log_to_file(settings.log_level, folder / "demo.log")
        demo_settings = settings.model_copy(
            update={
                "koji_api_key": None,
                "database_path": str(folder / "demo.db"),
                "database_url": None,
                "emulator_token_rate": args.token_rate,
            }
        )
        return _main_loop(_chat(demo_settings, None, args.name, "interview-bridge demo"))
    return 1


def _main_loop(coro: Coroutine[Any, Any, int]) -> int:
    with contextlib.suppress(KeyboardInterrupt):
        return int(asyncio.run(coro))
    return 130
