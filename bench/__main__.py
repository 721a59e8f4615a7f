"""``python -m bench [name ...]``: run the benchmarks and print one table.

Every ``bench/bench_<name>.py`` module has ``run() -> list[dict[str, object]]`` (or an async ``run``); each dict is
one row with ``metric``, ``value``, ``unit`` and an optional ``note``. With names (``python -m bench storage``) only
those modules run. A module that fails prints an error row, and the exit status is 1.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import inspect
import pkgutil
import sys
import time
import traceback
from collections.abc import Sequence
from pathlib import Path

COLUMNS = ("module", "metric", "value", "unit", "note")
PREFIX = "bench_"


def available() -> list[str]:
    """The benchmark names (``storage`` for ``bench/bench_storage.py``), sorted."""
    here = [str(Path(__file__).parent)]
    return sorted(m.name[len(PREFIX) :] for m in pkgutil.iter_modules(here) if m.name.startswith(PREFIX))


def run_module(name: str) -> list[dict[str, object]]:
    """Import ``bench.bench_<name>``, call its ``run()`` and tag each row with the module name."""
    module = importlib.import_module(f"bench.{PREFIX}{name}")
    result = module.run()
    if inspect.iscoroutine(result):
        result = asyncio.run(result)
    return [{"module": name, **row} for row in result]


def format_value(value: object) -> str:
    """Numbers with a sensible number of digits; anything else as text."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, int) or (value.is_integer() and abs(value) >= 1000):
        return f"{int(value):,}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def render(rows: Sequence[dict[str, object]]) -> str:
    """One aligned text table (values right-aligned)."""
    cells = [[format_value(row.get(c, "")) if c == "value" else str(row.get(c, "")) for c in COLUMNS] for row in rows]
    widths = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(COLUMNS)]

    def line(values: Sequence[str]) -> str:
        pairs = enumerate(zip(values, widths, strict=True))
        parts = [v.rjust(w) if COLUMNS[i] == "value" else v.ljust(w) for i, (v, w) in pairs]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(COLUMNS), rule, *(line(r) for r in cells)])


def main(argv: Sequence[str] | None = None) -> int:
    """Run the chosen benchmarks (all by default), print the table; 1 if any failed, 2 for an unknown name."""
    names = available()
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("names", nargs="*", help=f"benchmarks to run (default: all of {', '.join(names)})")
    args = parser.parse_args(argv)
    chosen = [n.removeprefix(PREFIX).removesuffix(".py") for n in args.names] or names
    unknown = [n for n in chosen if n not in names]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; available: {', '.join(names)}", file=sys.stderr)
        return 2

    rows: list[dict[str, object]] = []
    failed = False
    for name in chosen:
        print(f"running {name} …", file=sys.stderr, flush=True)
        started = time.perf_counter()
        try:
            rows.extend(run_module(name))
        except Exception as error:  # one broken benchmark must not hide the others' figures
            failed = True
            traceback.print_exc()
            rows.append({"module": name, "metric": "error", "value": "", "unit": "", "note": repr(error)})
        print(f"  {name} took {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
    print(render(rows))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
