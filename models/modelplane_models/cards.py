"""Model cards: ``<repository>/<model>/report.html`` with PNG figures, for every model.

Written by the build (after a model is published) and by ``modelplane-models report``. A card
shows what a reader needs to judge a model shipped to an insurer (Mitchell et al., "Model Cards
for Model Reporting"): the held-out metrics per class with their sample sizes, the confusion
matrix, a reliability diagram where the model answers probabilities, data provenance and
licences, and the backbone's version and weight hash.

Metrics come from the model's ``build.json`` and, merged over them, from
``models/cards/<model>.json`` when present: the way to put figures measured elsewhere (the OCR
models' document figures, a benchmark run) into a card. That file is JSON with any of:
``{"summary": {name: value}, "per_class": {metric: {class: value}}, "n": {class: count},
"confusion": [[...]], "classes": [...], "reliability": [{"confidence", "accuracy", "n"}],
"provenance": ["models/data/<set>", ...], "notes": "text"}``.
Figures are drawn with Pillow (no plotting library is a dependency).
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from . import log, repository, training_data

CARDS = Path(__file__).resolve().parents[1] / "cards"
DATA = Path(__file__).resolve().parents[1] / "data"
CARD_FILE = "report.html"
INK, GRID, BAR = (33, 37, 41), (222, 226, 230), (52, 101, 164)
_log = log.get("cards")


def reliability(
    confidence: np.ndarray, correct: np.ndarray, bins: int = 10
) -> list[dict[str, float]]:
    """Mean confidence, accuracy and n per confidence bin (empty bins left out)."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    index = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    return [
        {
            "confidence": round(float(confidence[index == b].mean()), 4),
            "accuracy": round(float(correct[index == b].mean()), 4),
            "n": int((index == b).sum()),
        }
        for b in range(bins)
        if (index == b).any()
    ]


def _canvas(width: int = 560, height: int = 360) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    image = Image.new("RGB", (width, height), "white")
    return image, ImageDraw.Draw(image)


def bar_chart(title: str, values: dict[str, float], counts: dict[str, int], path: Path) -> None:
    """One bar per class (value in [0, 1]), labelled with the value and n."""
    image, draw = _canvas()
    draw.text((10, 8), title, fill=INK)
    left, top, bottom, right = 60, 40, 300, 540
    for tick in np.linspace(0, 1, 6):
        y = bottom - tick * (bottom - top)
        draw.line((left, y, right, y), fill=GRID)
        draw.text((20, y - 6), f"{tick:.1f}", fill=INK)
    slot = (right - left) / max(len(values), 1)
    for i, (name, value) in enumerate(values.items()):
        x0 = left + i * slot + slot * 0.15
        y = bottom - value * (bottom - top)
        draw.rectangle((x0, y, x0 + slot * 0.7, bottom), fill=BAR)
        draw.text((x0, y - 14), f"{value:.3f}", fill=INK)
        draw.text((x0, bottom + 6), name[:14], fill=INK)
        draw.text((x0, bottom + 22), f"n={counts.get(name, '?')}", fill=INK)
    image.save(path)


def confusion_chart(classes: list[str], matrix: list[list[int]], path: Path) -> None:
    """Rows = truth, columns = answer; cell shade = share of the row."""
    size = 70
    left, top = 120, 50
    image, draw = _canvas(left + size * len(classes) + 20, top + size * len(classes) + 40)
    draw.text((10, 8), "confusion (rows: truth, columns: answer)", fill=INK)
    for i, row in enumerate(matrix):
        total = max(sum(row), 1)
        draw.text((8, top + i * size + size / 2 - 6), classes[i][:14], fill=INK)
        for j, count in enumerate(row):
            shade = int(255 - 200 * count / total)
            box = (left + j * size, top + i * size, left + (j + 1) * size, top + (i + 1) * size)
            draw.rectangle(box, fill=(shade, shade, 255), outline=GRID)
            draw.text((box[0] + 8, box[1] + size / 2 - 6), str(count), fill=INK)
    for j, name in enumerate(classes):
        draw.text((left + j * size + 4, top + len(classes) * size + 8), name[:10], fill=INK)
    image.save(path)


