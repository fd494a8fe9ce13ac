"""``make bench``: every benchmark, interleaved with its baseline, then the table.

    python -m bench.run                     # everything (about 5 minutes on 2 idle cores)
    python -m bench.run --quick             # a smoke run (seconds; figures too small to quote)
    python -m bench.run --only operator     # one section; the table keeps the others' files

Baseline and platform are measured in alternating rounds (baseline, gRPC, REST, baseline, ...)
and pooled, so a shared machine's load drifting during the run hits both sides of each ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import floor, report
from bench.common import RESULTS, ROOT, Sample, cpu_seconds, pooled, progress, ratio, write_result
from bench.inputs import TARGETS

SECTIONS = ("serving", "batching", "triton", "operator")


@dataclass(frozen=True)
class Plan:
    """How much of each section to run; ``quick`` is the smoke test's size."""

    rounds: int
    concurrency: tuple[int, ...]
    per_round: dict[str, dict[int, int]]  # target -> concurrency -> requests per round
    split_docs: int
    rapidocr_per_round: int
    served_docs: dict[int, int]  # concurrency -> documents per round, against RapidOCR
    batching_targets: tuple[str, ...]
    batching_per_round: dict[int, int]  # concurrency -> requests per round
    operator_latency: int
    operator_bulk: int
    preprocess_repeats: int = 5
    # real receipts through `serve --predictors triton` and local serve: conc. -> pages a round
    receipt_docs: dict[int, int] = field(default_factory=lambda: {1: 4, 4: 12})


FULL = Plan(
    rounds=3,
    concurrency=(1, 4, 16),
    per_round={
        "car-quality-gate": {1: 60, 4: 120, 16: 240},
        "pet-breed": {1: 60, 4: 120, 16: 240},
    },
    split_docs=4,
    rapidocr_per_round=4,
    # three documents per client at concurrency 4: with one each, a round's throughput is
    # four over its slowest document, not the steady state the goal is about
    served_docs={1: 4, 4: 12},
    batching_targets=("car-quality-gate", "pet-breed"),
    batching_per_round={1: 60, 16: 240},
    operator_latency=100,
    operator_bulk=1000,
)
QUICK = Plan(
    rounds=1,
    concurrency=(1, 4),
    per_round={"car-quality-gate": {1: 5, 4: 8}},
    split_docs=1,
    rapidocr_per_round=1,
    served_docs={1: 1, 4: 2},
    batching_targets=("car-quality-gate",),
    batching_per_round={1: 4, 4: 8},
    operator_latency=3,
    operator_bulk=10,
    preprocess_repeats=1,
    receipt_docs={1: 1},
)


class BaselineProcess:
    """``python -m bench.direct``: the in-process ONNX Runtime baseline, driven over stdin."""

    def __init__(self) -> None:
        progress("starting the in-process baseline (same stages, bare ONNX Runtime)")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.direct"],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self._read()

    def _read(self) -> Any:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"bench.direct exited with {self.process.wait()}")
        return json.loads(line).get("result")

    def ask(self, **command: Any) -> Any:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        return self._read()

    def measure(self, target: str, conc: int, n: int) -> Sample:
        progress(f"direct ORT {target} concurrency {conc} ({n} requests)")
        latencies, wall = self.ask(kind="measure", target=target, conc=conc, n=n)
        return latencies, wall

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=30)


def with_cpu(pids: list[int], measure: Callable[[], Sample]) -> tuple[Sample, float]:
    """A measurement and the CPU seconds it cost: the given processes plus this one (where the
    clients run; its other threads sleep meanwhile)."""
    before = sum(cpu_seconds(pid) for pid in pids) + time.process_time()
    sample = measure()
    return sample, sum(cpu_seconds(pid) for pid in pids) + time.process_time() - before


def canned_answer(server: Any, target: str, inputs: tuple[bytes, ...]) -> bytes:
    """A real answer of ``modelplane serve``, serialized: the floor server's canned response."""
    import numpy as np
    import tritonclient.grpc as grpcclient

    tensor = grpcclient.InferInput("image", [1], "BYTES")
    tensor.set_data_from_numpy(np.array([inputs[0]], dtype=np.object_))
    result = grpcclient.InferenceServerClient(server.grpc).infer(target, [tensor])
    return bytes(result.get_response().SerializeToString())


