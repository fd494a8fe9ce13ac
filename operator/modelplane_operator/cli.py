"""``modelplane-operator``: run the reconcilers against the KUBECONFIG cluster (or in-cluster)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from pathlib import Path

import kopf
from modelplane_api import logs
from prometheus_client import start_http_server

import modelplane_operator.handlers  # registers the handlers
from modelplane_operator import admission
from modelplane_operator.config import Config
from modelplane_operator.crd_upgrade import apply_crds
from modelplane_operator.leader import LeaderElection
from modelplane_operator.runner import ScopeError, default_namespace, describe_scope, run

log = logging.getLogger("modelplane_operator")


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
    election = parser.add_argument_group("high availability (several replicas, one active)")
    election.add_argument(
        "--leader-elect",
        action="store_true",
        help="reconcile only while holding a coordination.k8s.io Lease; other replicas stand by",
    )
    election.add_argument(
        "--leader-election-namespace",
        help="namespace of the Lease (default: $POD_NAMESPACE, else as the watched default)",
    )
    election.add_argument("--leader-election-id", default="modelplane-operator", help="Lease name")
    election.add_argument("--lease-duration", type=int, default=15, help="seconds")
    election.add_argument("--renew-deadline", type=float, default=10.0, help="seconds")
    election.add_argument("--retry-period", type=float, default=2.0, help="seconds")
    parser.add_argument(
        "--apply-crds",
        metavar="DIR",
        type=Path,
        help="create or update the CRDs in DIR/*.yaml, then exit (the chart's upgrade hook)",
    )
    parser.add_argument(
        "--webhook-only",
        action="store_true",
        help="serve only the admission webhook (its own Deployment): no reconciling, no Lease",
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
    logs.add_arguments(parser)  # kopf's own records share the format (no kopf.configure)
    args = parser.parse_args(argv)
    if args.webhook_only and not args.admission_port:
        parser.error("--webhook-only needs --admission-port")  # a usage error: exit status 2
    return args


def _election(args: argparse.Namespace) -> LeaderElection | None:
    if not args.leader_elect or args.webhook_only:
        return None
    namespace = args.leader_election_namespace or os.environ.get("POD_NAMESPACE")
    return LeaderElection(
        namespace=namespace or default_namespace()[0],
        name=args.leader_election_id,
        duration_s=args.lease_duration,
        renew_deadline_s=args.renew_deadline,
        retry_s=args.retry_period,
    )


def _registry(args: argparse.Namespace) -> kopf.OperatorRegistry:
    """All handlers, or (webhook only) just the validating ones and the login."""
    if not args.webhook_only:
        if args.admission_port:
            admission.register(kopf.get_default_registry())
        return kopf.get_default_registry()
    registry = kopf.OperatorRegistry()
    kopf.on.login(registry=registry)(modelplane_operator.handlers.login)
    admission.register(registry)
    return registry


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    config = Config.from_env()
    logs.setup_from_args(args)
    if args.apply_crds:  # a one-shot Job: no ports, no watching
        asyncio.run(apply_crds(args.apply_crds))
        return
    metrics_port = config.metrics_port if args.metrics_port is None else args.metrics_port
    if metrics_port:
        start_http_server(metrics_port)
    health_port = args.health_port or config.health_port
    source = "the flags"
    namespaces = args.namespace
    if not namespaces and not args.all_namespaces:
        try:
            namespace, source = default_namespace()
        except ScopeError as err:
            raise SystemExit(f"modelplane-operator: {err}") from None
        namespaces = [namespace]
    election = _election(args)
    log.info(describe_scope(namespaces, args.all_namespaces, source, election))
    settings = kopf.OperatorSettings()
    # Exact namespace names need no namespace list: skip kopf's scanning, so a namespace-scoped
    # install works with a Role alone (listing namespaces needs a ClusterRole).
    settings.scanning.disabled = not args.all_namespaces and not any(
        ch in ns for ns in namespaces for ch in "*?[!"
    )
    registry = _registry(args)
    if args.admission_port:
        settings.admission.server = admission.webhook_server(
            args.admission_port, args.admission_cert, args.admission_key, args.admission_insecure
        )
    kopf_kwargs = {
        "settings": settings,
        "registry": registry,
        "clusterwide": args.all_namespaces,
        "namespaces": namespaces,
        # One active replica is guaranteed by the Lease (or by running one), not by kopf peering.
        "standalone": True,
    }
    sys.exit(asyncio.run(run(kopf_kwargs, health_port, election)))


if __name__ == "__main__":
    main()
