"""The Dockerfiles, parsed: no container engine runs here, so their shape is what is checked.

Multi-stage (build tools stay in the build stage), base images only through the ``REGISTRY``
build arg (an air-gapped site builds from its mirror), a non-root numeric USER in the final
stage, nothing compiled or installed there, and the console script the chart runs exists.
"""

from __future__ import annotations

import importlib
import json
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from chartkit import Docs, find
from helpers import ROOT

DOCKER = ROOT / "docker"
DOCKERFILES = sorted(p.name for p in DOCKER.glob("*.Dockerfile"))
COMPILERS = re.compile(r"\b(gcc|g\+\+|clang|build-essential|make|cmake|cc|rustc|cargo|gfortran)\b")


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)


def parse(text: str) -> tuple[dict[str, str], list[Stage]]:
    """(ARGs before the first FROM with defaults, stages) of a Dockerfile."""
    logical = re.sub(r"\\\n", " ", text)
    global_args: dict[str, str] = {}
    stages: list[Stage] = []
    for line in logical.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, rest = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            match = re.fullmatch(
                r"(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?", rest.strip(), re.I
            )
            assert match, line
            stages.append(Stage(match[1], match[2]))
        elif not stages:
            assert keyword == "ARG", f"only ARG may precede FROM: {line}"
            name, _, default = rest.partition("=")
            global_args[name.strip()] = default.strip()
        else:
            stages[-1].instructions.append((keyword, rest.strip()))
    return global_args, stages


@pytest.fixture(params=DOCKERFILES)
def dockerfile(request: pytest.FixtureRequest) -> tuple[str, dict[str, str], list[Stage]]:
    name: str = request.param
    return (name, *parse((DOCKER / name).read_text()))


def test_the_three_images_exist() -> None:
    assert DOCKERFILES == [
        "engine-builder.Dockerfile",
        "inference.Dockerfile",
        "operator.Dockerfile",
    ]


def test_multi_stage(dockerfile: tuple[str, dict[str, str], list[Stage]]) -> None:
    name, _, stages = dockerfile
    assert len(stages) >= 2, name
    final = stages[-1]
    copied = [rest for kw, rest in final.instructions if kw == "COPY"]
    assert copied and all(rest.startswith("--from=") for rest in copied), f"{name}: {copied}"


def test_base_images_from_registry_arg(dockerfile: tuple[str, dict[str, str], list[Stage]]) -> None:
    name, args, stages = dockerfile
    assert "REGISTRY" in args, f"{name}: ARG REGISTRY before the first FROM"
    names = {s.name for s in stages if s.name}
    for stage in stages:
        assert stage.base.startswith("${REGISTRY}/") or stage.base in names, (
            f"{name}: FROM {stage.base}"
        )
        for variable in re.findall(r"\$\{(\w+)\}", stage.base):
            assert variable in args, f"{name}: {variable} is not a global ARG"


def test_final_stage_non_root(dockerfile: tuple[str, dict[str, str], list[Stage]]) -> None:
    name, _, stages = dockerfile
    users = [rest for kw, rest in stages[-1].instructions if kw == "USER"]
    assert users, f"{name}: no USER in the final stage"
    uid = users[-1].split(":")[0]
    assert uid.isdigit() and int(uid) != 0, (
        f"{name}: USER {users[-1]} (numeric non-root for runAsNonRoot)"
    )


def test_no_compilers_in_final_stage(dockerfile: tuple[str, dict[str, str], list[Stage]]) -> None:
    """Nothing is built in the final stage: no pip, no compilers, no -dev packages (runtime
    libraries from apt are fine), and its base is a slim runtime image."""
    name, args, stages = dockerfile
    final = stages[-1]
    for keyword, rest in final.instructions:
        if keyword != "RUN":
            continue
        assert not COMPILERS.search(rest), f"{name}: {rest}"
        assert not re.search(r"\bpip\b|-dev\b|-devel\b", rest), f"{name}: {rest}"
    base_default = re.sub(r"\$\{(\w+)\}", lambda m: args.get(m[1], ""), final.base)
    assert "slim" in base_default and not re.search(r"devel|-dev\b|build", base_default), (
        base_default
    )


