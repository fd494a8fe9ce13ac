"""The labelled folder: unlabelled images at the top of DIR, decisions moved into class folders.

Each decision is on disk when the request returns: the file is hard-linked into its class folder
(``os.link`` fails rather than replace a same-named file, so a clash gets a ``-1``, ``-2`` suffix),
the decision is appended to a journal (``DIR/.modelplane-label.jsonl``, fsynced), and only then is
the top-level name removed. A crash therefore loses at most the image on screen; a crash between
link and unlink is finished at the next start. The journal also gives undo across reloads.
"""

from __future__ import annotations

import json
import os
import threading
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image, UnidentifiedImageError

from modelplane_inference.errors import StoreError
from modelplane_inference.label.tasks import Task

JOURNAL = ".modelplane-label.jsonl"
# What a browser shows; anything else Pillow opens is listed as skipped with its format.
SHOWN_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif",
                 "WEBP": "image/webp", "BMP": "image/bmp"}  # fmt: skip


@dataclass(frozen=True)
class Decision:
    """One image moved from ``source`` to ``dest`` (relative to DIR), in a batch of decisions."""

    image: str
    label: str
    dest: str
    batch: str


def probe(path: Path) -> tuple[str | None, str | None]:
    """(content type, None) for an image a browser shows, else (None, why it is skipped)."""
    try:
        with Image.open(path) as image:
            fmt = image.format or "unknown"
    except UnidentifiedImageError:
        return None, "not an image (no known image format)"
    except OSError as exc:
        return None, f"cannot be read: {exc}"
    if fmt not in SHOWN_FORMATS:
        return None, f"{fmt} images are not shown by browsers"
    return SHOWN_FORMATS[fmt], None


class LabelStore:
    """The unlabelled images of ``root``, the per-class counts and the undo stack."""

    def __init__(self, root: Path, task: Task) -> None:
        self.root = root
        self.task = task
        self.journal = root / JOURNAL
        self.lock = threading.Lock()
        self.pending: dict[str, str] = {}  # image name -> content type
        self.skipped: list[dict[str, str]] = []
        self.history: list[Decision] = []
        self.counts: Counter[str] = Counter()
        self._replay()
        self._scan()

    def _scan(self) -> None:
        for path in sorted(self.root.iterdir()):
            if not path.is_file() or path.name.startswith("."):
                continue
            content_type, reason = probe(path)
            if content_type is None:
                self.skipped.append({"file": path.name, "reason": reason or "skipped"})
            else:
                self.pending[path.name] = content_type
        for cls in self.task.classes:
            folder = self.root / cls.folder
            if folder.is_dir():
                self.counts[cls.name] = sum(1 for p in folder.iterdir() if p.is_file())

    def _replay(self) -> None:
        """Rebuild the undo stack from the journal; finish a move a crash interrupted."""
        if not self.journal.is_file():
            return
        for line in self.journal.read_text(encoding="utf-8").splitlines():
            entry = json.loads(line)
            if entry["op"] == "decide":
                self.history.append(Decision(**entry["decision"]))
            elif entry["op"] == "undo":
                undone = Decision(**entry["decision"])
                self.history = [d for d in self.history if d != undone]
        self.history = [d for d in self.history if (self.root / d.dest).is_file()]
        for decision in self.history:
            source = self.root / decision.image
            if source.is_file() and os.path.samefile(source, self.root / decision.dest):
                source.unlink()

    def _append(self, entry: dict[str, Any]) -> None:
        with self.journal.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry, ensure_ascii=False) + "\n")
            handle.flush()
            os.fsync(handle.fileno())

    def decide(self, choices: list[tuple[str, str]]) -> list[Decision]:
        """Move each (image, class) into the class folder; one batch, undone together."""
        batch = uuid.uuid4().hex[:8]
        done: list[Decision] = []
        with self.lock:
            for image, label in choices:
                if image not in self.pending:
                    raise StoreError(f"{image!r} is not an unlabelled image of {self.root}")
                try:
                    folder = self.task.by_name(label).folder
                except KeyError:
                    raise StoreError(f"unknown class {label!r}") from None
                dest = _link_free(self.root / image, self.root / folder)
                decision = Decision(image, label, str(dest.relative_to(self.root)), batch)
                self._append({"op": "decide", "decision": vars(decision)})
                (self.root / image).unlink()
                del self.pending[image]
                self.history.append(decision)
                self.counts[label] += 1
                done.append(decision)
        return done

    def undo(self) -> list[str]:
        """Put the last batch of decisions back at the top of DIR; returns the images."""
        with self.lock:
            if not self.history:
                return []
            batch = self.history[-1].batch
            restored: list[str] = []
            while self.history and self.history[-1].batch == batch:
                decision = self.history[-1]
                source = _link_free(self.root / decision.dest, self.root, decision.image)
                self._append({"op": "undo", "decision": vars(decision)})
                (self.root / decision.dest).unlink()
                self.history.pop()
                self.counts[decision.label] -= 1
                self.pending[source.name] = probe(source)[0] or "application/octet-stream"
                restored.append(source.name)
            return restored


def _link_free(source: Path, folder: Path, name: str | None = None) -> Path:
    """Hard-link ``source`` into ``folder`` under ``name`` (default its own), adding ``-1``,
    ``-2``, ... when that name is taken: an existing file is never replaced."""
    folder.mkdir(parents=True, exist_ok=True)
    stem, suffix = os.path.splitext(name or source.name)
    for attempt in range(10_000):
        dest = folder / (f"{stem}-{attempt}{suffix}" if attempt else f"{stem}{suffix}")
        try:
            os.link(source, dest)
        except FileExistsError:
            continue
        return dest
    raise StoreError(f"no free name for {source.name} in {folder}")