def reliability_chart(bins: list[dict[str, float]], path: Path) -> None:
    """Accuracy against mean confidence per bin; the diagonal is perfect calibration."""
    image, draw = _canvas(400, 400)
    draw.text((10, 8), "reliability (x: confidence, y: accuracy; dot area ~ n)", fill=INK)
    left, top, side = 50, 40, 320
    draw.rectangle((left, top, left + side, top + side), outline=GRID)
    draw.line((left, top + side, left + side, top), fill=GRID, width=2)
    total = max(sum(b["n"] for b in bins), 1)
    for b in bins:
        x, y = left + b["confidence"] * side, top + side - b["accuracy"] * side
        r = 3 + 12 * (b["n"] / total) ** 0.5
        draw.ellipse((x - r, y - r, x + r, y + r), fill=BAR)
    image.save(path)


def _provenance(record: dict[str, Any], extra: list[str]) -> list[tuple[str, str]]:
    """(data set, its PROVENANCE.md) for each set the figures rest on: those the build opened,
    as its ``build.json`` measured them (:mod:`.training_data`), and those a bench measured on
    (``provenance`` of the card files: the OCR models are copied, not trained)."""
    data = record.get("data")
    opened = [
        row["set"]
        for key in ("trained_on", "evaluated_on")
        for row in (data.get(key, []) if isinstance(data, dict) else [])
    ]
    out = []
    for name in dict.fromkeys(n.removeprefix("models/data/") for n in [*opened, *extra]):
        path = DATA / name / "PROVENANCE.md"
        if path.is_file():
            out.append((name, path.read_text(encoding="utf-8")))
    return out


def card_metrics(folder: Path, cards: Path = CARDS) -> dict[str, Any]:
    """build.json's metrics with ``models/cards/<model>.json`` merged over them, then each
    ``<model>.<bench>.json`` (figures another bench measures, e.g. ``text-recognition.korean``
    from bench.korean_routing): their sample sizes and data sets are added, notes appended."""
    record = repository.read_build(folder)
    metrics: dict[str, Any] = dict(record.get("metrics", {}))
    extra = cards / f"{folder.name}.json"
    if extra.is_file():
        metrics |= json.loads(extra.read_text(encoding="utf-8"))
    for sidecar in sorted(cards.glob(f"{folder.name}.*.json")):
        _merge(metrics, json.loads(sidecar.read_text(encoding="utf-8")))
    return {"record": record, **metrics}


def _merge(metrics: dict[str, Any], extra: dict[str, Any]) -> None:
    for key, value in extra.items():
        have = metrics.get(key)
        if isinstance(have, dict) and isinstance(value, dict):
            metrics[key] = {**have, **value}
        elif key == "provenance" and isinstance(have, list):
            metrics[key] = [*have, *(v for v in value if v not in have)]
        elif key == "notes" and have:
            metrics[key] = f"{have} {value}"
        else:
            metrics[key] = value


