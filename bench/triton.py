"""``make bench`` section ``triton``: the cluster's serving topology measured on one machine.

``modelplane serve --predictors triton`` runs each stage as a transformer calling one real
``tritonserver`` over gRPC (issue 23). Against it, in interleaved rounds of one run:

- small models (``car-quality-gate``, ``pet-breed``; JPEG photos, stock ``tritonclient.grpc``):
  the stages in-process over bare ONNX Runtime (``bench.direct``), today's ``modelplane serve``
  (ONNX Runtime in the server's process) and the gRPC floor (``bench.floor``, canned answers);
- documents on real scanned receipts (SROIE, ``bench.inputs.receipts``): plain ``RapidOCR()``
  and today's ``modelplane serve``; CPU per page served (server, Triton and its python stubs,
  and the clients) against the models' own CPU (detection + recognition in-process, one page at
  a time).

Triton's statistics extension (``/v2/models/stats``) is read before and after each point, so the
client's mean latency is split into: the client and gRPC transport (the floor's mean), the
transformer (stage pre/post-processing and its gRPC hop to Triton), Triton's own handling
(request time less queue and compute: frontend, scheduler, python-stub IPC), queue, compute.
"""

from __future__ import annotations

import json
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from statistics import fmean
from typing import Any

from bench import floor, serving
from bench.common import Sample, pooled, progress, ratio, read_result
from bench.inputs import PAGES, TARGETS
from bench.report import _table

FLAGS = ("--predictors", "triton")
RECEIPT_MODELS = ("text-detection", "text-recognition")


class TritonServed:
    """``modelplane serve --predictors triton`` as the bench drives it: the server (gRPC, REST)
    plus where its Triton answers statistics, and every process of the tree for CPU."""

    def __init__(self, server: Any) -> None:
        self.server = server
        self.grpc, self.http, self.process = server.grpc, server.http, server.process
        self.triton_http = triton_http(server.log)

    def pids(self) -> list[int]:
        return [self.process.pid, *descendants(self.process.pid)]

    def stats(self) -> dict[str, dict[str, float]]:
        """Cumulative counters per model: requests, executions, inferences, ns per phase."""
        with urllib.request.urlopen(f"{self.triton_http}/v2/models/stats", timeout=10) as reply:
            body = json.load(reply)
        out = {}
        for model in body["model_stats"]:
            s = model["inference_stats"]
            out[model["name"]] = {
                "requests": float(s["success"]["count"]),
                "request_ns": float(s["success"]["ns"]),
                "queue_ns": float(s["queue"]["ns"]),
                "compute_ns": float(
                    sum(s[k]["ns"] for k in ("compute_input", "compute_infer", "compute_output"))
                ),
                "executions": float(model["execution_count"]),
                "inferences": float(model["inference_count"]),
            }
        return out


def triton_http(log: Path) -> str:
    """Triton's HTTP address, from the server's structured ``tritonserver ready`` log line."""
    for line in log.read_text(errors="replace").splitlines():
        if '"tritonserver ready"' in line:
            return str(json.loads(line)["http"])
    raise RuntimeError(f"no 'tritonserver ready' line in {log}")


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (Triton and its python stubs), from /proc."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        for child in (task / "children").read_text().split():
            found += [int(child), *descendants(int(child))]
    return found


@contextmanager
def running() -> Any:
    with serving.running(label="serve --predictors triton", flags=FLAGS) as server:
        yield TritonServed(server)


def per_request(before: dict[str, Any], after: dict[str, Any], models: tuple[str, ...]) -> Any:
    """Triton's own ms per request (summed over ``models``: one client call is one request to
    each), the requests seen and the mean batch size."""
    delta = {
        key: sum(after[m][key] - before.get(m, {}).get(key, 0.0) for m in models)
        for key in ("requests", "request_ns", "queue_ns", "compute_ns", "executions", "inferences")
    }
    calls = delta["requests"] / len(models) or 1.0
    return {
        "requests": delta["requests"],
        "triton_ms": round(delta["request_ns"] / calls / 1e6, 3),
        "queue_ms": round(delta["queue_ns"] / calls / 1e6, 3),
        "compute_ms": round(delta["compute_ns"] / calls / 1e6, 3),
        "mean_batch": round(delta["inferences"] / max(delta["executions"], 1.0), 2),
    }


def mean_ms(samples: list[Sample]) -> float:
    return round(fmean(x for lat, _ in samples for x in lat) * 1e3, 3)


