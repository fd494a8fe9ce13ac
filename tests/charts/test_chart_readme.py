"""The chart's README is generated from values.yaml, and the chart carries the licence.

``charts/modelplane/README.md``'s parameters table is written by Bitnami's
readme-generator-for-helm (``make chart-readme``) from the ``## @param`` comments. The test runs
the same generator on a copy of the committed README: any difference means someone edited
values.yaml (or the table) without regenerating. The generator is installed by ``make test``
(``make chart-tools``); its absence is a failed install step, not a skip.
"""

from __future__ import annotations

import shutil
import subprocess
import tarfile
from pathlib import Path

import helm_python as helm
from chartkit import CHART
from helpers import ROOT

GENERATOR = ROOT / ".tools" / "node_modules" / ".bin" / "readme-generator"
README = CHART / "README.md"
VALUES = CHART / "values.yaml"


def generated(values: Path, readme: Path, tmp_path: Path) -> str:
    """The README the generator writes from ``values``, starting from a copy of ``readme``."""
    assert GENERATOR.is_file(), "the README generator is missing: run `make chart-tools`"
    out = tmp_path / "README.md"
    shutil.copyfile(readme, out)
    subprocess.run(
        [str(GENERATOR), "--values", str(values), "--readme", str(out)],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return out.read_text()


def test_readme_matches_the_values(tmp_path: Path) -> None:
    assert generated(VALUES, README, tmp_path) == README.read_text(), (
        "charts/modelplane/README.md is out of date: run `make chart-readme`"
    )


def test_a_new_parameter_is_drift(tmp_path: Path) -> None:
    """Guard the guard: a parameter added to the values changes the generated README."""
    values = tmp_path / "values.yaml"
    values.write_text(
        VALUES.read_text() + "\n## @param driftCheck A parameter the README does not have\n"
        "driftCheck: 1\n"
    )
    (tmp_path / "out").mkdir()
    text = generated(values, README, tmp_path / "out")
    assert "`driftCheck`" in text and text != README.read_text()


def test_readme_has_the_sections_a_user_needs() -> None:
    text = README.read_text()
    for section in ("## Quick start", "## Air-gapped install", "## Upgrades", "## Parameters"):
        assert section in text, section
    assert "| `gpu.products`" in text and "install.sh" in text


def test_chart_and_package_carry_the_licence(tmp_path: Path) -> None:
    licence = (ROOT / "LICENSE").read_text()
    assert licence.split()[:4] == ["Apache", "License", "Version", "2.0,"]
    assert "END OF TERMS AND CONDITIONS" in licence
    assert (CHART / "LICENSE").read_text() == licence
    archive = helm.package(CHART, destination=tmp_path)
    with tarfile.open(archive) as tar:
        member = tar.extractfile("modelplane/LICENSE")
        assert member is not None and member.read().decode() == licence
