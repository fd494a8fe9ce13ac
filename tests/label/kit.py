"""Pieces of the labelling tests and of the key-press measurement (``measure.py``).

Photos come from the synthetic generators, so their truth is known without looking at them; the
page runs as ``modelplane label`` in a subprocess, as a person runs it; the browser is Debian's
Chromium driven through Debian's chromedriver (the driver path is given explicitly, so Selenium
Manager never looks for one to download).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from modelplane_models.synth import cars
from PIL import Image
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait
from serving.servers import BIN, ROOT, free_port

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
# Root in a container: no sandbox; and nothing may reach the network (no updates, no sync).
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,860",
)


def gate_photos(folder: Path, classes: list[str], per_class: int, seed: int) -> dict[str, str]:
    """``per_class`` generator photos of each gate class (see :func:`photos`)."""
    return photos(folder, cars.GENERATORS, classes, per_class, seed)


def photos(
    folder: Path,
    generators: Mapping[str, Callable[[np.random.Generator], Image.Image]],
    classes: list[str],
    per_class: int,
    seed: int,
) -> dict[str, str]:
    """``per_class`` generator photos of each class, shuffled, named ``p000.jpg``...; returns
    file name -> true class (the generators draw exactly that class)."""
    missing = [c for c in classes if c not in generators]
    if missing:
        raise RuntimeError(f"no generator for {missing}: labels.txt and synth disagree")
    rng = np.random.default_rng(seed)
    order = [c for c in classes for _ in range(per_class)]
    rng.shuffle(order)
    folder.mkdir(parents=True, exist_ok=True)
    truth = {}
    for index, cls in enumerate(order):
        name = f"p{index:03d}.jpg"
        generators[cls](rng).convert("RGB").save(folder / name, quality=90)
        truth[name] = cls
    return truth


def gate_classes(repository: Path) -> list[str]:
    """accept plus the reject reasons of the repository's gate (its labels.txt)."""
    text = (repository / "quality-gate" / "labels.txt").read_text(encoding="utf-8")
    return ["accept", *text.split()]


