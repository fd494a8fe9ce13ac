"""The labelling page in a real browser (Debian Chromium + chromedriver, headless, offline).

A person labels a dozen generator photos of known truth with keys (Enter where the served gate
is right, the class key where it is not), undoes one, reloads the page mid-way and carries on;
the files must then sit in the folders the trainer reads, nothing overwritten, the non-image
listed as skipped. With the model endpoint unreachable the page says so and labels by hand.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from label.kit import Person, chromium, folder_of, gate_classes, gate_photos, label_page, top_level
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from serving.servers import Server, free_port

pytestmark = pytest.mark.timeout(240)


def test_label_a_dozen_with_keys_undo_and_reload(
    tmp_path: Path, repository: Path, gate_server: Server
) -> None:
    photos = tmp_path / "photos"
    classes = gate_classes(repository)
    truth = gate_photos(photos, classes, per_class=4, seed=21)
    (photos / "notes.txt").write_text("not a photo")
    # A same-named file already labelled earlier: it must survive, the new one gets a suffix.
    first = sorted(truth)[0]
    clash = photos / folder_of(truth[first]) / first
    clash.parent.mkdir(parents=True)
    clash.write_bytes(b"labelled last week")

    with label_page(photos, repository, gate_server.grpc, tmp_path / "label.log") as page:
        state = page.wait_model()
        assert state["model"]["state"] == "done", state["model"]
        assert state["skipped"] == [
            {"file": "notes.txt", "reason": "not an image (no known image format)"}
        ]
        with chromium() as driver:
            driver.get(page.at())
            person = Person(driver, truth)
            keys = person.keys_of()
            assert sorted(keys) == sorted(classes)
            skipped = driver.find_element(By.ID, "skipped").text
            assert "notes.txt" in skipped and "not an image" in skipped
            # Least confident first; `o` switches to file order (and the page remembers it).
            least = min(state["items"], key=lambda i: (i["confidence"], i["image"]))
            assert person.on_screen()[0] == least["image"]
            person.press("o")
            assert person.on_screen()[0] == first
            labelled = [person.label_one(keys) for _ in range(6)]

            person.press(Keys.BACKSPACE)  # undo the sixth: it is back on screen and on disk
            person.wait_shown(labelled[-1])
            assert labelled[-1] in top_level(photos)
            labelled.pop()

            driver.refresh()  # a reload mid-way continues with what is left
            person = Person(driver, truth)
            assert person.on_screen()[0] not in labelled
            labelled += [person.label_one(keys) for _ in range(7)]
            counts = driver.find_element(By.ID, "count").text

    assert len(set(labelled)) == 12
    assert counts == f"12 of {len(truth)} labelled"
    assert top_level(photos) == {"notes.txt"} | (set(truth) - set(labelled))
    for name in labelled:
        folder = photos / folder_of(truth[name])
        moved = folder / (name if name != first else name.replace(".jpg", "-1.jpg"))
        assert moved.is_file(), f"{name} ({truth[name]}) not in {folder}"
    assert clash.read_bytes() == b"labelled last week"


def test_unreachable_model_labels_by_hand(tmp_path: Path, repository: Path) -> None:
    photos = tmp_path / "photos"
    truth = gate_photos(photos, gate_classes(repository), per_class=1, seed=5)
    nowhere = f"127.0.0.1:{free_port()}"  # nothing listens there
    with label_page(photos, repository, nowhere, tmp_path / "label.log") as page:
        assert page.wait_model()["model"]["state"] == "down"
        with chromium() as driver:
            driver.get(page.at())
            person = Person(driver, truth)
            name, suggested = person.on_screen()
            assert suggested is None
            banner = driver.find_element(By.ID, "banner").text
            assert nowhere in banner and "unreachable" in banner and "by hand" in banner
            person.press(Keys.ENTER)  # nothing to accept: the image stays
            assert person.on_screen()[0] == name
            person.label_one(person.keys_of())
    assert (photos / folder_of(truth[name]) / name).is_file()
    assert name not in top_level(photos)
