"""The review page in a real browser: pages of thumbnails grouped by the served gate's suggestion,
the wrong ones clicked and fixed with a class key, Enter confirming each page.

Every photo must be shown and end in the folder of its true class; a page can be undone; a
photo the page never showed cannot be confirmed as reviewed; a real phone photo stored sideways
(EXIF Orientation 6) is shown upright, as the model sees it.
"""

from __future__ import annotations

import io
import shutil
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from label.kit import (
    Reviewer,
    chromium,
    folder_of,
    gate_classes,
    gate_photos,
    label_page,
    top_level,
)
from phone import JPEG_TOLERANCE, PHOTO, mean_difference, upright
from PIL import Image
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait
from serving.servers import Server, free_port

pytestmark = pytest.mark.timeout(300)


def test_review_pages_fix_the_wrong_and_confirm_the_rest(
    tmp_path: Path, repository: Path, gate_server: Server
) -> None:
    photos = tmp_path / "photos"
    classes = gate_classes(repository)
    truth = gate_photos(photos, classes, per_class=6, seed=33)
    shutil.copy(PHOTO, photos / "phone.jpg")  # a printed page: not a car
    truth["phone.jpg"] = "not-a-car"

    with label_page(photos, repository, gate_server.grpc, tmp_path / "label.log") as page:
        state = page.wait_model()
        assert state["model"]["state"] == "done", state["model"]
        suggested = {i["image"]: i["label"] for i in state["items"]}
        # Nothing accepted unseen: a review decision for a photo no page has shown is refused.
        unseen = {"image": "phone.jpg", "label": "not-a-car"}
        with pytest.raises(urllib.error.HTTPError) as refused:
            page.post("api/decide", {"choices": [unseen], "reviewed": True})
        assert refused.value.code == 400 and "never shown" in refused.value.read().decode()
        assert "phone.jpg" in top_level(photos)
        # The thumbnail is the photo upright (the decoder's EXIF turn), not as stored.
        with urllib.request.urlopen(page.at("thumb/phone.jpg"), timeout=10) as response:
            thumbnail = Image.open(io.BytesIO(response.read()))
            assert thumbnail.size == (144, 192) and not thumbnail.getexif()
            expected = Image.fromarray(upright()).resize(thumbnail.size, Image.Resampling.BOX)
            assert mean_difference(np.asarray(thumbnail), np.asarray(expected)) < 2 * JPEG_TOLERANCE

        with chromium() as driver:
            driver.get(page.at("review"))
            person = Reviewer(driver, truth)
            label, first = person.on_screen()
            assert first and all(suggested[n] == label for n in first)
            assert len(first) <= 24
            person.review()
            person.settled()
            assert not top_level(photos) & set(first)
            person.press(Keys.BACKSPACE)  # undo the page: its photos are back on disk and shown
            WebDriverWait(driver, 30).until(lambda _: person.on_screen()[1] == first)
            assert top_level(photos) >= set(first)
            person.seen.clear()
            person.point = True  # the rest by pointing at each wrong photo and its class key
            person.review_all()

    assert sorted(person.seen) == sorted(truth)  # every photo was on a page, once
    assert top_level(photos) == set()
    for name, cls in truth.items():
        assert (photos / folder_of(cls) / name).is_file(), f"{name} ({cls})"
    wrong = sum(1 for n in truth if suggested[n] != truth[n])
    wrong_later = sum(1 for n in truth if suggested[n] != truth[n] and n not in first)
    assert person.moves >= 1 or wrong_later == 0  # pointing fixed photos after the first page
    pages = len({(suggested[n], n) for n in truth}) // 24 + len(set(suggested.values()))
    assert person.keys <= pages + 1 + 2 * wrong  # +1: the first page's Enter before the undo


def test_review_with_no_model_needs_a_class_for_every_photo(
    tmp_path: Path, repository: Path
) -> None:
    """With the endpoint unreachable every photo lands on a "no suggestion" page: Enter is
    refused until each has a class; ``*`` and one key give the whole page one, clicks fix the
    others. A photo that cannot be decoded is shown as such and left in the folder."""
    photos = tmp_path / "photos"
    truth = gate_photos(photos, gate_classes(repository), per_class=1, seed=9)
    whole = (photos / sorted(truth)[0]).read_bytes()
    (photos / "truncated.jpg").write_bytes(whole[: len(whole) // 3])  # a header, half the pixels
    nowhere = f"127.0.0.1:{free_port()}"
    with label_page(photos, repository, nowhere, tmp_path / "label.log") as page:
        assert page.wait_model()["model"]["state"] == "down"
        with chromium() as driver:
            driver.get(page.at("review"))
            person = Reviewer(driver, truth)
            label, names = person.on_screen()
            assert label is None and sorted(names) == sorted([*truth, "truncated.jpg"])
            person.press(Keys.ENTER)
            banner = driver.find_element(By.ID, "banner").text
            assert f"{len(truth)} photos have no class yet" in banner  # not the broken one
            assert top_level(photos) == {*truth, "truncated.jpg"}
            broken = driver.find_element(By.CSS_SELECTOR, '.tile[data-image="truncated.jpg"]')
            assert "cannot be shown" in broken.text
            most = max(set(truth.values()), key=list(truth.values()).count)
            person.press("*")
            person.press(person.class_keys[most])
            for cls in sorted(set(truth.values()) - {most}):
                for name in (n for n in names if truth.get(n) == cls):
                    person.click(name)
                person.press(person.class_keys[cls])
            person.press(Keys.ENTER)
            person.settled()
            assert person.on_screen()[1] == []
            assert "truncated.jpg" in driver.find_element(By.ID, "title").text
    assert top_level(photos) == {"truncated.jpg"}  # left where it was, nothing else
    for name, cls in truth.items():
        assert (photos / folder_of(cls) / name).is_file(), f"{name} ({cls})"


def test_a_page_taller_than_the_window_is_confirmed_only_once_all_was_on_screen(
    tmp_path: Path, repository: Path
) -> None:
    photos = tmp_path / "photos"
    truth = gate_photos(photos, gate_classes(repository), per_class=3, seed=11)
    nowhere = f"127.0.0.1:{free_port()}"
    with label_page(photos, repository, nowhere, tmp_path / "label.log") as page:
        page.wait_model()
        with chromium() as driver:
            driver.set_window_size(1280, 420)  # three rows of thumbnails do not fit
            driver.get(page.at("review"))
            WebDriverWait(driver, 30).until(
                lambda d: d.execute_script("return page !== null && $('grid').children.length")
            )
            body = driver.find_element(By.TAG_NAME, "body")
            body.send_keys("*", "1")  # every photo: the first class
            body.send_keys(Keys.ENTER)
            banner = driver.find_element(By.ID, "banner").text
            assert "have not been on screen yet" in banner, banner
            assert top_level(photos) == set(truth)
            for _ in range(len(truth)):  # each refusal scrolls to the next photo not yet seen
                if not top_level(photos):
                    break
                body.send_keys(Keys.ENTER)
                WebDriverWait(driver, 10).until(
                    lambda d: d.execute_script("return inflight.size === 0")
                )
            assert not top_level(photos)
    first = gate_classes(repository)[0]
    assert all((photos / folder_of(first) / name).is_file() for name in truth)
