"""The bundle's parts that need no registry: which images the chart needs and where each goes,
the model archive, the installer script as a file, and the two ways to run the command.

The registry-backed flow (bundle, carry, install with upstream stopped, tampering) is the
air-gap tier in tests/airgap. Every check here recomputes its answer without the bundle module:
image paths against the chart rendered by the Helm engine, the archive against the
repository's files, the installer with shellcheck.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from chartkit import CHART, Docs, images, scenario_values
from helpers import ROOT

BIN = Path(sys.executable).parent
SITE = "registry.site.internal:5000/platform"
INSTALLER = ROOT / "bundle" / "modelplane_bundle" / "install.sh"


def site_values() -> dict[str, Any]:
    """ci/02 with the triton digest removed (a null, as Helm merges -f files), its tag changed."""
    values = scenario_values("02-airgapped")
    values["images"]["triton"] = {"digest": None, "tag": "24.12-py3"}
    return values


def test_images_and_mirror_paths_are_what_the_chart_renders(
    chart: Any, render: Callable[..., Docs]
) -> None:
    """Each image found by the bundle, put under SITE/<mirror path>, is exactly what the chart
    renders with global.imageRegistry=SITE; the Helm null removed the triton digest."""
    from modelplane_bundle.chart import chart_images

    found = chart_images(chart, site_values())
    registry = scenario_values("02-airgapped")["global"]["imageRegistry"]
    expected = scenario_values("02-airgapped")
    expected["images"]["triton"] = {"tag": "24.12-py3", "digest": ""}
    assert {i.source for i in found} == set(images(render(expected)))
    assert f"{registry}/nvidia/tritonserver:24.12-py3" in {i.source for i in found}
    at_site = {**expected, "global": {**expected["global"], "imageRegistry": SITE}}
    rendered = set(images(render(at_site)))
    for image in found:
        reference = image.source.removeprefix(f"{registry}/")
        assert f"{SITE}/{reference}" in rendered, image
        assert reference.startswith(image.mirror_path), image
    blocks = {i.block for i in found}
    assert ("images", "kserveRouter") in blocks and ("operator", "image") in blocks


def test_an_image_that_ignores_the_registry_is_refused() -> None:
    """A template that hard-codes its registry or digest could not be pulled offline."""
    from modelplane_bundle import BundleError
    from modelplane_bundle.chart import SENTINEL, pair_images, sentinel_digest

    blocks = [("images", "x")]
    plain = [("Deployment/x.image", "quay.io/x:1")]
    with pytest.raises(BundleError, match=r"Deployment/x\.image"):
        pair_images(plain, [("Deployment/x.image", "quay.io/x:1")], blocks)
    with pytest.raises(BundleError, match=r"Deployment/x\.image"):
        pair_images(plain, [("Deployment/x.image", f"{SENTINEL}/x:1")], blocks)
    pinned = [("Deployment/x.image", f"{SENTINEL}/x@{sentinel_digest(1)}")]
    (image,) = pair_images(plain, pinned, blocks)
    assert (image.mirror_path, image.block) == ("x", ("images", "x"))


def repository_files(repository: Path) -> dict[str, bytes]:
    """What a site must receive: every non-hidden file, under ``repository/``."""
    return {
        f"repository/{p.relative_to(repository).as_posix()}": p.read_bytes()
        for p in sorted(repository.rglob("*"))
        if p.is_file() and not any(x.startswith(".") for x in p.relative_to(repository).parts)
    }


def test_archive_holds_exactly_the_repository_and_is_reproducible(
    model_repository: Path, tmp_path: Path
) -> None:
    from modelplane_bundle.models import write_archive

    digests = set()
    for name in ("a.tar.gz", "b.tar.gz"):
        write_archive(model_repository, tmp_path / name, "repository", name)
        digests.add(hashlib.sha256((tmp_path / name).read_bytes()).hexdigest())
    assert len(digests) == 1
    expected = repository_files(model_repository)
    assert any(name.endswith("config.pbtxt") for name in expected)
    with tarfile.open(tmp_path / "a.tar.gz") as tar:
        members = tar.getmembers()
        assert all(m.isfile() and m.mtime == 0 and m.uid == 0 for m in members)
        archived = {m.name: tar.extractfile(m).read() for m in members}  # type: ignore[union-attr]
    assert archived == expected


def test_installer_is_shellcheck_clean() -> None:
    """install.sh is a real file in the repository, copied verbatim into each bundle."""
    result = subprocess.run(
        ["shellcheck", "--severity=style", str(INSTALLER)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    usage = subprocess.run(["bash", str(INSTALLER)], capture_output=True, text=True)
    assert usage.returncode == 2 and "--registry and --trusted-key are required" in usage.stderr


def test_both_commands_take_the_same_flags() -> None:
    """``modelplane bundle`` is ``modelplane-bundle`` under the main command."""
    helps = [
        subprocess.run([*cmd, "--help"], capture_output=True, text=True, check=True).stdout
        for cmd in ([str(BIN / "modelplane"), "bundle"], [str(BIN / "modelplane-bundle")])
    ]
    flags = [
        sorted(set(w.strip("[],") for w in h.split() if w.startswith(("--", "[--")))) for h in helps
    ]
    assert "--signing-key" in flags[0]
    assert flags[0] == flags[1]


def test_missing_helm_sdk_is_reported(tmp_path: Path) -> None:
    """Without the ``bundle`` extra the command says what to install, and writes nothing."""
    code = (
        "import sys; sys.modules['helm_python'] = None\n"
        "from modelplane_bundle.cli import main\n"
        f"sys.exit(main(['--output', {str(tmp_path / 'out')!r}, '--signing-key', 'k']))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 1
    assert "modelplane[bundle]" in result.stderr
    assert not (tmp_path / "out").exists()


def test_chart_ships_its_crds() -> None:
    """install.sh applies crds/ before helm (Helm never upgrades CRDs): the folder must exist."""
    assert sorted(p.name for p in (CHART / "crds").glob("*.yaml"))
