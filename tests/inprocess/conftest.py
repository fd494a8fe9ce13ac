"""The operator integration tier's fixtures (kmock emulator, kubeconfig, cluster), for the
in-process tests that run in their own pytest process (tests/conftest.py says why)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

_spec = importlib.util.spec_from_file_location(
    "integration_fixtures", Path(__file__).parents[1] / "integration" / "conftest.py"
)
assert _spec is not None and _spec.loader is not None
_fixtures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_fixtures)
globals().update({k: v for k, v in vars(_fixtures).items() if not k.startswith("__")})
