"""Peak memory and CPU of each stage's transformer, one process per stage, as the cluster runs it.

Why: every transformer pod used to get one hard-coded request (500m/512Mi) and limit (2/1Gi)
whatever its stage; the documents transformer needs several times what the gate's needs. The
operator's per-stage defaults (``modelplane_operator.render_transformer``) come from this file's
figures.

How: ``modelplane serve manifests/examples`` stands in for Triton (it serves every repository
model under its Triton name, plain tensors over gRPC). For each example ModelDeployment with a
transformer, the exact container the operator renders (``render_inference_service``: command and
arguments, ``--model-dir`` pointed at ``models/repository``) runs as its own process with
``--predictor_host`` at that server, as KServe starts it. Closed-loop clients at the stage's
concurrency target (``spec.scaling.target`` when the metric is concurrency, else the CRD default
4) send real inputs for ``--seconds``: photos from ``models/data`` (vehicle-damage for the gate,
the Oxford-IIIT pets of not-a-car for breed) upscaled to a phone's 1280x960 JPEG, real scanned
receipts (SROIE held-out pile) for detection and recognition (boxes from the served detector),
premium features. The transformer's RSS is sampled every 50 ms (peak), its CPU from /proc over
the run (mean cores) and per second (peak cores).

    nice -n 5 .venv/bin/python -m bench.transformer_resources --seconds 20

Writes ``bench/results/transformer_resources.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import psutil
import tritonclient.grpc as grpcclient
import yaml
from modelplane_operator.config import Config
from modelplane_operator.render_inference_service import render_inference_service
from modelplane_operator.spec import parse_deployment
from PIL import Image

from bench.common import ROOT, closed_loop, cpu_seconds, progress, write_result
from bench.inputs import _jpeg
from bench.serving import REPOSITORY

sys.path.insert(0, str(ROOT / "tests"))
from helpers import as_stored, load_examples
from serving.servers import BIN, Server, free_port, serve, start_process, stop

DATA = ROOT / "models" / "data"
MODEL_ROOT = "/mnt/models"
MIB = 1024 * 1024
MAX_CAP = 64  # the server's default --max-concurrency (serving/limits.py)
PREMIUM = {"breed": 0, "age_years": 2, "weight_kg": 9.0, "sex": "male", "neutered": False}
Inputs = list[dict[str, bytes]]


def _photos(paths: list[Path], count: int = 8) -> list[bytes]:
    return [_jpeg(Image.open(p)) for p in sorted(paths)[:count]]


def stage_inputs(stage: str, server: Server) -> Inputs:
    """Real inputs per stage kind, as the stage's wire inputs (name -> encoded bytes)."""
    if stage == "quality-gate":
        photos = _photos(list((DATA / "vehicle-damage" / "heldout").glob("*/*.jpg")))
        return [{"image": p} for p in photos]
    if stage == "breed":
        pets = [p for p in (DATA / "not-a-car" / "heldout").glob("*.jpg") if "google" not in p.name]
        return [{"image": p} for p in _photos(pets)]
    if stage == "premium":
        return [
            {"features": json.dumps(PREMIUM | {"age_years": a, "region": a % 3}).encode()}
            for a in range(1, 9)
        ]
    receipts = [p.read_bytes() for p in sorted((DATA / "documents/sroie/heldout").glob("*.jpg"))]
    receipts = receipts[:6]
    if stage == "text-detection":
        return [{"image": r} for r in receipts]
    out = []
    for receipt in receipts:  # recognition reads the lines the served detector found
        boxes = _infer(grpcclient.InferenceServerClient(server.grpc), "doc-text-detection", receipt)
        out.append({"image": receipt, "boxes": json.dumps(boxes["boxes"]).encode()})
    return out


def _infer(client: Any, model: str, image: bytes) -> dict[str, Any]:
    tensor = grpcclient.InferInput("image", [1], "BYTES")
    tensor.set_data_from_numpy(np.array([image], dtype=np.object_))
    raw = client.infer(model, [tensor], client_timeout=300).as_numpy("result").reshape(-1)[0]
    return dict(json.loads(raw))


def _caller(address: str, model: str, inputs: Inputs) -> Callable[[], Callable[[int], Any]]:
    def make() -> Callable[[int], Any]:
        client = grpcclient.InferenceServerClient(address)

        def call(index: int) -> Any:
            tensors = []
            for name, value in inputs[index % len(inputs)].items():
                tensor = grpcclient.InferInput(name, [1], "BYTES")
                tensor.set_data_from_numpy(np.array([value], dtype=np.object_))
                tensors.append(tensor)
            return client.infer(model, tensors, client_timeout=300).as_numpy("result")

        return call

    return make


class Sampler:
    """RSS every 50 ms and CPU per second of one process, in a thread, until stopped."""

    def __init__(self, pid: int) -> None:
        self.process, self.pid = psutil.Process(pid), pid
        self.peak_rss, self.peak_cores = 0, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        window_start, window_cpu = time.monotonic(), cpu_seconds(self.pid)
        while not self._stop.wait(0.05):
            self.peak_rss = max(self.peak_rss, self.process.memory_info().rss)
            now = time.monotonic()
            if now - window_start >= 1.0:
                cpu = cpu_seconds(self.pid)
                self.peak_cores = max(self.peak_cores, (cpu - window_cpu) / (now - window_start))
                window_start, window_cpu = now, cpu


