"""What a build read, for ``build.json``'s ``data``: the real sets, the generators, a user's folder.

Measured, not declared: a Python audit hook sees every file the builder opens while it runs, so
the record follows the training code as it changes (a list written next to it would drift, as
the old ``"data": "synthetic"`` did once the models trained on ``models/data``). Opened files are
grouped by data set (the folder under ``models/data`` that holds its ``PROVENANCE.md``) and pile
(``train``, ``develop``, ``heldout``, ...); a file listed in ``models/data/HELDOUT.sha256`` was only
scored, so its pile goes under ``evaluated_on``, every other one under ``trained_on``. Generators
are the builder's ``synth.*`` source modules (drawn data: whole training sets or augmentation).
Audit hooks cannot be removed, so one is installed on first use and records only inside
:func:`recording`; files opened by C libraries (OpenCV, ONNX Runtime) are not seen.
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from . import real_photos

DATA = real_photos.DATA
ROOT = DATA.parents[1]
PROVENANCE_FILE = "PROVENANCE.md"
_opened: list[Path] | None = None
_hooked = False


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if _opened is not None and event == "open" and isinstance(args[0], (str, Path)):
        _opened.append(Path(os.path.abspath(args[0])))


@contextmanager
def recording() -> Iterator[list[Path]]:
    """Every path (made absolute) opened inside the block: ``open``, ``Path.read_*``, PIL; also
    what the held-out guards compare with ``models/data/HELDOUT.sha256``."""
    global _opened, _hooked
    if not _hooked:
        sys.addaudithook(_audit)
        _hooked = True
    _opened = []
    try:
        yield _opened
    finally:
        _opened = None


def _set_and_pile(path: Path) -> tuple[Path, str] | None:
    """(the data set folder: the nearest one up with a PROVENANCE.md, the pile below it)."""
    for folder in path.parents:
        if folder == DATA or DATA not in folder.parents:
            return None
        if (folder / PROVENANCE_FILE).is_file():
            below = path.relative_to(folder).parts
            return folder, below[0] if len(below) > 1 else "."
    return None


def _piles(files: Iterable[Path]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(trained on, evaluated on): one entry per data set and pile, with its file count."""
    trained: Counter[tuple[Path, str]] = Counter()
    evaluated: Counter[tuple[Path, str]] = Counter()
    heldout = real_photos.heldout_hashes()
    for path in files:
        found = _set_and_pile(path)
        if found is not None:
            counter = evaluated if real_photos.sha256(path) in heldout else trained
            counter[found] += 1

    def entries(counts: Counter[tuple[Path, str]]) -> list[dict[str, Any]]:
        return [
            {
                "set": folder.relative_to(ROOT).as_posix(),
                "pile": pile,
                "files": n,
                "provenance": (folder / PROVENANCE_FILE).relative_to(ROOT).as_posix(),
            }
            for (folder, pile), n in sorted(counts.items())
        ]

    return entries(trained), entries(evaluated)


def record(opened: Iterable[Path], sources: Iterable[str], folder: Path | None) -> dict[str, Any]:
    """``build.json``'s ``data``: a user's ``folder`` (None: the repository's own data), the
    real data sets and piles trained and evaluated on, the generator modules, and one line."""
    under = sorted({p for p in opened if DATA in p.parents})
    trained, evaluated = _piles(p for p in under if p.is_file())
    generators = sorted(f"modelplane_models.{s}" for s in sources if s.startswith("synth."))
    return {
        "folder": str(folder) if folder else None,
        "trained_on": trained,
        "evaluated_on": evaluated,
        "generators": generators,
        "summary": summary(trained, generators, folder),
    }


def summary(trained: list[dict[str, Any]], generators: list[str], folder: Path | None) -> str:
    """The record in one line, for logs and model cards."""
    parts = [f"a user's folder, {folder}"] if folder else []
    parts += [f"{t['set']}/{t['pile']} ({t['files']} files)" for t in trained]
    if generators:
        parts.append("generated: " + ", ".join(g.rsplit(".", 1)[-1] for g in generators))
    return "; ".join(parts) or "nothing trained here (pretrained weights only)"


def user_folder(build: dict[str, Any]) -> str | None:
    """The user's folder a recorded build trained on, if any (a ``build.json`` written before
    this record held the folder, or "synthetic", as a plain string)."""
    data = build.get("data")
    if isinstance(data, dict):
        folder = data.get("folder")
        return str(folder) if folder else None
    return data if isinstance(data, str) and data != "synthetic" else None
