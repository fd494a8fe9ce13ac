"""``modelplane-bundle`` (also ``modelplane bundle``): write an air-gapped install bundle.

The flags are defined once here; ``modelplane bundle`` (the umbrella ``modelplane_cli``) adds the
same parser through :func:`add_parser`. Exit status 2 for a usage error, 1 when the bundle cannot
be written (one line saying why), 0 with a summary on stdout.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from modelplane_api import logs


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The bundle's flags, for this script and for ``modelplane bundle``."""
    parser.add_argument("--output", type=Path, required=True, help="new or empty folder to write")
    parser.add_argument(
        "--signing-key",
        type=Path,
        required=True,
        help="minisign secret key that signs SHA256SUMS (`make bundle-key` makes one)",
    )
    parser.add_argument(
        "--repository", type=Path, default=Path("models/repository"), help="model repository"
    )
    parser.add_argument("--chart", type=Path, default=Path("charts/modelplane"), help="chart")
    parser.add_argument(
        "--requirements",
        type=Path,
        default=Path("docker/requirements"),
        help="the images' hash-locked requirements (the SBOM is made from them)",
    )
    parser.add_argument(
        "--values",
        type=Path,
        action="append",
        default=[],
        metavar="FILE",
        help="chart values file (repeatable), merged in order as helm -f does; images are pulled"
        " from where these values point (global.imageRegistry or each image's registry);"
        " install.sh passes them to helm too",
    )
    parser.add_argument(
        "--insecure-registry",
        action="store_true",
        help="the registries images are pulled from speak plain HTTP or have self-signed"
        " certificates",
    )


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``modelplane bundle``: the flags of ``modelplane-bundle``."""
    p = sub.add_parser(
        "bundle",
        help="write an air-gapped install bundle: images and models by digest, chart, SBOM,"
        " signed checksums, install.sh (same as modelplane-bundle)",
    )
    logs.add_arguments(p, defaults=False)
    add_arguments(p)


def run(args: argparse.Namespace) -> int:
    """Write the bundle the parsed flags ask for; print the summary or one line of failure."""
    from modelplane_bundle import BundleError
    from modelplane_bundle.bundle import BundleOptions, summary, write_bundle

    options = BundleOptions(
        output=args.output,
        signing_key=args.signing_key,
        chart=args.chart,
        repository=args.repository,
        requirements=args.requirements,
        values=tuple(args.values),
        tls_verify=not args.insecure_registry,
    )
    try:
        print(summary(write_bundle(options)))
    except BundleError as exc:
        print(f"modelplane bundle: {exc}", file=sys.stderr)
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``modelplane-bundle``."""
    parser = argparse.ArgumentParser(
        prog="modelplane-bundle",
        description="Write an air-gapped install bundle: images and models as OCI content pinned"
        " by digest, the chart and CRDs, an SBOM, signed SHA256SUMS and install.sh.",
    )
    logs.add_arguments(parser)
    add_arguments(parser)
    args = parser.parse_args(argv)
    logs.setup_from_args(args)
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
