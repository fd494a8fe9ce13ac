"""``modelplane label DIR --model ...``: the sub-command, loaded by the umbrella ``modelplane``
(``modelplane_cli.COMMANDS``) when chosen; kept here so the label page's flags live with it."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from modelplane_api import logs
    from modelplane_api.triton import DEFAULT_REPOSITORY

    from modelplane_inference.label.tasks import MODELS

    p = sub.add_parser(
        "label", help="label the photos of DIR on a local page, pre-labelled by the served model"
    )
    logs.add_arguments(p, defaults=False)
    p.add_argument(
        "directory", type=Path, help="folder of unlabelled photos (class folders go in it)"
    )
    p.add_argument("--model", required=True, choices=sorted(MODELS), help="what to label for")
    p.add_argument(
        "--url", default=None, help="model endpoint host:port (default 127.0.0.1:8081 / :8080)"
    )
    p.add_argument("--protocol", choices=["grpc", "http"], default="grpc")
    p.add_argument("--endpoint", default=None, help="served model to ask (default per --model)")
    p.add_argument(
        "--repository", type=Path, default=DEFAULT_REPOSITORY, help="where labels.txt is read"
    )
    p.add_argument("--host", default="127.0.0.1", help="address of the page")
    p.add_argument("--port", type=int, default=8090, help="port of the page")


def run(args: argparse.Namespace) -> int:
    from modelplane_inference.errors import TaskError
    from modelplane_inference.label.server import LabelOptions, run
    from modelplane_inference.label.tasks import make_task

    if not args.directory.is_dir():
        print(f"modelplane label: {args.directory} is not a folder", file=sys.stderr)
        return 1
    try:
        task = make_task(args.model, args.repository, args.endpoint)
    except TaskError as exc:
        print(f"modelplane label: {exc}", file=sys.stderr)
        return 1
    url = args.url or ("127.0.0.1:8081" if args.protocol == "grpc" else "127.0.0.1:8080")
    run(LabelOptions(args.directory, task, url, args.protocol, args.host, args.port))
    return 0
