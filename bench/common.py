"""Shared pieces: latency summaries, a closed-loop load generator, progress lines, JSON files.

Load is closed-loop (each of N workers sends its next request when the previous answer is back),
as Triton's ``perf_analyzer --concurrency-range`` does, so throughput at concurrency N is what N
callers can get, and p99 includes queueing inside the server.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
Summary = dict[str, float]


def progress(message: str) -> None:
    """One line on stderr with elapsed time: long benches must show they are alive."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (/proc/<pid>/stat fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (no interpolation: with few samples p99 is the maximum)."""
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def summarise(latencies_s: list[float], wall_s: float) -> Summary:
    """p50/p99 in milliseconds, throughput in requests/s, and the sample count."""
    return {
        "n": len(latencies_s),
        "p50_ms": round(percentile(latencies_s, 50) * 1e3, 2),
        "p99_ms": round(percentile(latencies_s, 99) * 1e3, 2),
        "throughput_rps": round(len(latencies_s) / wall_s, 2),
    }


Sample = tuple[list[float], float]  # (latencies in seconds, wall seconds) of one round


def pooled(samples: list[Sample]) -> Summary:
    """One summary over interleaved rounds: all latencies, total wall time."""
    latencies = [x for lat, _ in samples for x in lat]
    return summarise(latencies, sum(wall for _, wall in samples))


def closed_loop(
    make_caller: Callable[[], Callable[[int], Any]], concurrency: int, requests: int
) -> Sample:
    """``requests`` calls from ``concurrency`` threads, each with its own caller (client).

    ``make_caller()`` runs once per thread (a client per thread, as separate users have); the
    caller gets the request index so workers cycle over the inputs.
    """
    latencies: list[float] = []
    lock = threading.Lock()
    counter = iter(range(requests))
    errors: list[BaseException] = []

    def worker() -> None:
        call = make_caller()
        while True:
            with lock:
                index = next(counter, None)
            if index is None or errors:
                return
            started = time.perf_counter()
            try:
                call(index)
            except BaseException as exc:  # surfaced below: a failed call voids the figure
                errors.append(exc)
                return
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise RuntimeError(f"a benchmark call failed: {errors[0]!r}") from errors[0]
    return latencies, time.perf_counter() - started


def ratio(value: float, baseline: float) -> float:
    return round(value / baseline, 3) if baseline else float("nan")


def add_results_option(parser: argparse.ArgumentParser) -> None:
    """``--results DIR`` for a quality bench: an experiment writes its JSON elsewhere, so the
    shared ``bench/results/`` file (the measured figures the docs quote) stays as measured."""
    parser.add_argument(
        "--results",
        type=Path,
        default=RESULTS,
        metavar="DIR",
        help="folder the results JSON is written to, under its usual name (default: the shared "
        "bench/results/); refused with --cards",
    )


def results_folder(parser: argparse.ArgumentParser, args: argparse.Namespace) -> Path:
    """``--results``, checked before anything runs. ``--cards`` publishes this run's figures as
    the model cards, so it must write the shared results, never an experiment's folder; a
    ``.json`` name is refused too (the option takes a folder, as ``bench.run``'s does)."""
    folder: Path = args.results
    if folder.suffix == ".json":
        parser.error(f"--results takes a folder (the file keeps its name), not {folder}")
    if getattr(args, "cards", False) and folder.resolve() != RESULTS.resolve():
        parser.error("--cards publishes the shared figures: not with --results elsewhere")
    return folder


def write_result(name: str, payload: dict[str, Any], folder: Path = RESULTS) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    path.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    return path


def read_result(name: str, folder: Path = RESULTS) -> dict[str, Any] | None:
    path = folder / f"{name}.json"
    if not path.is_file():
        return None
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data
