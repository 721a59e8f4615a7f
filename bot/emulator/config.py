"""Settings of the built-in interview server and its fault knobs."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

Generation = Literal["new", "old"]

ALL_PERMISSIONS = frozenset({"interview:start", "interview:chat", "interview:complete", "interview:read"})


@dataclass
class Faults:
    """Faults for tests and benchmarks. Mutable while the server runs (``emu.faults.latency = 0.2``)."""

    latency: float = 0.0  # seconds added before every response
    token_rate: float = 40.0  # streamed tokens per second (0: as fast as possible)
    error_rate: float = 0.0  # share of requests answered 503 before anything is done
    cut_stream_after_chars: int | None = None  # cut every reply stream after this many characters
    error_event_after_chars: int | None = None  # end every reply stream with an error event after N chars
    drop_after_accept: int = 0  # the next N messages are accepted, then the connection closes with no reply
    force_429: int = 0  # the next N requests get 429
    force_429_retry_after: float = 1.0
    generation: Generation = "new"  # "old": /messages only, Retry-After, roles assistant/user
    message_reply: Literal["sse", "json"] = "sse"  # new generation: SSE, or the overview's JSON reply
    sse_style: Literal["named", "typed", "raw"] = "named"  # event names / unnamed typed JSON / raw text
    send_status: bool = True  # False: no status event (the client must ask GET)
    final_blank_line: bool = True  # False: the last event ends without a blank line
    body_field: Literal["any", "content", "message"] = "any"  # which request field holds the text
    #: Routes that answer a framework 404 as if they did not exist, named as registered under
    #: ``/api/v1/interviews``: ``/{id}/message``, ``/{id}/messages``, ``/{id}/complete``, ``/messages``,
    #: ``/complete``; and ``/api/interview/complete``.
    missing_routes: tuple[str, ...] = ()
    error_style: Literal["coded", "described"] = "coded"  # {"error": code, "message"} or {"error": "<text>"}
    fail_analysis: bool = False


@dataclass
class EmulatorConfig:
    """How to run the built-in server. ``brief=None`` uses the sample brief; ``api_key=None`` generates one."""

    brief: Path | None = None
    api_key: str | None = field(default=None, repr=False)  # secrets stay out of reprs and logs
    token_rate: float = 40.0
    host: str = "127.0.0.1"
    port: int = 0
    generation: Generation = "new"
    webhook_url: str | None = None
    webhook_secret: str | None = field(default=None, repr=False)
    webhook_signature: Literal["sha256", "hex"] = "sha256"
    webhook_max_attempts: int = 5
    webhook_backoff: float = 1.0
    rate_limit: int = 60
    rate_window: float = 60.0
    analysis_delay: float = 0.2
    latency: float = 0.0
    error_rate: float = 0.0
    seed: int | None = None
    #: A SQLite file that keeps the interviews (and the generated API key) across restarts; None: memory only.
    database: Path | None = None
    #: More API keys and their permissions (e.g. a read-only key for 403 tests).
    extra_keys: dict[str, frozenset[str]] = field(default_factory=dict, repr=False)

    def faults(self) -> Faults:
        """The initial fault knobs."""
        return Faults(
            latency=self.latency, token_rate=self.token_rate, error_rate=self.error_rate, generation=self.generation
        )
