"""The tables of ``docs/benchmarks.md``, regenerated from ``bench/results/*.json``.

Only the part between the ``bench:begin``/``bench:end`` markers is rewritten; the prose around
it (method, profiles, what changed) is kept. A section without a results file says so.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.common import read_result

BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"
TITLE = "# Benchmarks\n\n"


def _row(cells: list[Any]) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    return [_row(header), _row(["---"] * len(header)), *(_row(r) for r in rows)]


def serving(results: Path) -> list[str]:
    data = read_result("serving", results)
    if data is None:
        return ["_serving: not measured (run `make bench`)._"]
    rows = []
    for target, points in data["targets"].items():
        for conc, p in points.items():
            d = p["direct"]
            for proto in ("grpc", "http"):
                s, r = p[proto], p[f"{proto}_vs_direct"]
                rows.append(
                    [
                        target, conc, proto, s["n"],
                        f"{s['p50_ms']} / {d['p50_ms']}", f"**{r['p50']}**",
                        f"{s['p99_ms']} / {d['p99_ms']}", r["p99"],
                        f"{s['throughput_rps']} / {d['throughput_rps']}", f"**{r['throughput']}**",
                    ]
                )  # fmt: skip
    header = [
        "target", "conc.", "protocol", "n", "p50 ms served / direct", "p50 ratio",
        "p99 ms served / direct", "p99 ratio", "req/s served / direct", "throughput ratio",
    ]  # fmt: skip
    lines = [f"Measured {data['machine']['date']} on {_machine(data)}.", ""]
    return lines + _table(header, rows)


def documents(results: Path) -> list[str]:
    data = read_result("documents", results)
    serve = read_result("serving", results)
    if data is None:
        return ["_documents: not measured._"]
    split = data["split_ms"]
    total = sum(split.values())
    rows = [[k, v, f"{100 * v / total:.0f}%"] for k, v in split.items()]
    lines = ["Where the time of one document goes (in-process, one at a time):", ""]
    lines += _table(["step", "ms / document", "share"], rows)
    rapid, direct = data["rapidocr"], data["pipeline_direct"]
    lines += [
        "",
        "Document pipeline against the plain `RapidOCR()` call on the same documents:",
        "",
    ]
    rows = [
        ["`RapidOCR()` (no platform)", rapid["n"], rapid["throughput_rps"], rapid["p99_ms"], 1.0],
        [
            "modelplane stages in-process, conc. 1",
            direct["n"],
            direct["throughput_rps"],
            direct["p99_ms"],
            round(direct["throughput_rps"] / rapid["throughput_rps"], 3),
        ],
    ]
    if serve is not None and "documents" in serve["targets"]:
        for conc, point in serve["targets"]["documents"].items():
            s = point["grpc"]
            rows.append(
                [
                    f"`modelplane serve` gRPC, conc. {conc}",
                    s["n"],
                    s["throughput_rps"],
                    s["p99_ms"],
                    round(s["throughput_rps"] / rapid["throughput_rps"], 3),
                ]
            )
    header = ["path", "n", "documents/s", "p99 ms", "documents/s vs RapidOCR"]
    return lines + _table(header, rows)


def preprocess(results: Path) -> list[str]:
    data = read_result("preprocess", results)
    if data is None:
        return ["_preprocessing: not measured._"]
    rows = [
        [m, "x".join(map(str, p["input"])), p["full_ms"], p["draft_ms"], f"**{p['speedup']}**",
         ", ".join(f"{k} {v:.1%}" for k, v in p["output_drift"].items())]
        for m, p in data["models"].items()
    ]  # fmt: skip
    header = ["model", "input", "full decode ms/image", "draft decode ms/image", "speed-up",
              "max output change (relative)"]  # fmt: skip
    return _table(header, rows)


def batching(results: Path) -> list[str]:
    data = read_result("batching", results)
    if data is None:
        return ["_batching: not measured._"]
    rows = [
        [
            t,
            p["concurrency"],
            f"{p['on']['throughput_rps']} / {p['off']['throughput_rps']}",
            f"**{p['gain']}**",
            f"{p['on']['p99_ms']} / {p['off']['p99_ms']}",
        ]
        for t, p in data["targets"].items()
    ]
    header = ["target", "conc.", "req/s batching on / off", "gain", "p99 ms on / off"]
    return _table(header, rows)


def operator(results: Path) -> list[str]:
    data = read_result("operator", results)
    if data is None:
        return ["_operator: not measured._"]
    lat, bulk = data["latency"], data["bulk"]
    rows = [
        ["create -> InferenceService p50 / p99", f"{lat['p50_ms']} / {lat['p99_ms']} ms",
         f"{lat['n']} ModelDeployments, one at a time"],
        [f"reconcile {bulk['n']} at once (wall)", f"{bulk['wall_s']} s",
         f"API floor {bulk['api_floor_s']} s (ratio **{bulk['ratio_to_api_floor']}**)"],
        [f"operator CPU to reconcile {bulk['n']}", f"{bulk.get('operator_cpu_s', '?')} s",
         "user+system time of the operator process during the bulk run"],
        ["operator RSS peak / idle", f"{bulk['operator_rss_peak_mib']} MiB",
         f"idle {bulk['operator_rss_idle_mib']} MiB"],
    ]  # fmt: skip
    return _table(["figure", "value", "baseline"], rows)


def gpu(results: Path) -> list[str]:
    data = read_result("gpu", results)
    if data is None:
        return ["_GPU: not measured — no GPU on the machine that ran `make bench`; see below._"]
    rows = []
    for model, points in data["models"].items():
        for batch, p in points.items():
            rows.append(
                [
                    model, batch,
                    f"{p['trt_fp16']['p50_ms']} / {p['ort_cuda']['p50_ms']}",
                    f"**{p['speedup']}**",
                    f"{p['trt_fp16']['items_per_s']} / {p['ort_cuda']['items_per_s']}",
                    f"{p['trt_fp16']['gpu_mib']} / {p['ort_cuda']['gpu_mib']}",
                ]
            )  # fmt: skip
    header = ["model", "batch", "p50 ms TRT fp16 / ORT CUDA", "speedup",
              "items/s TRT / ORT", "GPU MiB TRT / ORT"]  # fmt: skip
    measured = f"Measured {data['machine']['date']} on {data['machine']['gpu']}."
    return [measured, "", *_table(header, rows)]


def _machine(data: dict[str, Any]) -> str:
    m = data["machine"]
    return f"{m['cores']} cores ({m['cpu']}), Python {m['python']}, plan {data['plan']}"


def tables(results: Path) -> str:
    parts = [
        ("Serving overhead: `modelplane serve` vs ONNX Runtime in-process", serving),
        ("Document pipeline", documents),
        ("Preprocessing before/after: full vs draft JPEG decode (1280x960 photos)", preprocess),
        ("Dynamic batching", batching),
        ("Operator against kmock", operator),
        ("GPU: TensorRT fp16 vs ONNX Runtime CUDA", gpu),
    ]
    lines = [BEGIN, ""]
    for title, fn in parts:
        lines += [f"### {title}", "", *fn(results), ""]
    lines.append(END)
    return "\n".join(lines)


def write(results: Path, path: Path) -> None:
    """Replace the generated block of ``path`` (created with a title if missing)."""
    text = path.read_text(encoding="utf-8") if path.is_file() else TITLE + BEGIN + "\n" + END + "\n"
    if BEGIN not in text or END not in text:
        text = text.rstrip("\n") + "\n\n" + BEGIN + "\n" + END + "\n"
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(head + tables(results) + tail, encoding="utf-8")
