"""The labelled folder on disk, without a page: what a crash, a restart and a name clash leave.

Decisions must be on disk when ``decide`` returns, a crash between linking into the class folder
and removing the top-level name is finished at the next start, undo survives a restart, and a
same-named file in a class folder is never replaced.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest
from modelplane_inference.label.store import JOURNAL, LabelStore, StoreError
from modelplane_inference.label.tasks import LabelClass, Suggestion, Task, TaskError, make_task
from PIL import Image

TASK = Task(
    kind="gate",
    endpoint="car-claims",
    repository_model="quality-gate",
    classes=(LabelClass("accept", "accept", "1"), LabelClass("blurred", "reject/blurred", "2")),
    suggest=lambda answer: Suggestion(None, 0.0, ""),
)


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    for name, colour in (("a.jpg", "red"), ("b.png", "blue"), ("c.jpg", "green")):
        Image.new("RGB", (8, 8), colour).save(tmp_path / name)
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8 not really")
    Image.new("RGB", (8, 8)).save(tmp_path / "scan.tiff")
    return tmp_path


def test_decisions_survive_a_restart_and_undo_across_it(folder: Path) -> None:
    store = LabelStore(folder, TASK)
    assert sorted(store.pending) == ["a.jpg", "b.png", "c.jpg"]
    assert {s["file"] for s in store.skipped} == {"broken.jpg", "scan.tiff"}
    assert "not shown by browsers" in next(
        s["reason"] for s in store.skipped if s["file"] == "scan.tiff"
    )
    store.decide([("a.jpg", "accept")])
    store.decide([("b.png", "blurred"), ("c.jpg", "accept")])  # one batch
    assert (folder / "reject" / "blurred" / "b.png").is_file()

    again = LabelStore(folder, TASK)  # a new session on the same folder
    assert again.pending == {}
    assert (again.counts["accept"], again.counts["blurred"]) == (2, 1)
    assert sorted(again.undo()) == ["b.png", "c.jpg"]  # the whole last batch
    assert sorted(again.pending) == ["b.png", "c.jpg"]
    assert not (folder / "reject" / "blurred" / "b.png").exists()
    assert LabelStore(folder, TASK).undo() == ["a.jpg"]


def test_a_crash_between_link_and_unlink_is_finished_at_start(folder: Path) -> None:
    store = LabelStore(folder, TASK)
    store.decide([("a.jpg", "accept")])
    os.link(folder / "accept" / "a.jpg", folder / "a.jpg")  # as if unlink never ran
    restarted = LabelStore(folder, TASK)
    assert "a.jpg" not in restarted.pending
    assert not (folder / "a.jpg").exists()
    assert (folder / "accept" / "a.jpg").is_file()


def test_same_name_is_never_replaced(folder: Path) -> None:
    (folder / "accept").mkdir()
    (folder / "accept" / "a.jpg").write_bytes(b"earlier")
    (folder / "accept" / "a-1.jpg").write_bytes(b"earlier too")
    store = LabelStore(folder, TASK)
    assert store.counts["accept"] == 2
    [decision] = store.decide([("a.jpg", "accept")])
    assert decision.dest == "accept/a-2.jpg"
    assert (folder / "accept" / "a.jpg").read_bytes() == b"earlier"
    with pytest.raises(StoreError, match="not an unlabelled image"):
        store.decide([("a.jpg", "accept")])
    with pytest.raises(StoreError, match="unknown class"):
        store.decide([("b.png", "sharp")])
    assert (folder / JOURNAL).is_file()


def test_the_page_server_imports_no_torch() -> None:
    """The labelling page runs where the inference extra is installed: no torch there."""
    code = (
        "import sys, modelplane_inference.cli, modelplane_inference.label.server;"
        "print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("model", ["car-claims", "pet-premium", "breed"])
def test_classes_come_from_the_repository(model: str, repository: Path) -> None:
    task = make_task(model, repository)
    labels_of = "quality-gate" if model == "car-claims" else "breed"
    labels = (repository / labels_of / "labels.txt").read_text(encoding="utf-8").split()
    if model == "car-claims":
        expected = [("accept", "accept"), *((r, f"reject/{r}") for r in labels)]
    else:
        reasons = repository / "breed" / "reasons.txt"
        labels += reasons.read_text(encoding="utf-8").split() if reasons.is_file() else []
        expected = [(b, b) for b in labels]
    assert [(c.name, c.folder) for c in task.classes] == expected
    assert len({c.key for c in task.classes}) == len(task.classes)


def test_a_repository_without_the_model_is_named(tmp_path: Path) -> None:
    with pytest.raises(TaskError, match="quality-gate"):
        make_task("car-claims", tmp_path)
    with pytest.raises(TaskError, match="--model must be one of"):
        make_task("documents", tmp_path)


def test_the_page_loads_nothing_from_outside() -> None:
    """Air-gapped laptops: no script, style, font or image from another origin."""
    page = resources.files("modelplane_inference.label").joinpath("static/index.html")
    html = page.read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//|url\(\s*["']?(https?:)?//""", html)
    assert not re.search(r"@import|<link\b", html)
