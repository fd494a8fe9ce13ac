"""The data plane's commands: ``modelplane serve`` and ``modelplane predict`` (their parsers
and runners, which the umbrella ``modelplane`` command in ``modelplane_cli`` loads when chosen),
and the console scripts ``modelplane-stage`` and ``modelplane-transformer``.

The two stage scripts take exactly the arguments the operator renders into the InferenceService
(``operator/modelplane_operator/render_inference_service.py``); KServe's own server flags
(``--http_port``, ``--grpc_port``, ``--predictor_host``, ...) come from KServe's parser and keep
its spelling.

Every console script of modelplane follows one convention: dash-case flags (except KServe's),
a list is a repeated flag (``--values a.yaml --values b.yaml``), ``--log-format``/``--log-level``
on every command (:mod:`modelplane_api.logs`), exit status 2 for a usage error (with the usage
line) and 1 for a failure.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from modelplane_api import logs
from modelplane_api.errors import SpecError
from modelplane_api.triton import DEFAULT_REPOSITORY

from modelplane_inference.serving import limits


def key_value(text: str) -> tuple[str, str]:
    """argparse ``type=`` of ``--param KEY=VALUE`` (``spec.parameters`` of the deployment)."""
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key, value


def int_list(text: str) -> list[int]:
    """argparse ``type=`` of a comma list of integers (empty: none)."""
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected integers separated by commas: {exc}") from exc


def json_object(text: str) -> dict[str, object]:
    """argparse ``type=`` of a flag that takes a JSON object."""
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError("expected a JSON object")
    return value


def add_serve_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("serve", help="serve every ModelDeployment and ModelPipeline in DIR")
    logs.add_arguments(p, defaults=False)
    p.add_argument("directory", type=Path, help="folder of manifests (or one manifest file)")
    p.add_argument(
        "--repository",
        type=Path,
        default=DEFAULT_REPOSITORY,
        help="model repository for pvc://, s3://, oci:// storage URIs",
    )
    p.add_argument("--http-port", type=int, default=8080)
    p.add_argument("--grpc-port", type=int, default=8081)
    p.add_argument("--host", default="127.0.0.1", help="address to listen on")
    p.add_argument(
        "--ort-threads",
        type=int,
        default=0,
        help="ONNX Runtime intra-op threads per model (0 = auto: all cores for an execution "
        "that runs alone, 1 while others are in flight)",
    )
    p.add_argument(
        "--strict",
        action="store_true",
        help="fail when a deployment cannot load instead of skipping it",
    )
    p.add_argument(
        "--no-raw-models",
        action="store_true",
        help="do not expose repository models under their Triton names",
    )
    p.add_argument(
        "--predictors",
        choices=["local", "triton"],
        default="local",
        help="where runtime-triton models run: ONNX Runtime in this process (local), or one real "
        "tritonserver that the stages call over gRPC, as transformers call Triton in a cluster "
        "(triton; needs nvidia-pytriton, see docs/operations.md)",
    )
    limits.add_arguments(p)


def run_serve(args: argparse.Namespace) -> int:
    from modelplane_inference.serving.server import ServeOptions, serve

    serve(
        args.directory,
        ServeOptions(
            repository=args.repository,
            http_port=args.http_port,
            grpc_port=args.grpc_port,
            host=args.host,
            ort_threads=args.ort_threads,
            raw_models=not args.no_raw_models,
            strict=args.strict,
            limits=limits.from_args(args),
            predictors=args.predictors,
        ),
    )
    return 0


def add_predict_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("predict", help="send image files to a pipeline or stage, print JSON")
    logs.add_arguments(p, defaults=False)
    p.add_argument("model", help="pipeline or deployment name (documents, car-claims, ...)")
    p.add_argument("files", nargs="+", type=Path)
    p.add_argument("--url", default=None, help="host:port (default 127.0.0.1:8081 / :8080)")
    p.add_argument("--protocol", choices=["grpc", "http"], default="grpc")
    p.add_argument(
        "--features",
        type=json_object,
        default=None,
        help='JSON for pet-premium, e.g. {"age_years": 3, "weight_kg": 12, ...}',
    )


def run_predict(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from modelplane_inference.client import Client, PredictError

    url = args.url or ("127.0.0.1:8081" if args.protocol == "grpc" else "127.0.0.1:8080")
    client = Client(url, args.protocol)
    failures = 0
    many = len(args.files) > 1
    for path in tqdm(args.files, disable=not many, file=sys.stderr, unit="file"):
        try:
            result = client.predict(args.model, image=path.read_bytes(), features=args.features)
        except (OSError, PredictError) as exc:
            failures += 1
            message = str(exc)[:500]  # servers may echo the request; keep the terminal usable
            print(json.dumps({"file": str(path), "error": message}, ensure_ascii=False))
            continue
        payload = {"file": str(path), **result} if many else result
        print(json.dumps(payload, ensure_ascii=False, indent=None if many else 2))
    client.close()
    return 1 if failures else 0


def _stage_parser(prog: str) -> argparse.ArgumentParser:
    from kserve.model_server import parser as kserve_parser

    from modelplane_inference.stages.registry import STAGES

    parser = argparse.ArgumentParser(prog=prog, parents=[kserve_parser])
    parser.add_argument("--stage", required=True, choices=sorted(STAGES))
    parser.add_argument(
        "--param",
        type=key_value,
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a stage parameter (repeatable): spec.parameters of the ModelDeployment",
    )
    logs.add_arguments(parser)
    # In a pod: 5 s of draining lets the Service drop the endpoint before the listener closes;
    # 5 + 25 s of grace fit Kubernetes' default terminationGracePeriodSeconds (30 s).
    limits.add_arguments(parser, limits.Limits(drain_s=5.0, grace_s=25.0))
    return parser


def _run_stage(args: argparse.Namespace, backend: Callable[[], object]) -> int:
    from modelplane_inference.serving.kserve_server import ModelplaneServer
    from modelplane_inference.stages.registry import STAGES

    server_limits = limits.from_args(args)
    limits.install_limits(server_limits)
    try:  # the contract converts and checks the --param strings (modelplane_api.parameters)
        stage = STAGES[args.stage](args.model_name, dict(args.param), backend)  # type: ignore[arg-type]
    except SpecError as exc:
        print(f"error: --param: {exc.reason}: {exc}", file=sys.stderr)
        return 2
    stage.load()
    # Every interface: in a pod, KServe's activator/queue-proxy reaches the container by its IP.
    ModelplaneServer(
        "0.0.0.0", server_limits, http_port=args.http_port, grpc_port=args.grpc_port
    ).start([stage])
    return 0


def stage_main(argv: Sequence[str] | None = None) -> int:
    """``modelplane-stage``: the python runtime (KServe ModelServer + ONNX Runtime)."""
    from modelplane_inference.runtime.backends import LocalBackend
    from modelplane_inference.runtime.repository import load_model_config

    parser = _stage_parser("modelplane-stage")
    parser.add_argument("--model-dir", type=Path, required=True, help="the mounted model folder")
    parser.add_argument("--max-batch-size", type=int, default=None, help="dynamic batching")
    parser.add_argument("--max-queue-delay-us", type=int, default=None, help="dynamic batching")
    parser.add_argument(
        "--preferred-batch-sizes", type=int_list, default=None, help="dynamic batching: 8,16"
    )
    parser.add_argument("--instance-count", type=int, default=None, help="model instances")
    parser.add_argument(
        "--ort-threads",
        type=int,
        default=0,
        help="ONNX Runtime intra-op threads (0 = auto: all cores alone, 1 under concurrency)",
    )
    args = parser.parse_args(argv)
    logs.setup_from_args(args)

    def backend() -> LocalBackend:
        config = load_model_config(args.model_dir.parent, args.model_dir.name)
        overrides = {
            k: v
            for k, v in (
                ("maxBatchSize", args.max_batch_size),
                ("maxQueueDelayMicroseconds", args.max_queue_delay_us),
                ("preferredBatchSizes", args.preferred_batch_sizes),
                ("instanceCount", args.instance_count),
            )
            if v is not None
        }
        batching = config.batching.updated(overrides)  # the operator renders every key
        return LocalBackend(config.with_batching(batching), args.ort_threads)

    return _run_stage(args, backend)


def transformer_main(argv: Sequence[str] | None = None) -> int:
    """``modelplane-transformer``: pre/post-processing in front of a Triton predictor."""
    from modelplane_inference.runtime.backends import TritonBackend

    parser = _stage_parser("modelplane-transformer")
    parser.add_argument("--triton-model", required=True, help="the model's name in Triton")
    parser.add_argument(
        "--model-dir",
        type=Path,
        default=None,
        help="mounted model folder for side files (labels), optional",
    )
    parser.add_argument("--labels-file", type=Path, default=None)
    args = parser.parse_args(argv)
    if not args.predictor_host:
        parser.error("--predictor_host is required (KServe sets it for transformers)")
    if args.predictor_protocol != "grpc-v2":
        parser.error("--predictor_protocol must be grpc-v2: tensors go to Triton over gRPC")
    logs.setup_from_args(args)

    def backend() -> TritonBackend:
        return TritonBackend(
            args.predictor_host, args.triton_model, args.model_dir, args.labels_file
        )

    return _run_stage(args, backend)