def transformer_args(doc: dict[str, Any], predictor: str) -> tuple[list[str], int, int]:
    """The rendered transformer container's command line, run here (ports, model folder)."""
    owner = as_stored(doc)
    isvc = render_inference_service(owner, parse_deployment(owner["spec"]), Config())
    container = isvc["spec"]["transformer"]["containers"][0]
    args = [a.replace(MODEL_ROOT, str(REPOSITORY)) for a in container["args"]]
    http_port, grpc_port = free_port(), free_port()
    command = [str(BIN / container["command"][0]), *args, f"--predictor_host={predictor}"]
    return [*command, f"--http_port={http_port}", f"--grpc_port={grpc_port}"], http_port, grpc_port


def measure_stage(doc: dict[str, Any], server: Server, seconds: float, folder: Path) -> dict:
    """Start one stage's transformer, load it at its concurrency target, return its figures."""
    spec, name = doc["spec"], doc["metadata"]["name"]
    scaling = spec.get("scaling") or {}
    concurrency = scaling.get("target", 4) if scaling.get("metric") == "concurrency" else 4
    inputs = stage_inputs(spec["stage"], server)
    args, http_port, grpc_port = transformer_args(doc, server.grpc)
    process = start_process(args, folder / f"{name}.log", http_port, grpc_port, [name])
    try:
        idle_rss = psutil.Process(process.process.pid).memory_info().rss
        make = _caller(process.grpc, name, inputs)
        make()(0)  # first call: connections, lazy imports
        progress(f"{name} ({spec['stage']}): concurrency {concurrency} for {seconds:.0f} s")
        cpu_before, started = cpu_seconds(process.process.pid), time.monotonic()
        served = 0
        with Sampler(process.process.pid) as sampler:
            while time.monotonic() - started < seconds:
                latencies, _ = closed_loop(make, concurrency, concurrency * 2)
                served += len(latencies)
        wall = time.monotonic() - started
        cpu = cpu_seconds(process.process.pid) - cpu_before
    finally:
        stop(process)
    return {
        "deployment": name,
        "stage": spec["stage"],
        "concurrency": concurrency,
        "requests": served,
        "seconds": round(wall, 1),
        "idle_rss_mib": round(idle_rss / MIB),
        "peak_rss_mib": round(sampler.peak_rss / MIB),
        "mean_cores": round(cpu / wall, 2),
        "peak_cores_1s": round(sampler.peak_cores, 2),
    }


def _round_up(mib: float, step: int) -> int:
    return int(-(-mib // step) * step)


def derived(row: dict[str, Any]) -> dict[str, Any]:
    """The defaults the rule gives for one measured stage (modelplane_api.resources.STAGE_SIZING
    holds them; docs/operations.md, "Transformer resources", says why each term):

    - memory request = peak RSS at the concurrency target, rounded up to 64 MiB;
    - memory limit = RSS at twice the target (idle + per-request growth x 2 x target; headroom
      while the autoscaler adds a replica) x 1.25, rounded up to 128 MiB, at least 512 MiB
      (inputs larger than the bench's, e.g. a 12 MP PNG);
    - in-flight cap = the requests that fit in that limit with the same 1.25 margin, at most
      MAX_CAP (the server's default --max-concurrency), never below twice the target;
    - CPU: request 500m, limit 2 (the former figures): the stand-in predictor shares this
      machine's cores, so the transformer's cores here are bounded by it, not measured.
    """
    idle, target = row["idle_rss_mib"], row["concurrency"]
    per_request = max((row["peak_rss_mib"] - idle) / target, 0.1)
    limit = max(512, _round_up((idle + per_request * 2 * target) * 1.25, 128))
    fits = int((limit / 1.25 - idle) // per_request)
    return {
        "max_in_flight": max(2 * target, min(MAX_CAP, fits)),
        "memory_request": f"{_round_up(row['peak_rss_mib'], 64)}Mi",
        "memory_limit": f"{limit}Mi",
        "per_request_mib": round(per_request, 1),
        "cpu_s_per_request": round(row["mean_cores"] * row["seconds"] / row["requests"], 3),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="load per stage")
    parser.add_argument("--only", default="", help="comma-separated deployment names")
    args = parser.parse_args(argv)
    only = {n for n in args.only.split(",") if n}
    docs = [
        d
        for d in load_examples()
        if d["kind"] == "ModelDeployment"
        and parse_deployment(d["spec"]).transformer
        and parse_deployment(d["spec"]).runtime == "triton"
        and (not only or d["metadata"]["name"] in only)
        and (REPOSITORY / d["spec"]["model"]["name"] / "config.pbtxt").is_file()  # make models
    ]
    logs = Path(tempfile.mkdtemp(prefix="modelplane-transformers-"))
    rows = []
    # The stand-in serves the measured deployments (their models under Triton names) and the
    # detector that finds recognition's lines, without an in-flight cap (Triton has none).
    stand_in = [d for d in load_examples() if d["metadata"]["name"] == "doc-text-detection"]
    stand_in += [d for d in docs if d not in stand_in]
    (logs / "examples").mkdir()
    (logs / "examples" / "stand-in.yaml").write_text(yaml.safe_dump_all(stand_in))
    progress("starting modelplane serve (the predictor stand-in)")
    names = [d["metadata"]["name"] for d in stand_in]
    server = serve(
        logs / "examples", REPOSITORY, logs / "serve.log", names, "--max-concurrency", "100000"
    )
    try:
        for doc in docs:
            rows.append(measure_stage(doc, server, args.seconds, logs))
            rows[-1]["derived"] = derived(rows[-1])
            progress(json.dumps(rows[-1]))
    finally:
        stop(server)
    path = write_result("transformer_resources", {"machine": _machine(), "stages": rows})
    progress(f"wrote {path}")
    return 0


def _machine() -> dict[str, Any]:
    return {"cpus": psutil.cpu_count(), "memory_gib": round(psutil.virtual_memory().total / 2**30)}


if __name__ == "__main__":
    raise SystemExit(main())
