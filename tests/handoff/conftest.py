"""Fixtures of the handoff tests: the fake platforms and the operations helpers are importable here.

Like tests/ops this folder has no ``__init__.py``; the fakes are imported as top-level modules.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
for folder in (HERE.parent / "discord", HERE.parent / "slack", HERE.parent / "ops"):
    if str(folder) not in sys.path:
        sys.path.append(str(folder))
