"""The built-in, Koji-compatible interview server: runs interviews from a YAML research brief."""

from bot.emulator.config import ALL_PERMISSIONS, EmulatorConfig, Faults
from bot.emulator.server import Emulator, run_emulator, serve_forever

__all__ = ["ALL_PERMISSIONS", "Emulator", "EmulatorConfig", "Faults", "run_emulator", "serve_forever"]
