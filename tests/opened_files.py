"""Which files a block of code opens: a Python audit hook, for the held-out guards.

A figure measured on a file the build trained on, or the rules were tuned on, is worthless;
the guards run the training or tuning code for real inside ``recording()`` and compare what it
opened with ``models/data/HELDOUT.sha256``. Audit hooks cannot be removed, so one hook is
installed once and records only inside the block.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_OPENED: list[Path] | None = None


def _audit(event: str, args: tuple[object, ...]) -> None:
    if _OPENED is not None and event == "open" and isinstance(args[0], (str, Path)):
        _OPENED.append(Path(args[0]))


sys.addaudithook(_audit)


@contextmanager
def recording() -> Iterator[list[Path]]:
    """Every path opened inside the block (``open``, ``Path.read_*``; not C libraries)."""
    global _OPENED
    _OPENED = []
    try:
        yield _OPENED
    finally:
        _OPENED = None
