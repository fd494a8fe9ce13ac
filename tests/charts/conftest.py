"""Fixtures for the chart tier: the real Helm v4 engine, rendered scenarios, promtool, Prometheus.

Helm runs in-process through ``helm-python-sdk`` (ctypes over Helm's Go SDK; no helm binary, no
cluster, no network). Each ``ci/*-values.yaml`` scenario is rendered once per session, because
every test module looks at the same manifests from another angle.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

# chartkit (pure helpers shared by the modules of this folder) is imported by name.
sys.path.insert(0, str(Path(__file__).parent))

from chartkit import CHART, NAMESPACE, RELEASE, SCENARIOS, Docs, parse_manifests, scenario_values
from helpers import helm_python, system_tool

Render = Callable[..., Docs]


@pytest.fixture(scope="session")
def chart() -> Iterator[Any]:
    """The chart loaded by Helm once; Helm charts are immutable, so sharing it is safe."""
    loaded = helm_python().Chart.load(CHART)
    yield loaded
    loaded.close()


@pytest.fixture(scope="session")
def render_raw(chart: Any) -> Callable[..., dict[str, str]]:
    """Render with the real engine: template path -> text (values.schema.json is enforced)."""

    def _render(
        values: dict[str, Any] | None = None, name: str = RELEASE, namespace: str = NAMESPACE
    ) -> dict[str, str]:
        rendered: dict[str, str] = chart.render(
            values=values or {}, name=name, namespace=namespace, is_install=True
        )
        return rendered

    return _render


@pytest.fixture(scope="session")
def render(render_raw: Callable[..., dict[str, str]]) -> Render:
    """Render and parse to objects."""
    return lambda values=None, **kw: parse_manifests(render_raw(values, **kw))


@pytest.fixture(scope="session")
def scenarios(render: Render) -> dict[str, Docs]:
    """Every ci/ scenario rendered once: scenario name -> objects."""
    return {name: render(scenario_values(name)) for name in SCENARIOS}


@pytest.fixture(scope="session")
def promtool() -> str:
    """promtool from the Debian `prometheus` package (make system-deps)."""
    return system_tool("promtool")


@pytest.fixture(scope="session")
def prometheus_bin() -> str:
    """The Prometheus server from the same Debian package."""
    return system_tool("prometheus")


@pytest.fixture(scope="session")
def model_repository(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The repository the serving tests use: ``models/repository`` when ``make models`` built
    all five models, else the serving tier's tiny one (real PP-OCR files, small rule graphs).
    Imported here, not at the top: only the bundle and serving-scrape modules need the
    inference and models extras."""
    from serving.repository import build_test_repository, is_complete
    from serving.servers import REAL_REPOSITORY

    if is_complete(REAL_REPOSITORY):
        return REAL_REPOSITORY
    return build_test_repository(tmp_path_factory.mktemp("repository"))
