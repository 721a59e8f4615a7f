"""``python -m bot``: the same as the ``interview-bridge`` command."""

import sys

from bot.cli import main

sys.exit(main())