def small_models(plan: Any, baseline: Any, local: Any, triton: TritonServed) -> dict[str, Any]:
    """Per target and concurrency: direct, local serve, Triton serve and the floor, interleaved."""
    from bench.run import canned_answer, interleaved

    out: dict[str, Any] = {}
    for target, sizes in plan.per_round.items():
        inputs, models = TARGETS[target](), (serving.model_of(target),)
        out[target] = {}
        with floor.canned_server(canned_answer(triton, target, inputs)) as canned:
            servers = {"direct": baseline, "local": local, "triton": triton, "floor": canned}
            for conc, n in sizes.items():
                before = triton.stats()
                samples, cpu = interleaved(plan, servers, target, conc, n)
                point: dict[str, Any] = {mode: pooled(s) for mode, s in samples.items()}
                point["cpu_ms_per_request"] = {
                    mode: round(1e3 * cpu[mode] / point[mode]["n"], 2) for mode in samples
                }
                point["ratios"] = ratios(point)
                point["split_ms"] = split(samples, per_request(before, triton.stats(), models))
                out[target][str(conc)] = point
    return out


def ratios(point: dict[str, Any]) -> dict[str, Any]:
    d, t, local = point["direct"], point["triton"], point["local"]
    cpu = point["cpu_ms_per_request"]
    return {
        "triton_vs_direct": {
            "p50": ratio(t["p50_ms"], d["p50_ms"]),
            "p99": ratio(t["p99_ms"], d["p99_ms"]),
            "throughput": ratio(t["throughput_rps"], d["throughput_rps"]),
        },
        "triton_vs_local": {
            "p50": ratio(t["p50_ms"], local["p50_ms"]),
            "throughput": ratio(t["throughput_rps"], local["throughput_rps"]),
        },
        "local_vs_direct": {
            "p50": ratio(local["p50_ms"], d["p50_ms"]),
            "throughput": ratio(local["throughput_rps"], d["throughput_rps"]),
        },
        "floor_bound": {
            "p50": ratio(d["p50_ms"] + point["floor"]["p50_ms"], d["p50_ms"]),
            "throughput": ratio(cpu["direct"], cpu["direct"] + cpu["floor"]),
        },
    }


def split(samples: dict[str, list[Sample]], triton: dict[str, float]) -> dict[str, float]:
    """The Triton mode's mean latency cut into where it went (module docstring)."""
    client = mean_ms(samples["triton"])
    transport = mean_ms(samples["floor"])
    return {
        "client_mean": client,
        "client_and_grpc": transport,
        "transformer": round(client - transport - triton["triton_ms"], 3),
        "triton_handling": round(
            triton["triton_ms"] - triton["queue_ms"] - triton["compute_ms"], 3
        ),
        "queue": triton["queue_ms"],
        "compute": triton["compute_ms"],
        "mean_batch": triton["mean_batch"],
    }


def receipts(plan: Any, baseline: Any, local: Any, triton: TritonServed) -> dict[str, Any]:
    """Real receipts: RapidOCR, local serve and Triton serve (conc. 1 and 4), interleaved."""
    from bench.run import with_cpu

    pages = PAGES["receipts"]()
    progress(f"document split on receipts ({plan.split_docs} pages)")
    cpu_before = baseline.ask(kind="models_cpu")
    baseline.ask(kind="split", n=plan.split_docs, pages="receipts")  # one page at a time
    models_cpu = round((baseline.ask(kind="models_cpu") - cpu_before) / plan.split_docs * 1e3, 1)
    before = triton.stats()
    samples: dict[str, list[Sample]] = {}
    cpu: dict[str, float] = {}

    def record(key: str, pids: list[int], call: Any) -> None:
        sample, seconds = with_cpu(pids, call)
        samples.setdefault(key, []).append(sample)
        cpu[key] = cpu.get(key, 0.0) + seconds

    for _ in range(plan.rounds):
        for conc, n in plan.receipt_docs.items():
            progress(f"plain RapidOCR() on receipts, {conc} client(s) ({n})")
            record(
                f"rapidocr_{conc}",
                [baseline.process.pid],
                lambda conc=conc, n=n: tuple(
                    baseline.ask(kind="rapidocr", n=n, conc=conc, pages="receipts")
                ),
            )
            for name, srv, pids in (
                ("local", local, [local.process.pid]),
                ("triton", triton, triton.pids()),
            ):
                record(
                    f"{name}_{conc}",
                    pids,
                    lambda srv=srv, conc=conc, n=n: serving.measure(
                        srv, "grpc", "documents", pages, conc, n
                    ),
                )
    out: dict[str, Any] = {key: pooled(s) for key, s in samples.items()}
    # each served mode against RapidOCR at the same number of clients
    out["vs_rapidocr"] = {
        key: {
            "p50": ratio(out[key]["p50_ms"], rapid["p50_ms"]),
            "p99": ratio(out[key]["p99_ms"], rapid["p99_ms"]),
            "throughput": ratio(out[key]["throughput_rps"], rapid["throughput_rps"]),
        }
        for key in samples
        if not key.startswith("rapidocr")
        for rapid in [out[f"rapidocr_{key.rsplit('_', 1)[1]}"]]
    }
    out["cpu_ms_per_page"] = {key: round(1e3 * cpu[key] / out[key]["n"], 1) for key in samples}
    out["models_cpu_ms_per_page"] = models_cpu
    # Per request of each model (a page is one detection request and one recognition request
    # per text line, warm-ups included); queue times of concurrent lines overlap, so they are
    # not summed per page.
    after = triton.stats()
    out["triton_per_request_ms"] = {
        model: per_request(before, after, (model,)) for model in RECEIPT_MODELS
    }
    return out


