"""Key presses, wrong labels left and page speed of the label page: ``python tests/label/measure.py
--photos DIR``.

DIR holds photos of known class in the folders the page writes (``accept/``, ``reject/<reason>/``
for car-claims; ``<breed>/`` for breed); ``--gate-heldout`` writes such a folder from the gate's
real held-out photos under ``models/data`` (:func:`gate_heldout`). ``--n`` of them (default 100,
drawn evenly across the classes, seeded) are copied flat into a fresh folder and labelled in
headless Chromium, with the model served from ``models/repository``, by a simulated person who
knows the truth, two ways:

* ``one-at-a-time`` (``/``): Enter where the suggestion is right, else the true class's key;
* ``review`` (``/review``): on each page of thumbnails, click the wrong photos of one true class,
  press that class's key (per class), then Enter for the page;
* ``review-point``: the same page, pointing at each wrong photo and pressing its class's key
  (pointer moves are counted apart from keys and clicks).

On a review page the person takes the cheaper way: fixing the wrong photos, or, when most of the
page is another class, ``*`` and that class's key first.

Counted: every key and click, the labels left wrong on disk, the photos shown. Page time is the
page's own measure (key press to the next photo, or the next page's thumbnails, decoded and
painted), the person pausing ``--think`` seconds per photo, ``--page-think`` per review page. Writes
``bench/results/label.json`` (with the served model's build.json identity) and, with
``--screenshot``, a PNG of the first review page.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

TESTS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TESTS))

import yaml  # noqa: E402
from label.kit import Person, Reviewer, chromium, label_page  # noqa: E402
from modelplane_models.imaging import image_files  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402
from serving.servers import EXAMPLES, REAL_REPOSITORY, ROOT, Server, serve, stop  # noqa: E402

# The repository the served models and the classes come from (as for modelplane-models).
REPOSITORY = Path(os.environ.get("MODELPLANE_MODEL_REPOSITORY") or REAL_REPOSITORY)

TASKS: dict[str, dict[str, Any]] = {
    "car-claims": {
        "manifest": "car-claims.yaml",
        "deployments": None,  # the whole pipeline, as served
        "ready": "car-claims",
        "repository_model": "quality-gate",
        "classes": lambda repo: ["accept", *_lines(repo / "quality-gate" / "labels.txt")],
        "folder": lambda cls: "accept" if cls == "accept" else f"reject/{cls}",
    },
    "breed": {
        "manifest": "pet-premium.yaml",
        "deployments": ("pet-breed",),  # the premium step needs features a photo lacks
        "ready": "pet-breed",
        "repository_model": "breed",
        "classes": lambda repo: _lines(repo / "breed" / "labels.txt"),
        "folder": lambda cls: cls,
    },
}


MODES = ("review", "review-point", "one-at-a-time")


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").split()


def sample(source: Path, task: dict[str, Any], n: int, seed: int) -> dict[Path, str]:
    """Up to ``n`` photos of ``source``'s class folders, as evenly across the classes as they
    allow; photo path -> class."""
    rng = np.random.default_rng(seed)
    pools: dict[str, list[Path]] = {}
    for cls in task["classes"](REPOSITORY):
        folder = source / task["folder"](cls)
        files = image_files(folder) if folder.is_dir() else []
        if files:
            pools[cls] = [files[i] for i in rng.permutation(len(files))]
    if not pools:
        raise SystemExit(f"{source} has none of the class folders of {task['classes'](REPOSITORY)}")
    chosen: dict[Path, str] = {}
    while len(chosen) < n and any(pools.values()):
        for cls, pool in pools.items():
            if pool and len(chosen) < n:
                chosen[pool.pop()] = cls
    return chosen


def gate_heldout(folder: Path) -> Path:
    """The gate's real held-out photos (``models/data``; ``blurred`` and ``partial`` derived by
    the model card's rules) written in the page's folder layout: what ``--gate-heldout`` reads."""
    from modelplane_models import real_photos

    for photo in real_photos.gate_photos("heldout"):
        cls = photo.label
        target = folder / ("accept" if cls == "accept" else f"reject/{cls}")
        target.mkdir(parents=True, exist_ok=True)
        name = f"{photo.path.stem}-{photo.derive or 'plain'}.jpg"
        photo.image(evaluating=True).convert("RGB").save(target / name, quality=90)
    return folder


def copy_flat(chosen: dict[Path, str], folder: Path, seed: int) -> dict[str, str]:
    """The photos shuffled into ``folder`` as ``p000.jpg``...; file name -> true class."""
    folder.mkdir(parents=True)
    order = list(chosen)
    np.random.default_rng(seed).shuffle(order)
    truth = {}
    for index, path in enumerate(order):
        name = f"p{index:03d}{path.suffix.lower()}"
        shutil.copyfile(path, folder / name)
        truth[name] = chosen[path]
    return truth


@contextmanager
def served(task: dict[str, Any], work: Path) -> Iterator[Server]:
    folder = work / "manifests"
    folder.mkdir()
    docs = yaml.safe_load_all((EXAMPLES / task["manifest"]).read_text(encoding="utf-8"))
    names = task["deployments"]
    wanted = [d for d in docs if d and (names is None or d["metadata"]["name"] in names)]
    (folder / task["manifest"]).write_text(yaml.safe_dump_all(wanted), encoding="utf-8")
    server = serve(folder, REPOSITORY, work / "serve.log", [task["ready"]])
    try:
        yield server
    finally:
        stop(server)


def one_at_a_time(driver: Any, truth: dict[str, str], think_s: float) -> dict[str, Any]:
    person = Person(driver, truth)
    keys, shown = person.keys_of(), []
    while driver.execute_script("return queue.length"):
        name, suggested = person.on_screen()
        shown.append(name)
        time.sleep(think_s)
        person.press(Keys.ENTER if suggested == truth[name] else keys[truth[name]])
        person.wait_gone(name)
    WebDriverWait(driver, 30).until(lambda d: d.execute_script("return inflight.size === 0"))
    timings: list[float] = driver.execute_script("return window.labelTimings")
    return {"keys": person.keys, "shown": len(set(shown)), "page_ms": _summary(timings)}


def review(
    driver: Any, truth: dict[str, str], think_s: float, shot: Path | None, point: bool
) -> dict[str, Any]:
    person = Reviewer(driver, truth, point)
    pages = 0
    while person.on_screen()[1]:
        if shot is not None and pages == 0:
            driver.save_screenshot(str(shot))
        person.review(think_s)
        pages += 1
    WebDriverWait(driver, 30).until(lambda d: d.execute_script("return inflight.size === 0"))
    timings: list[float] = driver.execute_script("return window.pageTimings")
    return {
        "keys": person.keys,
        "pointer_moves": person.moves,
        "pages": pages,
        "shown": len(set(person.seen)),
        "page_ms": _summary(timings),
    }


def session(
    model: str, chosen: dict[Path, str], url: str, work: Path, mode: str, args: argparse.Namespace
) -> dict[str, Any]:
    """One labelling session of the chosen photos; returns keys, errors, shown and timings."""
    task = TASKS[model]
    folder = work / mode
    truth = copy_flat(chosen, folder, args.seed)
    with label_page(folder, REPOSITORY, url, work / f"{mode}.log", model) as page:
        state = page.wait_model()
        suggested = {i["image"]: i.get("label") for i in state["items"]}
        with chromium() as driver:
            if mode.startswith("review"):
                driver.get(page.at("review"))
                point = mode == "review-point"
                result = review(driver, truth, args.page_think, args.screenshot, point)
            else:
                driver.get(page.at())
                result = one_at_a_time(driver, truth, args.think)
    left_wrong = sum(
        1 for name, cls in truth.items() if not (folder / task["folder"](cls) / name).is_file()
    )
    return {
        "images": len(truth),
        **result,
        "keys_per_100": round(100 * result["keys"] / len(truth), 1),
        "suggestions_wrong": sum(1 for n, c in truth.items() if suggested.get(n) != c),
        "labels_wrong": left_wrong,
    }


def _summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    if not ordered:
        return {}
    return {
        "n": len(ordered),
        "median": round(statistics.median(ordered), 1),
        "p95": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 1),
        "max": round(ordered[-1], 1),
    }


def model_identity(task: dict[str, Any]) -> dict[str, Any]:
    """Which build of the served model was measured (its build.json, without the metrics)."""
    path = REPOSITORY / task["repository_model"] / "build.json"
    build = json.loads(path.read_text(encoding="utf-8"))
    keep = ("model", "fingerprint", "data", "built_at", "backbone")
    return {"build_json": str(path), **{k: build[k] for k in keep if k in build}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--photos", type=Path, help="class folders of photos")
    source.add_argument(
        "--gate-heldout", action="store_true", help="the gate's real held-out photos (models/data)"
    )
    parser.add_argument("--model", choices=sorted(TASKS), default="car-claims")
    parser.add_argument("--n", type=int, default=100, help="photos per session")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--think", type=float, default=0.3, help="seconds per photo looked at")
    parser.add_argument("--page-think", type=float, default=2.0, help="seconds per review page")
    parser.add_argument("--modes", nargs="+", default=list(MODES), choices=MODES)
    parser.add_argument("--screenshot", type=Path, default=None, help="PNG of a review page")
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results" / "label.json")
    args = parser.parse_args()
    task = TASKS[args.model]
    with tempfile.TemporaryDirectory(prefix=f"label-{args.model}-") as tmp:
        photos = gate_heldout(Path(tmp) / "heldout") if args.gate_heldout else args.photos
        results = measure(args, task, photos, Path(tmp))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    return 0


def measure(args: argparse.Namespace, task: dict[str, Any], photos: Path, work: Path) -> Any:
    """Every ``--modes`` session on the same sample of ``photos``, the model served once."""
    chosen = sample(photos, task, args.n, args.seed)
    classes: dict[str, int] = {}
    for cls in chosen.values():
        classes[cls] = classes.get(cls, 0) + 1
    source = "models/data held-out (gate)" if args.gate_heldout else str(photos)
    results: dict[str, Any] = {
        "model": model_identity(task),
        "photos": {"source": source, "n": len(chosen), "per_class": classes},
    }
    with served(task, work) as server:
        for mode in args.modes:
            results[mode] = session(args.model, chosen, server.grpc, work, mode, args)
            print(f"{args.model} {mode}: {results[mode]}", file=sys.stderr)
    return results


if __name__ == "__main__":
    sys.exit(main())
