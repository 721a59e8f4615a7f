"""Fixtures for the operations tests: the fake platforms of tests/discord and tests/slack are importable here.

Like tests/discord and tests/slack this folder has no ``__init__.py``; the fakes are imported as top-level
modules (``fake_discord``, ``fake_slack``), the helpers from ``ops_helpers``.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
for folder in (HERE.parent / "discord", HERE.parent / "slack"):
    if str(folder) not in sys.path:
        sys.path.append(str(folder))
