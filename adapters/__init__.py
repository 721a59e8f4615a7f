"""Adapters translate platform events to neutral events and render replies, questions and notices.

Before anything here imports ``bot``, interview-bridge claims that generic name: a host bot run as
``python bot.py`` would otherwise hide our ``bot`` package (see :mod:`bot.names`, loaded by its path because
``import bot.names`` is exactly what may not work yet).
"""

import importlib.util as _util
from pathlib import Path as _Path


def _claim_bot() -> None:
    names = _Path(__file__).resolve().parent.parent / "bot" / "names.py"
    spec = _util.spec_from_file_location("_interview_bridge_names", names)
    if spec is None or spec.loader is None:  # pragma: no cover - installed with the project
        raise ImportError(f"interview-bridge is incompletely installed: {names} is missing")
    module = _util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.claim("bot")


_claim_bot()
