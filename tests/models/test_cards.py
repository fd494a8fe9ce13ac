"""Model cards: what a reader gets from ``report.html``, and figures merged from a cards file.

Runs on a model folder written here (a build.json as the build writes one, plus the
``models/cards/<model>.json`` way in for figures measured elsewhere, e.g. the OCR models').
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from modelplane_models import cards, repository
from PIL import Image


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "repo" / "damage-severity"
    (folder / "1").mkdir(parents=True)
    (folder / "1" / "model.onnx").write_bytes(b"graph")
    (folder / "config.pbtxt").write_text('name: "damage-severity"\n')
    metrics = {
        "classes": ["minor", "moderate", "severe"],
        "f1": [0.8, 0.6, 0.82],
        "n": [180, 144, 133],
        "confusion": [[145, 31, 4], [37, 81, 26], [3, 17, 113]],
        "reliability": cards.reliability(
            np.array([0.9, 0.95, 0.4, 0.6]),
            np.array([True, True, False, True]),
        ),
        "backbone": {"weights_sha256": "ab" * 32},
        "macro_f1": 0.74,
    }
    data = {
        "trained_on": [{"set": "models/data/vehicle-damage", "pile": "train", "files": 3}],
        "evaluated_on": [{"set": "models/data/vehicle-damage", "pile": "heldout", "files": 2}],
        "summary": "models/data/vehicle-damage/train (3 files)",
    }
    repository.write_json(folder / repository.BUILD_FILE, {"data": data, "metrics": metrics})
    return folder


def test_card_has_per_class_figures_sizes_provenance_and_backbone(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    page = cards.write_card(folder, tmp_path / "no-cards").read_text()
    for figure in ("card-f1.png", "card-confusion.png", "card-reliability.png"):
        assert f'src="{figure}"' in page
        assert Image.open(folder / figure).size[0] > 100
    assert "<th>moderate</th><td>144</td>" in page  # sample sizes per class
    assert "ab" * 32 in page  # backbone weight hash
    # the data set the build recorded opening is quoted, once, and no other
    assert page.count("<h3>models/data/vehicle-damage</h3>") == 1 and "CarDD" in page
    assert "models/data/pets" not in page


def test_a_card_quotes_no_data_set_for_a_build_that_opened_none(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    record = repository.read_build(folder)
    repository.write_json(folder / repository.BUILD_FILE, {**record, "data": "synthetic"})
    page = cards.write_card(folder, tmp_path / "no-cards").read_text()
    assert "<h3>models/data/" not in page and "No real data set" in page


def test_cards_file_merges_figures_measured_elsewhere(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    extra = tmp_path / "cards"
    extra.mkdir()
    (extra / "damage-severity.json").write_text(
        json.dumps({"per_class": {"cer": {"receipts": 0.05, "photos": 0.2}}, "notes": "n=80"})
    )
    page = cards.write_card(folder, extra).read_text()
    assert 'src="card-cer.png"' in page and "n=80" in page
    assert cards.card_metrics(folder, extra)["macro_f1"] == 0.74  # build.json kept beside it


def test_sidecar_cards_add_figures_of_another_bench(tmp_path: Path) -> None:
    """``<model>.<bench>.json`` adds its sample sizes and data sets to the model's card."""
    folder = _folder(tmp_path)
    extra = tmp_path / "cards"
    extra.mkdir()
    main = {"n": {"real sroie": 40}, "provenance": ["documents/sroie"], "notes": "receipts."}
    side = {"n": {"korean words": 461}, "provenance": ["korean-text"], "korean_words": 0.9}
    (extra / "damage-severity.json").write_text(json.dumps(main))
    (extra / "damage-severity.korean.json").write_text(json.dumps({**side, "notes": "pages."}))
    metrics = cards.card_metrics(folder, extra)
    assert metrics["n"] == {"real sroie": 40, "korean words": 461}
    assert metrics["provenance"] == ["documents/sroie", "korean-text"]
    assert metrics["korean_words"] == 0.9 and metrics["notes"] == "receipts. pages."
    assert "korean_words" in cards.write_card(folder, extra).read_text()


def test_reliability_bins_count_every_answer() -> None:

    confidence = np.array([0.05, 0.15, 0.95, 0.96, 0.97])
    bins = cards.reliability(confidence, np.array([False, True, True, True, False]))
    assert sum(b["n"] for b in bins) == 5
    top = max(bins, key=lambda b: b["confidence"])
    assert top["n"] == 3 and abs(top["accuracy"] - 2 / 3) < 1e-3
