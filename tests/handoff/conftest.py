"""Fixtures of the handoff tests: the fake platforms are importable here.

Like tests/ops this folder has no ``__init__.py``; the fakes are imported as top-level modules, the helpers from
``handoff_helpers``.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
for folder in (HERE.parent / "discord", HERE.parent / "slack"):
    if str(folder) not in sys.path:
        sys.path.append(str(folder))
