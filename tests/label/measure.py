"""Key presses per 100 photos and page time per photo: ``python tests/label/measure.py``.

Generator photos of known truth (the car-claims gate's classes, and the dog breeds) are labelled
in headless Chromium by a simulated person who knows the truth, three ways:

* ``scratch``: the page with no model (endpoint unreachable): one class key per photo;
* ``prelabelled``: least confident first, Enter where the served model is right, else the class key;
* ``prelabelled+rest``: the same until ten suggestions in a row were right, then Shift+Enter
  accepts the remaining suggestions at least as confident (unseen: their errors are counted).

Page time is the page's own measure (``window.labelTimings``): key press to the next photo
decoded and painted, the person taking 0.3 s per photo. Writes ``bench/results/label.json``
and, with ``--screenshot``, a PNG.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

TESTS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TESTS))

import yaml  # noqa: E402
from label.kit import Person, chromium, free_port, label_page, photos  # noqa: E402
from modelplane_models.synth import cars, dogs  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from serving.servers import EXAMPLES, REAL_REPOSITORY, ROOT, Server, serve, stop  # noqa: E402

# The repository the served models and the classes come from (as for modelplane-models).
REPOSITORY = Path(os.environ.get("MODELPLANE_MODEL_REPOSITORY") or REAL_REPOSITORY)
RUN_OF_RIGHT = 10  # suggestions in a row a person sees right before trusting the rest
THINK_S = 0.3  # a fast person's look at a photo before the key: the page prefetches meanwhile

TASKS: dict[str, dict[str, Any]] = {
    "car-claims": {
        "manifest": "car-claims.yaml",
        "deployments": ("car-quality-gate", "car-claims"),
        "ready": "car-claims",
        "generators": cars.GENERATORS,
        "classes": lambda repo: ["accept", *_lines(repo / "quality-gate" / "labels.txt")],
        "folder": lambda cls: "accept" if cls == "accept" else f"reject/{cls}",
    },
    "breed": {
        "manifest": "pet-premium.yaml",
        "deployments": ("pet-breed",),  # the premium step needs features a photo lacks
        "ready": "pet-breed",
        "generators": dogs.generators(),
        "classes": lambda repo: [
            b for b in _lines(repo / "breed" / "labels.txt") if b in dogs.generators()
        ],
        "folder": lambda cls: cls,
    },
}


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").split()


@contextmanager
def served(task: dict[str, Any], work: Path) -> Iterator[Server]:
    folder = work / "manifests"
    folder.mkdir()
    docs = yaml.safe_load_all((EXAMPLES / task["manifest"]).read_text(encoding="utf-8"))
    wanted = [d for d in docs if d and d["metadata"]["name"] in task["deployments"]]
    (folder / task["manifest"]).write_text(yaml.safe_dump_all(wanted), encoding="utf-8")
    server = serve(folder, REPOSITORY, work / "serve.log", [task["ready"]])
    try:
        yield server
    finally:
        stop(server)


def session(
    model: str, task: dict[str, Any], url: str, work: Path, mode: str, shot: Path | None
) -> dict[str, Any]:
    """One labelling session of 100 photos; returns keys, corrections, errors and timings."""
    classes = task["classes"](REPOSITORY)
    per_class = max(1, round(100 / len(classes)))
    folder = work / mode
    truth = photos(folder, task["generators"], classes, per_class, seed=2026)
    (folder / "notes.txt").write_text("sent along with the photos")  # listed as skipped
    with label_page(folder, REPOSITORY, url, work / f"{mode}.log", model) as page:
        page.wait_model()
        with chromium() as driver:
            driver.get(page.url)
            person = Person(driver, truth)
            keys = person.keys_of()
            right_in_a_row = corrections = 0
            while driver.execute_script("return queue.length"):
                if mode == "prelabelled+rest" and right_in_a_row >= RUN_OF_RIGHT:
                    person.press(Keys.SHIFT, Keys.ENTER)
                    break
                name, suggested = person.on_screen()
                time.sleep(THINK_S)
                right = suggested == truth[name]
                right_in_a_row = right_in_a_row + 1 if right else 0
                corrections += 0 if right or suggested is None else 1
                person.press(Keys.ENTER if right and mode != "scratch" else keys[truth[name]])
                person.wait_gone(name)
                if shot is not None and person.keys == 7:
                    driver.save_screenshot(str(shot))
            _wait_empty(driver)
            timings: list[float] = driver.execute_script("return window.labelTimings")
    wrong = sum(
        1 for name, cls in truth.items() if not (folder / task["folder"](cls) / name).is_file()
    )
    return {
        "images": len(truth),
        "keys": person.keys,
        "keys_per_100": round(100 * person.keys / len(truth), 1),
        "corrections": corrections,
        "labels_wrong": wrong,
        "page_ms": _summary(timings),
    }


def _wait_empty(driver: Any) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, 30).until(
        lambda d: d.execute_script("return queue.length === 0 && inflight.size === 0")
    )


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


def measure(model: str, shot: Path | None, log: Callable[[str], None]) -> dict[str, Any]:
    task = TASKS[model]
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix=f"label-{model}-") as tmp:
        work = Path(tmp)
        nowhere = f"127.0.0.1:{free_port()}"
        results["scratch"] = session(model, task, nowhere, work, "scratch", None)
        log(f"{model} scratch: {results['scratch']}")
        with served(task, work) as server:
            for mode in ("prelabelled", "prelabelled+rest"):
                take = shot if mode == "prelabelled" else None
                results[mode] = session(model, task, server.grpc, work, mode, take)
                log(f"{model} {mode}: {results[mode]}")
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", action="append", choices=sorted(TASKS), default=[])
    parser.add_argument("--screenshot", type=Path, default=None, help="PNG of the car-claims page")
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results" / "label.json")
    args = parser.parse_args()
    results = {}
    for model in args.models or sorted(TASKS):
        shot = args.screenshot if model == "car-claims" else None
        results[model] = measure(model, shot, lambda line: print(line, file=sys.stderr))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