def serving_section(plan: Plan, baseline: BaselineProcess, server: Any) -> dict[str, Any]:
    """Per target and concurrency: direct vs gRPC vs REST vs the protocol floor, the
    served/direct ratios, CPU per request of each, and the best ratios the floor allows."""
    out: dict[str, Any] = {}
    for target, sizes in plan.per_round.items():
        inputs = TARGETS[target]()
        out[target] = {}
        with floor.canned_server(canned_answer(server, target, inputs)) as floor_server:
            servers = {"direct": baseline, "grpc": server, "http": server, "floor": floor_server}
            for conc, n in sizes.items():
                samples, cpu = interleaved(plan, servers, target, conc, n)
                out[target][str(conc)] = serving_point(samples, cpu)
    return out


def interleaved(
    plan: Plan, servers: dict[str, Any], target: str, conc: int, n: int
) -> tuple[dict[str, list[Sample]], dict[str, float]]:
    """``plan.rounds`` rounds of each mode in turn; samples and CPU seconds per mode."""
    from bench import serving

    inputs = TARGETS[target]()
    samples: dict[str, list[Sample]] = {mode: [] for mode in servers}
    cpu = dict.fromkeys(servers, 0.0)
    for _ in range(plan.rounds):
        for mode, srv in servers.items():
            if mode == "direct":
                call = functools.partial(srv.measure, target, conc, n)
            else:
                protocol = "http" if mode == "http" else "grpc"
                call = functools.partial(serving.measure, srv, protocol, target, inputs, conc, n)
            # a server with child processes (Triton and its stubs) names them all
            pids = srv.pids() if hasattr(srv, "pids") else [srv.process.pid]
            sample, seconds = with_cpu(pids, call)
            samples[mode].append(sample)
            cpu[mode] += seconds
    return samples, cpu


def serving_point(samples: dict[str, list[Sample]], cpu: dict[str, float]) -> dict[str, Any]:
    """Pooled figures of one target and concurrency, the ratios and the floor's bounds."""
    point: dict[str, Any] = {mode: pooled(s) for mode, s in samples.items()}
    point["cpu_ms_per_request"] = {
        mode: round(1e3 * cpu[mode] / point[mode]["n"], 2) for mode in samples
    }
    d = point["direct"]
    for protocol in ("grpc", "http"):
        point[f"{protocol}_vs_direct"] = {
            "p50": ratio(point[protocol]["p50_ms"], d["p50_ms"]),
            "p99": ratio(point[protocol]["p99_ms"], d["p99_ms"]),
            "throughput": ratio(point[protocol]["throughput_rps"], d["throughput_rps"]),
        }
    direct_cpu, floor_cpu = (point["cpu_ms_per_request"][m] for m in ("direct", "floor"))
    point["floor_bound"] = {
        "p50": ratio(d["p50_ms"] + point["floor"]["p50_ms"], d["p50_ms"]),
        "throughput": ratio(direct_cpu, direct_cpu + floor_cpu),
    }
    return point


def documents_section(plan: Plan, baseline: BaselineProcess, server: Any) -> dict[str, Any]:
    """Plain RapidOCR (one engine, calls back to back) against ``modelplane serve`` (gRPC and
    REST at concurrency 1, gRPC at 4) and the same stages in-process, interleaved by round."""
    from bench import serving

    progress(f"document pipeline split ({plan.split_docs} documents)")
    split = baseline.ask(kind="split", n=plan.split_docs)
    docs = TARGETS["documents"]()
    samples: dict[str, list[Sample]] = {}
    for _ in range(plan.rounds):
        progress(f"plain RapidOCR() ({plan.rapidocr_per_round} documents)")
        samples.setdefault("rapidocr", []).append(
            tuple(baseline.ask(kind="rapidocr", n=plan.rapidocr_per_round))
        )
        samples.setdefault("direct_1", []).append(
            baseline.measure("documents", 1, plan.rapidocr_per_round)
        )
        for conc, n in plan.served_docs.items():
            for protocol in ("grpc", "http") if conc == 1 else ("grpc",):
                samples.setdefault(f"{protocol}_{conc}", []).append(
                    serving.measure(server, protocol, "documents", docs, conc, n)
                )
    out: dict[str, Any] = {"split_ms": split}
    out.update({key: pooled(s) for key, s in samples.items()})
    rapid = out["rapidocr"]
    out["vs_rapidocr"] = {
        key: {
            "p50": ratio(out[key]["p50_ms"], rapid["p50_ms"]),
            "throughput": ratio(out[key]["throughput_rps"], rapid["throughput_rps"]),
        }
        for key in samples
        if key != "rapidocr"
    }
    return out