def test_no_public_registry_outside_arg_defaults(
    dockerfile: tuple[str, dict[str, str], list[Stage]],
) -> None:
    name, _, stages = dockerfile
    for stage in stages:
        assert not re.match(r"[\w.-]+\.(io|com|org)/", stage.base), f"{name}: FROM {stage.base}"


def test_entrypoints_are_declared_console_scripts() -> None:
    """The operator image runs `modelplane-operator`, the command the chart's Deployment uses."""
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    _, stages = parse((DOCKER / "operator.Dockerfile").read_text())
    entrypoints = [rest for kw, rest in stages[-1].instructions if kw == "ENTRYPOINT"]
    assert entrypoints == ['["modelplane-operator"]']
    assert "modelplane-operator" in scripts


def test_parser_catches_a_root_user() -> None:
    """Guard the guard: a Dockerfile running as root, single-stage, from docker.io, fails."""
    _, stages = parse("FROM docker.io/library/python:3.11\nUSER root\nRUN apt-get install -y gcc\n")
    assert len(stages) == 1 and stages[0].base.startswith("docker.io/")
    assert stages[0].instructions[0] == ("USER", "root")
    assert COMPILERS.search(stages[0].instructions[1][1])
    runtime_only = parse((DOCKER / "inference.Dockerfile").read_text())[1][-1]
    installs = [rest for kw, rest in runtime_only.instructions if kw == "RUN"]
    assert installs and not COMPILERS.search(" ".join(installs))


INFERENCE_SCRIPTS = ("modelplane", "modelplane-stage", "modelplane-transformer")


def declared_scripts() -> dict[str, str]:
    scripts: dict[str, str] = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "scripts"
    ]
    return scripts


def test_inference_image_commands_are_declared_console_scripts(
    render: Callable[..., Docs],
) -> None:
    """The inference image runs three commands: its CMD (`modelplane`), the python runtime's
    `modelplane-stage` (the chart's ClusterServingRuntime) and `modelplane-transformer` (the
    operator's transformer container). Each is a console script whose target function exists,
    so `pip install .[inference]` in the image puts a working executable on PATH."""
    scripts = declared_scripts()
    for script in INFERENCE_SCRIPTS:
        module, _, function = scripts[script].partition(":")
        assert callable(getattr(importlib.import_module(module), function)), scripts[script]
    _, stages = parse((DOCKER / "inference.Dockerfile").read_text())
    (cmd,) = [rest for kw, rest in stages[-1].instructions if kw == "CMD"]
    assert json.loads(cmd)[0] in scripts
    (runtime,) = [
        d
        for d in find(render(), "ClusterServingRuntime")
        if d["metadata"]["name"] == "modelplane-python"
    ]
    assert runtime["spec"]["containers"][0]["command"] == ["modelplane-stage"]


def test_images_carry_the_licence(dockerfile: tuple[str, dict[str, str], list[Stage]]) -> None:
    """Apache-2.0 (pyproject's licence) ships in every image at /licenses/LICENSE, copied from
    the build stage, which receives it from the build context."""
    name, _, stages = dockerfile
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == {"text": "Apache-2.0"}
    final = stages[-1]
    assert ("COPY", "--from=build /src/LICENSE /licenses/LICENSE") in final.instructions, name
    assert ("LABEL", 'org.opencontainers.image.licenses="Apache-2.0"') in final.instructions
    build_copies = " ".join(rest for kw, rest in stages[0].instructions if kw == "COPY")
    assert "LICENSE" in build_copies.split(), name
    ignore = (DOCKER / f"{name}.dockerignore").read_text().splitlines()
    assert "!LICENSE" in ignore, f"{name}.dockerignore keeps LICENSE out of the context"