def _per_class(metrics: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Per-class series to plot: explicit ``per_class``, else recall/F1 lists by ``classes``."""
    series: dict[str, dict[str, float]] = dict(metrics.get("per_class", {}))
    classes = metrics.get("classes", [])
    for key in ("recall", "f1", "precision"):
        if isinstance(metrics.get(key), list) and len(metrics[key]) == len(classes):
            series[key] = dict(zip(classes, metrics[key], strict=True))
    recalls = {k.removeprefix("recall_"): v for k, v in metrics.items() if k.startswith("recall_")}
    if recalls and "accept_rate" in metrics:
        series.setdefault("recall", {"accept": metrics["accept_rate"], **recalls})
    return series


def _counts(metrics: dict[str, Any]) -> dict[str, int]:
    n = metrics.get("n", {})
    if isinstance(n, list):
        return dict(zip(metrics.get("classes", []), n, strict=False))
    return dict(n) if isinstance(n, dict) else {}


def _table(rows: list[tuple[str, Any]]) -> str:
    cells = "".join(
        f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(_fmt(v))}</td></tr>" for k, v in rows
    )
    return f"<table>{cells}</table>"


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _data_of(data: Any) -> str:
    """What a build trained on, as its ``build.json`` records it (:mod:`.training_data`); a
    record written before that holds only a user's folder or "synthetic"."""
    if isinstance(data, dict):
        return str(data.get("summary", "?"))
    folder = training_data.user_folder({"data": data})
    return f"a user's folder, {folder}" if folder else "not recorded (built before the record)"


def write_card(folder: Path, cards: Path = CARDS) -> Path:
    """``folder/report.html`` and its PNG figures from the folder's metrics; returns the card."""
    metrics = card_metrics(folder, cards)
    record = metrics.pop("record")
    name = folder.name
    counts = _counts(metrics)
    figures: list[str] = []
    for metric, values in _per_class(metrics).items():
        file = f"card-{metric}.png"
        bar_chart(f"{name}: {metric} per class (held-out)", values, counts, folder / file)
        figures.append(file)
    if metrics.get("confusion") and metrics.get("classes"):
        confusion_chart(
            list(metrics["classes"]), metrics["confusion"], folder / "card-confusion.png"
        )
        figures.append("card-confusion.png")
    if metrics.get("reliability"):
        reliability_chart(metrics["reliability"], folder / "card-reliability.png")
        figures.append("card-reliability.png")
    scalars = [
        (k, v)
        for k, v in metrics.items()
        if isinstance(v, (int, float, str)) and not isinstance(v, bool) and k != "notes"
    ]
    backbone = metrics.get("backbone") or {}
    sources = _provenance(record, list(metrics.get("provenance", [])))
    body = [
        f"<h1>Model card: {html.escape(name)}</h1>",
        f"<p>Built {html.escape(str(record.get('built_at', '?')))}, fingerprint "
        f"<code>{html.escape(str(record.get('fingerprint', '?')))}</code>, data: "
        f"{html.escape(_data_of(record.get('data')))}.</p>",
        f"<p>{html.escape(str(metrics.get('notes', '')))}</p>" if metrics.get("notes") else "",
        "<h2>Sample sizes (held-out)</h2>",
        _table(list(counts.items())) if counts else "<p>not recorded</p>",
        "<h2>Metrics</h2>",
        _table(
            scalars + [(k, metrics[k]) for k in ("trained_on", "calibrated_on") if k in metrics]
        ),
        "<h2>Figures</h2>",
        *(f'<p><img src="{f}" alt="{f}"></p>' for f in figures),
        ""
        if metrics.get("reliability")
        else "<p>No reliability diagram: the model answers "
        "decisions (booleans) or values, not class probabilities.</p>",
        "<h2>Backbone</h2>",
        _table(list(backbone.items())) if backbone else "<p>none (no pretrained backbone)</p>",
        "<h2>Data provenance and licences</h2>",
        *(
            f"<h3>models/data/{html.escape(s)}</h3><pre>{html.escape(text)}</pre>"
            for s, text in sources
        ),
        "" if sources else "<p>No real data set: see models/README.md for how it was made.</p>",
    ]
    style = (
        "body{font-family:sans-serif;max-width:60em;margin:2em auto}th{text-align:left;"
        "padding-right:1em}pre{white-space:pre-wrap;background:#f6f8fa;padding:1em}"
    )
    page = f"<!doctype html><meta charset=utf-8><title>{html.escape(name)}</title>"
    page += f"<style>{style}</style>" + "\n".join(body)
    card = folder / CARD_FILE
    card.write_text(page, encoding="utf-8")
    log.event(_log, "card.written", model=name, figures=len(figures))
    return card


def write_all(repo: Path) -> list[Path]:
    """A card for every complete model folder of the repository."""
    return [write_card(f) for f in sorted(repo.iterdir()) if repository.is_complete(f)]
