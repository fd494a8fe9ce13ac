"""``modelplane-models`` / ``python -m modelplane_models``: build or retrain the model repository.

``build`` produces every missing or stale model (``make models``) and writes every model's card
(``report.html``, :mod:`modelplane_models.cards`; ``report`` writes the cards alone);
``train MODEL --data DIR``
retrains an image model on a user's photo folder and publishes it as the model's next version
(:mod:`modelplane_models.versions`), unless it is worse than the version before.

``--output`` is the model repository in every sub-command; lists are repeated flags
(``--only breed --only premium``). Exit status: 0 done, 1 failed, 2 usage error, 3 a retrained
model was worse than the version before and was not published.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import torch
from modelplane_api import logs, triton

from . import cards, log, registry, repository, versions

# The contract's repository folder, unless MODELPLANE_MODEL_REPOSITORY names another.
DEFAULT_REPOSITORY = Path(os.environ.get("MODELPLANE_MODEL_REPOSITORY", triton.DEFAULT_REPOSITORY))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="modelplane-models", description=__doc__)
    logs.add_arguments(parser)
    parser.add_argument(
        "--threads", type=int, default=0, help="torch CPU threads (0: torch's default)"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build", help="build missing or stale models")
    logs.add_arguments(build, defaults=False)
    build.add_argument("--output", type=Path, default=DEFAULT_REPOSITORY, help="model repository")
    build.add_argument(
        "--only",
        action="append",
        choices=[b.name for b in registry.BUILDERS],
        help="build only this model (repeatable)",
    )
    build.add_argument(
        "--force",
        action="store_true",
        help="rebuild even if current (also replaces models trained on --data)",
    )
    report = commands.add_parser("report", help="write every model's card (report.html)")
    logs.add_arguments(report, defaults=False)
    report.add_argument("--output", type=Path, default=DEFAULT_REPOSITORY, help="model repository")
    train = commands.add_parser("train", help="retrain an image model on a photo folder")
    logs.add_arguments(train, defaults=False)
    train.add_argument("model", choices=registry.TRAINABLE_FROM_FOLDER)
    train.add_argument(
        "--data",
        type=Path,
        required=True,
        help="quality-gate: accept/ and reject/<reason>/; breed: <breed>/ folders",
    )
    train.add_argument("--output", type=Path, default=DEFAULT_REPOSITORY, help="model repository")
    train.add_argument("--epochs", type=int, help="override the default number of epochs")
    train.add_argument("--seed", type=int, help="override the default seed")
    train.add_argument(
        "--max-drop",
        type=float,
        default=0.02,
        help="largest fall of the held-out score vs the newest version still published",
    )
    return parser


def _train(args: argparse.Namespace) -> dict[str, object]:
    builder = registry.by_name(args.model)
    overrides = {k: v for k, v in (("epochs", args.epochs), ("seed", args.seed)) if v is not None}
    builder = dataclasses.replace(builder, params=dataclasses.replace(builder.params, **overrides))
    with repository.locked(args.output):
        return versions.train_next(args.output, builder, args.data, args.max_drop)


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "train" and not args.data.is_dir():
        parser.error(f"--data {args.data}: not a directory")
    logs.setup_from_args(args)
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        if args.command == "build":
            builders = registry.BUILDERS
            if args.only:
                builders = tuple(b for b in builders if b.name in args.only)
            result: object = repository.build(args.output, builders, force=args.force)
            cards.write_all(args.output)
        elif args.command == "report":
            result = {"cards": [str(p) for p in cards.write_all(args.output)]}
        else:
            result = _train(args)
    except (OSError, ValueError, versions.VersionError) as exc:
        # What a user's folder or repository can get wrong: one clear line, not a traceback.
        log.get("cli").error(f"{args.command} failed", extra={"error": str(exc)})
        return 1
    print(json.dumps(result, indent=2))
    regression = isinstance(result, dict) and result.get("regression")
    return 3 if regression else 0  # a regression is reported, not offered: scripts must see it


if __name__ == "__main__":
    sys.exit(main())