def run(plan: Any, baseline: Any, local: Any) -> dict[str, Any]:
    with running() as triton:
        return {
            "small_models": small_models(plan, baseline, local, triton),
            "receipts": receipts(plan, baseline, local, triton),
        }


def report(results: Path) -> list[str]:
    """The section's tables for docs/benchmarks.md."""
    data = read_result("triton", results)
    if data is None:
        return ["_Triton: not measured (run `make bench`)._"]
    rows = []
    for target, points in data["small_models"].items():
        for conc, p in points.items():
            r, s = p["ratios"], p["split_ms"]
            t, d, local = p["triton"], p["direct"], p["local"]
            rows.append([
                target, conc, t["n"],
                f"{t['p50_ms']} / {local['p50_ms']} / {d['p50_ms']}",
                f"**{r['triton_vs_direct']['p50']}** (floor {r['floor_bound']['p50']})",
                f"{t['throughput_rps']} / {local['throughput_rps']} / {d['throughput_rps']}",
                f"**{r['triton_vs_direct']['throughput']}** "
                f"(floor {r['floor_bound']['throughput']})",
                f"{r['triton_vs_local']['p50']} / {r['triton_vs_local']['throughput']}",
                f"{s['client_and_grpc']} / {s['transformer']} / {s['triton_handling']} / "
                f"{s['queue']} / {s['compute']} (batch {s['mean_batch']})",
            ])  # fmt: skip
    header = ["target", "conc.", "n", "p50 ms Triton / local / in-process",
              "p50 vs in-process", "req/s Triton / local / in-process", "req/s vs in-process",
              "vs local serve p50 / req/s",
              "mean ms: client+gRPC / transformer / Triton handling / queue / compute"]  # fmt: skip
    lines = [f"Measured {data['machine']['date']} ({data['plan']} plan).", ""]
    lines += _table(header, rows)
    return [*lines, "", *_receipts_table(data["receipts"])]


def _receipts_table(r: dict[str, Any]) -> list[str]:
    rows = [[f"plain RapidOCR(), {key.rsplit('_', 1)[1]} client(s)", s["n"], s["p50_ms"],
             s["p99_ms"], s["throughput_rps"], "1", r["cpu_ms_per_page"][key]]
            for key, s in r.items() if key.startswith("rapidocr_")]  # fmt: skip
    for key, v in r["vs_rapidocr"].items():
        s = r[key]
        rows.append([key.replace("_", ", conc. "), s["n"], s["p50_ms"], s["p99_ms"],
                     s["throughput_rps"],
                     f"p50 **{v['p50']}**, p99 **{v['p99']}**, docs/s **{v['throughput']}**",
                     r["cpu_ms_per_page"][key]])  # fmt: skip
    header = ["real receipts", "n", "p50 ms", "p99 ms", "docs/s", "vs RapidOCR", "CPU ms/page"]
    pages = r["triton_per_request_ms"][RECEIPT_MODELS[0]]["requests"] or 1
    inside = "; ".join(
        f"{m}: {v['requests'] / pages:.1f} requests per page, queue {v['queue_ms']} / compute "
        f"{v['compute_ms']} ms per request, mean batch {v['mean_batch']}"
        for m, v in r["triton_per_request_ms"].items()
    )
    note = (f"Models' own CPU (detection + recognition in-process, one page at a time): "
            f"{r['models_cpu_ms_per_page']} ms per page. Inside Triton: {inside}.")  # fmt: skip
    return [*_table(header, rows), "", note]