def top_level(folder: Path) -> set[str]:
    """The files still waiting at the top of a labelled folder (not the journal)."""
    return {p.name for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")}


def folder_of(cls: str) -> str:
    return "accept" if cls == "accept" else f"reject/{cls}"


# The address `modelplane label` prints, its per-run token in the query.
PRINTED_URL = re.compile(r"(http://127\.0\.0\.1:\d+/)review\?token=([A-Za-z0-9_-]+)")


@dataclass
class LabelPage:
    base: str  # http://127.0.0.1:PORT/
    token: str
    process: subprocess.Popen[bytes]
    log: Path

    def at(self, path: str = "") -> str:
        """The page's address for ``path`` with the run's token, as a person opens it."""
        return f"{self.base}{path}?token={self.token}"

    def state(self) -> dict[str, Any]:
        with urllib.request.urlopen(self.at("api/state"), timeout=10) as response:
            payload: dict[str, Any] = json.loads(response.read())
        return payload

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """A JSON POST as the page sends it (token, ``Content-Type``, same ``Origin``)."""
        request = urllib.request.Request(
            self.at(path),
            json.dumps(body).encode(),
            {"Content-Type": "application/json", "Origin": self.base.rstrip("/")},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            payload: dict[str, Any] = json.loads(response.read())
        return payload

    def wait_model(self, timeout_s: float = 60.0) -> dict[str, Any]:
        """The state once the model has answered for every image (or is known unreachable)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            state = self.state()
            if state["model"]["state"] in ("done", "down"):
                return state
            time.sleep(0.2)
        raise RuntimeError(f"pre-labelling did not finish:\n{self.log.read_text()[-3000:]}")


@contextmanager
def label_page(
    directory: Path, repository: Path, model_url: str, log: Path, model: str = "car-claims"
) -> Iterator[LabelPage]:
    """``modelplane label DIR --model MODEL`` on a free port; stopped by its own pid."""
    port = free_port()
    args = [str(BIN / "modelplane"), "label", str(directory), "--model", model]
    args += ["--url", model_url, "--repository", str(repository), "--port", str(port)]
    handle = log.open("wb")
    process = subprocess.Popen(args, stdout=handle, stderr=subprocess.STDOUT, cwd=ROOT)
    try:
        yield _printed_page(process, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        handle.close()


def _printed_page(process: subprocess.Popen[bytes], log: Path) -> LabelPage:
    """The page once ``modelplane label`` has printed its URL and answers on it."""
    deadline = time.monotonic() + 30
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"modelplane label exited:\n{log.read_text()}")
        found = PRINTED_URL.search(log.read_text(errors="replace"))
        if found:
            page = LabelPage(found[1], found[2], process, log)
            try:
                page.state()
                return page
            except OSError:
                pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"no label page answered:\n{log.read_text()}")
        time.sleep(0.2)


@contextmanager
def chromium() -> Iterator[WebDriver]:
    """Headless Debian Chromium with a fresh profile, driven by the system chromedriver."""
    profile = tempfile.mkdtemp(prefix="modelplane-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


class Person:
    """Someone at the page who knows the truth: reads the image name and the suggestion on
    screen and presses keys, counting them."""

    def __init__(self, driver: WebDriver, truth: dict[str, str]) -> None:
        self.driver, self.truth = driver, truth
        self.keys = 0
        self.body = driver.find_element(By.TAG_NAME, "body")
        WebDriverWait(driver, 30).until(lambda d: d.execute_script("return state !== null"))

    def keys_of(self) -> dict[str, str]:
        script = "return Object.fromEntries(state.classes.map((c) => [c.name, c.key]))"
        result: dict[str, str] = self.driver.execute_script(script)
        return result

    def on_screen(self, timeout_s: float = 10.0) -> tuple[str, str | None]:
        """(image name, suggested class or None) once the next image is displayed."""

        def shown(driver: WebDriver) -> Any:
            return driver.execute_script(
                "const n = queue[0]; if (n === undefined) return ['', null];"
                "if ($('name').textContent !== n) return false;"
                "const it = items.get(n); return [n, it.label === undefined ? null : it.label];"
            )

        name, suggested = WebDriverWait(self.driver, timeout_s).until(shown)
        return str(name), suggested

    def press(self, *keys: str) -> None:
        self.body.send_keys(*keys)
        self.keys += 1

    def label_one(self, keys: dict[str, str]) -> str:
        """Accept the suggestion when it is right, else press the true class's key."""
        name, suggested = self.on_screen()
        true = self.truth[name]
        self.press(Keys.ENTER if suggested == true else keys[true])
        self.wait_gone(name)
        return name

    def wait_shown(self, name: str) -> None:
        WebDriverWait(self.driver, 10).until(
            lambda d: d.execute_script("return $('name').textContent") == name
        )

    def wait_gone(self, name: str) -> None:
        WebDriverWait(self.driver, 10).until(
            lambda d: (
                d.execute_script("return $('name').textContent") != name
                or d.execute_script("return queue.length") == 0
            )
        )


Step = tuple[
    str, str
]  # ("click", photo), ("point", photo: the pointer moves there) or ("key", key)


class Reviewer:
    """Someone at the review page who knows the truth: on each page fixes the photos whose
    suggestion is wrong, then presses Enter; counts every click and key (``keys``), every pointer
    move onto a photo (``moves``), and every photo a page showed.

    ``point=False``: click the wrong photos of one true class, press that class's key, per class;
    ``point=True``: point at each wrong photo and press its class's key."""

    def __init__(self, driver: WebDriver, truth: dict[str, str], point: bool = False) -> None:
        self.driver, self.truth, self.point = driver, truth, point
        self.keys = self.moves = 0
        self.seen: list[str] = []
        self.body = driver.find_element(By.TAG_NAME, "body")
        WebDriverWait(driver, 30).until(lambda d: d.execute_script("return state !== null"))
        self.class_keys: dict[str, str] = driver.execute_script(
            "return Object.fromEntries(state.classes.map((c) => [c.name, c.key]))"
        )

    def on_screen(self, timeout_s: float = 30.0) -> tuple[str | None, list[str]]:
        """(suggested class, photos) of the page once its thumbnails are all painted; ([], None)
        when nothing is left."""

        def shown(driver: WebDriver) -> Any:
            return driver.execute_script(
                "const done = $('done').style.display === 'block';"
                "if (page === null) return done ? [null, []] : false;"
                "const tiles = [...$('grid').children];"
                "const names = tiles.map((t) => t.dataset.image);"
                "if (names.join() !== page.names.join()) return false;"
                "const ready = tiles.every((t) => t.querySelector('img').complete)"
                "  && names.every((n) => seen.has(n));"
                "return ready ? [page.label, names] : false;"
            )

        label, names = WebDriverWait(self.driver, timeout_s).until(shown)
        return label, [str(n) for n in names]

    def press(self, *keys: str) -> None:
        self.body.send_keys(*keys)
        self.keys += 1

    def click(self, name: str) -> None:
        tile = self.driver.find_element(By.CSS_SELECTOR, f'.tile[data-image="{name}"]')
        tile.click()
        self.keys += 1

    def point_at(self, name: str) -> None:
        tile = self.driver.find_element(By.CSS_SELECTOR, f'.tile[data-image="{name}"]')
        ActionChains(self.driver).move_to_element(tile).perform()
        self.moves += 1

    def review(self, think_s: float = 0.0) -> list[str]:
        """Fix and confirm the page on screen the cheaper of two ways; returns its photos.

        Either click the photos whose suggestion is wrong (one class key per true class), or,
        when most of the page shares another class, press ``*`` and that class's key first and
        then fix the rest the same way: what a person does on a page the model got mostly wrong.
        """
        suggested, names = self.on_screen()
        self.seen += names
        time.sleep(think_s)
        truths = [self.truth[n] for n in names]
        common = max(sorted(set(truths)), key=truths.count)
        plans = [self._plan(names, suggested, suggested), self._plan(names, suggested, common)]
        for action, value in min(plans, key=lambda plan: sum(a != "point" for a, _ in plan)):
            if action == "click":
                self.click(value)
            elif action == "point":
                self.point_at(value)
            else:
                self.press(value)
        self.press(Keys.ENTER)
        WebDriverWait(self.driver, 30).until(
            lambda d: (
                d.execute_script("return page === null || page.names.join()") != ",".join(names)
            )
        )
        return names

    def _plan(self, names: list[str], suggested: str | None, base: str | None) -> list[Step]:
        """The clicks and keys that give every photo its true class when the page's photos
        start as ``base``: ``*`` and ``base``'s key first unless it is the suggestion."""
        steps: list[Step] = []
        if base != suggested and base is not None:
            steps += [("key", "*"), ("key", self.class_keys[base])]
        wrong: dict[str, list[str]] = {}
        for name in names:
            if self.truth[name] != base:
                wrong.setdefault(self.truth[name], []).append(name)
        for cls, photos in wrong.items():
            key = ("key", self.class_keys[cls])
            if self.point:
                steps += [step for n in photos for step in (("point", n), key)]
            else:
                steps += [*(("click", n) for n in photos), key]
        return steps

    def review_all(self, think_s: float = 0.0) -> None:
        while self.on_screen()[1]:
            self.review(think_s)
        self.settled()

    def settled(self) -> None:
        """Every confirmed page is on disk (the page shows the next before the server answers)."""
        WebDriverWait(self.driver, 30).until(
            lambda d: d.execute_script("return inflight.size === 0")
        )
