"""``modelplane``: one command line over the towers, importing none of them until it must.

Each sub-command lives with the package that does the work (``modelplane serve`` and ``predict``
in ``modelplane_inference.cli``, ``label`` in ``modelplane_inference.label.command``, ``bundle``
in ``modelplane_bundle.cli``), as a pair of functions: one adds the sub-command's parser, one
runs it. This package only knows their names (module and attribute, as strings) and imports the
chosen one when it is called, so the umbrella has no arrow into any tower
(``tests/unit/test_import_graph.py``): ``modelplane bundle`` never loads KServe, and
``modelplane serve`` never loads the bundle's packaging code. ``modelplane --help`` lists every
sub-command from the help lines below without importing any.

Conventions (docs/cli.md): ``--log-format``/``--log-level`` before or after the sub-command, exit
status 2 for a usage error, 1 for a failure.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from modelplane_api import logs


@dataclass(frozen=True)
class Command:
    """Where a sub-command lives: ``module`` with its ``add_parser(sub)`` and ``run(args)``."""

    module: str
    add_parser: str
    run: str
    help: str

    def load(self) -> tuple[Callable[..., None], Callable[[argparse.Namespace], int]]:
        module = importlib.import_module(self.module)
        return getattr(module, self.add_parser), getattr(module, self.run)


COMMANDS: dict[str, Command] = {
    "serve": Command(
        "modelplane_inference.cli",
        "add_serve_parser",
        "run_serve",
        "serve every ModelDeployment and ModelPipeline in DIR",
    ),
    "predict": Command(
        "modelplane_inference.cli",
        "add_predict_parser",
        "run_predict",
        "send image files to a pipeline or stage, print JSON",
    ),
    "bundle": Command(
        "modelplane_bundle.cli",
        "add_parser",
        "run",
        "write an air-gapped install bundle: images and models by digest, chart, SBOM,"
        " signed checksums, install.sh (same as modelplane-bundle)",
    ),
    "label": Command(
        "modelplane_inference.label.command",
        "add_parser",
        "run",
        "label the photos of DIR on a local page, pre-labelled by the served model",
    ),
}


def chosen(argv: Sequence[str]) -> str | None:
    """The sub-command named in ``argv`` (the first word that is one), if any."""
    return next((word for word in argv if word in COMMANDS), None)


def main(argv: Sequence[str] | None = None) -> int:
    """``modelplane``: the sub-command's parser comes from its own package, loaded on demand."""
    import sys

    words = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(
        prog="modelplane",
        description="modelplane on this machine: serve the manifests of a folder (every stage "
        "and pipeline, Open Inference Protocol v2), call them, label photos, write a bundle.",
    )
    logs.add_arguments(parser)
    sub = parser.add_subparsers(dest="command", required=True)
    name = chosen(words)
    run: Callable[[argparse.Namespace], Any] | None = None
    for command, where in COMMANDS.items():
        if command == name:
            add_parser, run = where.load()
            add_parser(sub)
        else:
            sub.add_parser(command, help=where.help, add_help=False)
    args = parser.parse_args(words)
    logs.setup_from_args(args)
    assert run is not None  # parse_args exits when no sub-command was given
    return int(run(args))
