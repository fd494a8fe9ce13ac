"""``modelplane-operator``: run the reconcilers against the KUBECONFIG cluster (or in-cluster)."""

from __future__ import annotations

import argparse
import asyncio
import logging

import kopf
from prometheus_client import start_http_server

import modelplane_operator.handlers  # noqa: F401  (registers the handlers)
from modelplane_operator import admission
from modelplane_operator.config import Config


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="modelplane-operator", description=__doc__)
    scope = parser.add_mutually_exclusive_group()
    scope.add_argument(
        "-n",
        "--namespace",
        action="append",
        default=[],
        help="watch this namespace (repeatable; glob patterns allowed)",
    )
    scope.add_argument(
        "-A", "--all-namespaces", action="store_true", help="watch the whole cluster"
    )
    parser.add_argument("--health-port", type=int, help="liveness endpoint port (/healthz)")
    parser.add_argument("--metrics-port", type=int, help="Prometheus metrics port (0 = off)")
    parser.add_argument(
        "--peering",
        metavar="NAME",
        help="run several replicas with kopf peering (needs the KopfPeering CRD);"
        " without it the operator is a single active replica",
    )
    parser.add_argument(
        "--admission-port",
        type=int,
        help="serve the validating admission webhook on this port (off when unset)",
    )
    parser.add_argument("--admission-cert", help="TLS certificate file for the webhook")
    parser.add_argument("--admission-key", help="TLS private key file for the webhook")
    parser.add_argument(
        "--admission-insecure",
        action="store_true",
        help="serve the webhook over plain HTTP (TLS terminated elsewhere; tests)",
    )
    parser.add_argument("--log-format", choices=["json", "plain"], default="json")
    parser.add_argument("-v", "--verbose", action="store_true")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    config = Config.from_env()
    kopf.configure(
        verbose=args.verbose,
        log_format=kopf.LogFormat.JSON if args.log_format == "json" else kopf.LogFormat.PLAIN,
    )
    metrics_port = config.metrics_port if args.metrics_port is None else args.metrics_port
    if metrics_port:
        start_http_server(metrics_port)
    health_port = args.health_port or config.health_port
    namespaces = args.namespace or ([] if args.all_namespaces else ["default"])
    settings = kopf.OperatorSettings()
    # Exact namespace names need no namespace list: skip kopf's scanning, so a namespace-scoped
    # install works with a Role alone (listing namespaces needs a ClusterRole).
    settings.scanning.disabled = not args.all_namespaces and not any(
        ch in ns for ns in namespaces for ch in "*?[!"
    )
    if args.admission_port:
        admission.register(kopf.get_default_registry())
        settings.admission.server = admission.webhook_server(
            args.admission_port, args.admission_cert, args.admission_key, args.admission_insecure
        )
    asyncio.run(
        kopf.operator(
            settings=settings,
            clusterwide=args.all_namespaces,
            namespaces=namespaces,
            standalone=args.peering is None,
            peering_name=args.peering,
            liveness_endpoint=f"http://0.0.0.0:{health_port}/healthz",
        )
    )


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    main()
