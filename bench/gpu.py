"""GPU bench: per model, ONNX Runtime's CUDA provider vs a TensorRT fp16 plan, batch 1/8/32.

Both sides take numpy in and give numpy out (host<->device copies counted on both), on the
same synthetic inputs; each plan is built by ``modelplane-build-engine``'s own code with a batch
profile up to 32. GPU memory per model is the drop in free device memory (``cudaMemGetInfo``)
while its session or engine is loaded and has run. Writes ``bench/results/gpu.json``.

    pip install -e '.[gpu,inference,models,dev]' && pip uninstall -y onnxruntime \\
        && pip install onnxruntime-gpu && make models && python -m bench.gpu

Without a GPU (or TensorRT, or ORT's CUDA provider) it prints why and exits 0 with no file.
"""

from __future__ import annotations

import argparse
import functools
import gc
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from bench import report
from bench.common import RESULTS, ROOT, percentile, progress, ratio, write_result

REPOSITORY = ROOT / "models" / "repository"
BATCHES = (1, 8, 32)
# Dynamic image dims of the PP-OCR models: bounds as the examples' ModelDeployments give them;
# timed at the opt shape.
SHAPES = {
    "text-detection": "x:3,32,32:3,736,736:3,1536,1536",
    "text-recognition": "x:3,48,32:3,48,320:3,48,2048",
}
MODELS = ("quality-gate", "breed", "text-detection", "text-recognition")


def why_not() -> str | None:
    """None when a GPU run is possible, else the reason (printed, never an error)."""
    try:
        import tensorrt  # noqa: F401
        import torch
    except ImportError as exc:
        return f"TensorRT/torch not installed ({exc.name}): pip install -e '.[gpu]'"
    if not torch.cuda.is_available():
        return "no CUDA device"
    import onnxruntime as ort

    if "CUDAExecutionProvider" not in ort.get_available_providers():
        return "onnxruntime has no CUDAExecutionProvider: pip install onnxruntime-gpu"
    return None


def free_mib() -> float:
    import torch

    torch.cuda.synchronize()
    free, _ = torch.cuda.mem_get_info()
    return float(free) / 2**20


def time_calls(call: Callable[[], Any], repeats: int) -> dict[str, float]:
    for _ in range(3):
        call()  # warm-up: kernel selection, arena growth
    latencies = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        latencies.append(time.perf_counter() - started)
    return {"p50_ms": round(percentile(latencies, 50) * 1e3, 3), "wall_s": sum(latencies)}


Times = dict[int, dict[str, float]]


def timed_ort(onnx: Path, feeds: dict[int, Any], repeats: int) -> tuple[Times, float]:
    """ORT CUDA provider per batch, and the device memory its session holds (MiB)."""
    import onnxruntime as ort

    before = free_mib()
    session = ort.InferenceSession(str(onnx), providers=["CUDAExecutionProvider"])
    times = {b: time_calls(functools.partial(session.run, None, feeds[b]), repeats) for b in feeds}
    used = round(before - free_mib(), 1)
    del session
    gc.collect()
    return times, used


def timed_plan(plan: Path, feeds: dict[int, Any], repeats: int) -> tuple[Times, float]:
    """The TensorRT plan per batch, and the device memory its engine holds (MiB)."""
    from modelplane_models import tensorrt as trt_build

    before = free_mib()
    runner = trt_build.PlanRunner(plan.read_bytes())
    times = {b: time_calls(functools.partial(runner.run, feeds[b]), repeats) for b in feeds}
    used = round(before - free_mib(), 1)
    del runner
    gc.collect()
    return times, used


def measure(name: str, repeats: int, workdir: Path) -> dict[str, Any]:
    from modelplane_models import tensorrt as trt_build

    onnx = REPOSITORY / name / "1" / "model.onnx"
    options = trt_build.BuildOptions(
        onnx=onnx,
        output=workdir / "engines" / name / "1" / "model.plan",
        precision="fp16",
        max_batch_size=max(BATCHES),
        shapes=(SHAPES[name],) if name in SHAPES else (),
        timing_cache=workdir / "timing.cache",
    )
    progress(f"gpu: building the TensorRT fp16 plan of {name}")
    record = trt_build.build(options)
    spec = trt_build.model_spec(onnx, name, max(BATCHES))
    profile = trt_build.profiles(spec, options.shapes, max(BATCHES))
    rng = np.random.default_rng(3)
    feeds = {
        b: trt_build.synthetic_feeds(spec, {p.name: (b, *p.opt[1:]) for p in profile}, rng)
        for b in BATCHES
    }
    result: dict[str, Any] = {"build_seconds": record["build_seconds"], "parity": record["parity"]}

    ort_times, ort_mib = timed_ort(onnx, feeds, repeats)
    trt_times, trt_mib = timed_plan(options.output, feeds, repeats)
    for b in BATCHES:
        o, t = ort_times[b], trt_times[b]
        result[str(b)] = {
            "ort_cuda": {**o, "items_per_s": round(b * repeats / o["wall_s"], 1),
                         "gpu_mib": ort_mib},
            "trt_fp16": {**t, "items_per_s": round(b * repeats / t["wall_s"], 1),
                         "gpu_mib": trt_mib},
            "speedup": ratio(o["p50_ms"], t["p50_ms"]),
        }  # fmt: skip
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument(
        "--models", action="append", choices=MODELS, help="only this model (repeatable)"
    )
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--docs", type=Path, default=ROOT / "docs" / "benchmarks.md")
    args = parser.parse_args()
    reason = why_not()
    if reason is not None:
        print(f"bench.gpu skipped: {reason}")
        return
    import torch

    models: dict[str, Any] = {}
    builds: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="modelplane-gpu-") as work:
        for name in args.models or MODELS:
            measured = measure(name, args.repeats, Path(work))
            models[name] = {k: v for k, v in measured.items() if k.isdigit()}
            builds[name] = {k: v for k, v in measured.items() if not k.isdigit()}
    machine = {
        "gpu": torch.cuda.get_device_name(0),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }
    write_result("gpu", {"machine": machine, "models": models, "builds": builds}, args.results)
    report.write(args.results, args.docs)
    progress(f"gpu results in {args.results / 'gpu.json'}, table in {args.docs}")


if __name__ == "__main__":
    main()
