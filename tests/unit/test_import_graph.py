"""The towers never import each other; the contract package imports none of them.

``operator/``, ``inference/`` and ``models/`` share only ``modelplane_api`` (docs/architecture.md).
``bundle/`` (packaging) and ``cli/`` (the ``modelplane`` umbrella command) import no tower, and
no tower imports them: the umbrella names its sub-commands' modules as strings and loads only the
chosen one.
Each image carries only its own extra: the operator's has no torch, kserve, numpy or Pillow, so the
contract package needs none of torch/kopf/kserve, and only its image module may use numpy/Pillow.
Imports are read with ``ast`` from the source files, so a late import inside a function counts too.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import ROOT

PACKAGES = {
    "modelplane_api": ROOT / "api" / "modelplane_api",
    "modelplane_operator": ROOT / "operator" / "modelplane_operator",
    "modelplane_inference": ROOT / "inference" / "modelplane_inference",
    "modelplane_models": ROOT / "models" / "modelplane_models",
    "modelplane_bundle": ROOT / "bundle" / "modelplane_bundle",
    "modelplane_cli": ROOT / "cli" / "modelplane_cli",
}
TOWERS = ("modelplane_operator", "modelplane_inference", "modelplane_models")
OUTSIDE = ("modelplane_bundle", "modelplane_cli")  # packaging and the umbrella command
HEAVY = {"torch", "kopf", "kserve", "onnxruntime", "tensorrt"}


def imports(path: Path, top_level_only: bool = False) -> set[str]:
    """Absolute module names a file imports (relative imports stay inside its package)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def package_imports(package: str) -> dict[str, set[str]]:
    """File (relative to the root) -> modules it imports, for every file of one package."""
    return {
        str(path.relative_to(ROOT)): imports(path)
        for path in sorted(PACKAGES[package].rglob("*.py"))
    }


def roots(modules: set[str]) -> set[str]:
    return {module.split(".")[0] for module in modules}


@pytest.mark.parametrize("tower", TOWERS)
def test_no_arrow_between_towers(tower: str) -> None:
    others = set(TOWERS) - {tower}
    offending = {
        f: roots(m) & others for f, m in package_imports(tower).items() if roots(m) & others
    }
    assert not offending, f"{tower} imports another tower: {offending}"


@pytest.mark.parametrize("package", OUTSIDE)
def test_bundle_and_umbrella_import_no_tower_and_no_tower_imports_them(package: str) -> None:
    offending = {f: roots(m) & set(TOWERS) for f, m in package_imports(package).items()}
    assert not any(offending.values()), f"{package} imports a tower: {offending}"
    for tower in TOWERS:
        users = [f for f, m in package_imports(tower).items() if package in roots(m)]
        assert not users, f"{tower} imports {package}: {users}"


def test_every_umbrella_sub_command_resolves() -> None:
    """Each name the umbrella holds as a string is a real parser and runner."""
    from modelplane_cli import COMMANDS

    for name, command in COMMANDS.items():
        add_parser, run = command.load()
        assert callable(add_parser) and callable(run), name


def test_umbrella_loads_only_the_chosen_tower() -> None:
    """``modelplane bundle`` in a real interpreter: no serving stack, no inference tower."""
    code = (
        "import sys\n"
        "from modelplane_cli import main\n"
        "try:\n    main(['bundle', '--help'])\nexcept SystemExit:\n    pass\n"
        "loaded = ('kserve', 'modelplane_inference', 'modelplane_operator', 'torch')\n"
        "print(sorted(m for m in loaded if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stdout + out.stderr


@pytest.mark.parametrize("tower", TOWERS)
def test_every_tower_uses_the_contract(tower: str) -> None:
    used = set().union(*package_imports(tower).values())
    assert "modelplane_api" in roots(used), f"{tower} does not use modelplane_api"


def test_contract_imports_no_tower_and_nothing_heavy() -> None:
    for path, modules in package_imports("modelplane_api").items():
        assert not roots(modules) & set(TOWERS), f"{path} imports a tower: {modules}"
        assert not roots(modules) & HEAVY, f"{path} needs {roots(modules) & HEAVY}"


def test_only_the_image_contract_loads_numpy_or_pillow_at_import() -> None:
    """The operator imports the contract; numpy and Pillow belong to the image module only."""
    for path in sorted(PACKAGES["modelplane_api"].glob("*.py")):
        if path.name == "images.py":
            continue
        assert not roots(imports(path, top_level_only=True)) & {"numpy", "PIL"}, path


def test_operator_never_imports_the_image_contract() -> None:
    for path, modules in package_imports("modelplane_operator").items():
        assert "modelplane_api.images" not in modules, path


def test_operator_process_loads_no_serving_or_training_stack() -> None:
    """A real interpreter importing the operator and rendering a config.pbtxt (through Triton's
    protobuf) loads none of what the operator image lacks."""
    code = (
        "import sys\n"
        "import modelplane_operator.cli, modelplane_operator.handlers\n"
        "from modelplane_operator.spec import parse_deployment\n"
        "from modelplane_operator.render_serving import render_triton_config\n"
        "spec = {'stage': 'breed', 'model': {'name': 'b', 'storageUri': 'pvc://r'}}\n"
        "assert 'platform' in render_triton_config(parse_deployment(spec))\n"
        "heavy = ('torch', 'kserve', 'numpy', 'PIL', 'grpc', 'onnxruntime', 'tritonclient.grpc')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_the_parser_sees_late_and_from_imports(tmp_path: Path) -> None:
    """Guard the guard: an import inside a function and a from-import are both found."""
    source = tmp_path / "m.py"
    source.write_text(
        "from modelplane_api.triton import Batching\n"
        "def f():\n    import modelplane_models.spec\n    from . import sibling\n"
    )
    found = imports(source)
    assert {"modelplane_api.triton", "modelplane_models.spec"} <= found
    assert roots(found) & set(TOWERS) == {"modelplane_models"}
    assert "modelplane_models.spec" not in imports(source, top_level_only=True)
