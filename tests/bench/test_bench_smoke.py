"""``make bench`` in miniature: the harness runs end to end and its results are well formed.

Asserts on structure and sanity (counts, p50 <= p99, positive finite ratios), never on speed:
timings of a shared machine are benchmark figures, not test outcomes.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from serving.repository import is_complete
from serving.servers import REAL_REPOSITORY

ROOT = Path(__file__).resolve().parents[2]


def summary_ok(summary: dict[str, Any]) -> None:
    assert summary["n"] > 0
    assert 0 < summary["p50_ms"] <= summary["p99_ms"]
    assert summary["throughput_rps"] > 0


def ratio_ok(value: float) -> None:
    assert math.isfinite(value) and value > 0


@pytest.fixture(scope="module")
def quick_results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``python -m bench.run --quick`` into a temp folder (the committed results untouched)."""
    # `make test` builds the repository first: a missing one is a broken set-up, not a skip.
    assert is_complete(REAL_REPOSITORY), "models/repository is not built: run `make models`"
    out = tmp_path_factory.mktemp("bench")
    command = [sys.executable, "-m", "bench.run", "--quick", "--results", str(out)]
    command += ["--docs", str(out / "benchmarks.md")]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return out


def read(folder: Path, name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((folder / f"{name}.json").read_text())
    assert data["machine"]["cores"] >= 1 and data["plan"] == "quick"
    return data


@pytest.mark.timeout(630)
def test_serving_points_have_baseline_and_ratios(quick_results: Path) -> None:
    targets = read(quick_results, "serving")["targets"]
    assert set(targets) == {"car-quality-gate"}
    for points in targets.values():
        for point in points.values():
            for mode in ("direct", "grpc", "http", "floor"):
                summary_ok(point[mode])
                ratio_ok(point["cpu_ms_per_request"][mode])
            for protocol in ("grpc", "http"):
                for value in point[f"{protocol}_vs_direct"].values():
                    ratio_ok(value)
            # The floor (a canned answer, no server code) bounds what serving can reach: the
            # p50 bound is above 1 by construction, the throughput bound below 1.
            assert point["floor_bound"]["p50"] > 1
            assert 0 < point["floor_bound"]["throughput"] < 1


@pytest.mark.timeout(630)
def test_documents_split_and_rapidocr_baseline(quick_results: Path) -> None:
    data = read(quick_results, "documents")
    assert set(data["split_ms"]) == {"decode", "detection", "recognition", "parse"}
    assert all(v >= 0 for v in data["split_ms"].values())
    for path in ("rapidocr", "direct_1", "grpc_1", "http_1", "grpc_4"):
        summary_ok(data[path])
    for path in ("direct_1", "grpc_1", "http_1", "grpc_4"):
        ratio_ok(data["vs_rapidocr"][path]["p50"])
        ratio_ok(data["vs_rapidocr"][path]["throughput"])


@pytest.mark.timeout(630)
def test_batching_gain_and_operator(quick_results: Path) -> None:
    for point in read(quick_results, "batching")["targets"]["car-quality-gate"].values():
        for batcher in ("adaptive", "fixed", "off"):
            summary_ok(point[batcher])
        for other in ("fixed", "off"):
            ratio_ok(point[f"adaptive_vs_{other}"]["p50"])
            ratio_ok(point[f"adaptive_vs_{other}"]["throughput"])
    operator = read(quick_results, "operator")
    assert operator["latency"]["n"] == 3
    assert 0 < operator["latency"]["p50_ms"] <= operator["latency"]["p99_ms"]
    bulk = operator["bulk"]
    assert bulk["n"] == 10 and bulk["wall_s"] > 0
    ratio_ok(bulk["ratio_to_api_floor"])
    assert bulk["operator_rss_peak_mib"] >= bulk["operator_rss_idle_mib"] > 0


@pytest.mark.timeout(630)
def test_triton_section_splits_latency_with_tritons_statistics(quick_results: Path) -> None:
    data = read(quick_results, "triton")
    for point in data["small_models"]["car-quality-gate"].values():
        for mode in ("direct", "local", "triton", "floor"):
            summary_ok(point[mode])
        for pair in ("triton_vs_direct", "triton_vs_local", "local_vs_direct", "floor_bound"):
            for value in point["ratios"][pair].values():
                ratio_ok(value)
        split = point["split_ms"]  # Triton's own statistics moved: the requests went through it
        assert split["compute"] > 0 and split["queue"] >= 0 and split["mean_batch"] >= 1
        assert split["client_mean"] >= split["queue"] + split["compute"]
    receipts = data["receipts"]
    for key in ("rapidocr_1", "local_1", "triton_1"):
        summary_ok(receipts[key])
        assert receipts["cpu_ms_per_page"][key] > 0
    assert receipts["models_cpu_ms_per_page"] > 0
    detection = receipts["triton_per_request_ms"]["text-detection"]
    assert detection["requests"] >= 1 and detection["compute_ms"] > 0


@pytest.mark.timeout(630)
def test_table_shows_every_section(quick_results: Path) -> None:
    text = (quick_results / "benchmarks.md").read_text()
    for title in (
        "Goals",
        "Serving overhead",
        "Document pipeline",
        "Dynamic batching",
        "Operator",
        "Through a real Triton",
    ):
        assert f"### {title}" in text
    assert "not measured" in text  # the GPU section without gpu.json says so