def batching_section(plan: Plan, server: Any) -> dict[str, Any]:
    """The adaptive batcher (the server) against Triton's fixed queue delay and against no
    batching (``maxBatchSize: 0``), gRPC, interleaved by round."""
    from bench import serving

    out: dict[str, Any] = {}
    with serving.running_with_fixed_batcher() as fixed, serving.running_without_batching() as off:
        servers = {"adaptive": server, "fixed": fixed, "off": off}
        for target in plan.batching_targets:
            inputs = TARGETS[target]()
            out[target] = {}
            for conc, n in plan.batching_per_round.items():
                samples: dict[str, list[Sample]] = {name: [] for name in servers}
                for _ in range(plan.rounds):
                    for name, srv in servers.items():
                        samples[name].append(serving.measure(srv, "grpc", target, inputs, conc, n))
                point: dict[str, Any] = {name: pooled(s) for name, s in samples.items()}
                for other in ("fixed", "off"):
                    point[f"adaptive_vs_{other}"] = {
                        "p50": ratio(point["adaptive"]["p50_ms"], point[other]["p50_ms"]),
                        "throughput": ratio(
                            point["adaptive"]["throughput_rps"], point[other]["throughput_rps"]
                        ),
                    }
                out[target][str(conc)] = point
    return out


def machine() -> dict[str, Any]:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    import os

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }


def run(plan: Plan, sections: tuple[str, ...], results: Path) -> None:
    meta = {"machine": machine(), "plan": "quick" if plan is QUICK else "full"}
    if {"serving", "batching", "triton"} & set(sections):
        from bench import serving

        baseline = BaselineProcess()
        try:
            with serving.running() as server:
                if "serving" in sections:
                    data = serving_section(plan, baseline, server)
                    write_result("serving", {**meta, "targets": data}, results)
                    docs = documents_section(plan, baseline, server)
                    write_result("documents", {**meta, **docs}, results)
                    progress("preprocessing before/after (full vs draft JPEG decode)")
                    pre = baseline.ask(kind="preprocess", repeats=plan.preprocess_repeats)
                    write_result("preprocess", {**meta, "models": pre}, results)
                if "batching" in sections:
                    write_result(
                        "batching", {**meta, "targets": batching_section(plan, server)}, results
                    )
                if "triton" in sections:
                    from bench import triton

                    write_result("triton", {**meta, **triton.run(plan, baseline, server)}, results)
        finally:
            baseline.close()
    if "operator" in sections:
        from bench import reconcile

        data = asyncio.run(reconcile.run(plan.operator_latency, plan.operator_bulk))
        write_result("operator", {**meta, **data}, results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke-test sizes")
    parser.add_argument(
        "--only", action="append", choices=SECTIONS, help="run only this section (repeatable)"
    )
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--docs", type=Path, default=ROOT / "docs" / "benchmarks.md")
    parser.add_argument("--no-docs", action="store_true", help="leave docs/benchmarks.md alone")
    args = parser.parse_args()
    sections = tuple(args.only or SECTIONS)
    started = time.monotonic()
    run(QUICK if args.quick else FULL, sections, args.results)
    if not args.no_docs:
        report.write(args.results, args.docs)
        progress(f"table written to {args.docs}")
    progress(f"done in {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
