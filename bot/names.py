"""Our top-level package names are generic; a host bot's own ``bot.py`` or ``storage`` package can hide them.

A discord.py bot is very often a script named ``bot.py`` run as ``python bot.py``, and may have a ``storage``
package of its own. Python searches the script's folder first, so ``import bot`` would find the host's script
instead of interview-bridge's ``bot`` package, and the extension would fail deep inside with
``'bot' is not a package``. :func:`claim` runs before our first import of such a name:

- the name resolves to our package: nothing to do;
- it resolves to the host's *running script* (``python bot.py``: nobody imports a running script by its file
  name, that would run it twice), so our package takes the name in ``sys.modules``, and everything works;
- anything else (the host's own ``storage`` package, or a ``bot`` module it imports): one clear sentence
  saying what to rename, as an :class:`ImportError`.

This module imports nothing of the project: ``adapters`` loads it by path before ``bot`` can be imported.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

__all__ = ["HOME", "HiddenPackage", "claim"]

#: The folder holding interview-bridge's top-level packages (``bot``, ``adapters``, ``storage``).
HOME = Path(__file__).resolve().parent.parent


class HiddenPackage(ImportError):
    """A module of the host bot hides one of interview-bridge's top-level packages."""


def claim(name: str) -> ModuleType:
    """Make ``import name`` give interview-bridge's package (see the module docstring); returns the package."""
    ours = HOME / name
    loaded = sys.modules.get(name)
    if loaded is not None:
        if _is_ours(loaded, ours):
            return loaded
        raise HiddenPackage(_sentence(name, getattr(loaded, "__file__", None)))
    spec = importlib.util.find_spec(name)
    if spec is not None and _origin_in(spec.origin, ours):
        return importlib.import_module(name)
    if spec is None or _is_running_script(spec.origin):
        return _load(name, ours)
    raise HiddenPackage(_sentence(name, spec.origin))


def _is_ours(module: ModuleType, ours: Path) -> bool:
    return any(Path(p).resolve() == ours for p in getattr(module, "__path__", None) or ())


def _origin_in(origin: str | None, ours: Path) -> bool:
    return origin is not None and Path(origin).resolve().parent == ours


def _is_running_script(origin: str | None) -> bool:
    script = getattr(sys.modules.get("__main__"), "__file__", None)
    return origin is not None and script is not None and Path(origin).resolve() == Path(script).resolve()


def _load(name: str, ours: Path) -> ModuleType:
    """Import our package ``name`` from ``ours`` although the search path finds something else first."""
    spec = importlib.util.spec_from_file_location(name, ours / "__init__.py", submodule_search_locations=[str(ours)])
    if spec is None or spec.loader is None:  # pragma: no cover - our own package is always there
        raise HiddenPackage(_sentence(name, None))
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def _sentence(name: str, where: str | None) -> str:
    found = f" ({where})" if where else ""
    return (
        f"interview-bridge needs the top-level name '{name}', but your project's '{name}'{found} takes it: "
        f"rename yours (for example to 'my_{name}') and its imports, then load the extension again."
    )
