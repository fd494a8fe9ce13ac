"""``modelplane bundle``, run as a user runs it, and its output checked against independent facts.

The bundle is written once per module by the real CLI (a subprocess) with two values files: the
air-gapped scenario and an override that drops one digest (a null, as Helm merges ``-f`` files)
and changes a tag. Every check recomputes its answer without the bundle module: the archive
against the repository's files, SHA256SUMS with ``sha256sum -c``, images.txt against the
images of the chart rendered by the Helm engine with the same values merged by hand here.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from chartkit import CHART, Docs, find, images, parse_manifests, scenario_values

BIN = Path(sys.executable).parent
SITE = "registry.site.internal:5000/platform"
# Registries an air-gapped site cannot reach; none may be written into install.sh.
PUBLIC_REGISTRY = re.compile(
    r"docker\.io|registry-1\.docker|nvcr\.io|quay\.io|gcr\.io|ghcr\.io|registry\.k8s\.io"
    r"|public\.ecr\.aws|mcr\.microsoft\.com|docker\.com"
)
OVERRIDE = {
    "images": {"triton": {"digest": None, "tag": "24.12-py3"}},
    "operator": {"image": {"registry": "ignored.example"}},
}


def expected_values() -> dict[str, Any]:
    """ci/02 with OVERRIDE applied by hand: the triton digest removed, its tag replaced."""
    values = scenario_values("02-airgapped")
    del values["images"]["triton"]["digest"]
    values["images"]["triton"]["tag"] = "24.12-py3"
    values["operator"]["image"]["registry"] = "ignored.example"
    return values


@pytest.fixture(scope="module")
def bundle(model_repository: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundle folder, written by ``modelplane bundle`` in a process of its own."""
    work = tmp_path_factory.mktemp("bundle")
    override = work / "site-values.yaml"
    override.write_text(yaml.safe_dump(OVERRIDE))
    output = work / "out"
    result = subprocess.run(
        [
            str(BIN / "modelplane"),
            "bundle",
            "--output",
            str(output),
            "--chart",
            str(CHART),
            "--repository",
            str(model_repository),
            "--values",
            str(CHART / "ci" / "02-airgapped-values.yaml"),
            str(override),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "images.txt (5 images)" in result.stdout, result.stdout
    return output


def repository_files(repository: Path) -> dict[str, bytes]:
    """What a site must receive: every non-hidden file, under ``repository/``."""
    return {
        f"repository/{p.relative_to(repository).as_posix()}": p.read_bytes()
        for p in sorted(repository.rglob("*"))
        if p.is_file() and not any(x.startswith(".") for x in p.relative_to(repository).parts)
    }


def test_bundle_files(bundle: Path) -> None:
    files = sorted(p.relative_to(bundle).as_posix() for p in bundle.rglob("*") if p.is_file())
    assert files == [
        "SHA256SUMS",
        "images.txt",
        "install.sh",
        "mirror.txt",
        "modelplane-0.1.0.tgz",
        "models.tar.gz",
        "values/01-02-airgapped-values.yaml",
        "values/02-site-values.yaml",
    ]
    assert os.access(bundle / "install.sh", os.X_OK)


def test_archive_holds_exactly_the_repository(bundle: Path, model_repository: Path) -> None:
    expected = repository_files(model_repository)
    assert any(name.endswith("config.pbtxt") for name in expected)
    with tarfile.open(bundle / "models.tar.gz") as tar:
        members = tar.getmembers()
        assert all(m.isfile() for m in members)
        archived = {m.name: tar.extractfile(m).read() for m in members}  # type: ignore[union-attr]
    assert sorted(archived) == sorted(expected)
    changed = [name for name in expected if archived[name] != expected[name]]
    assert changed == []


def test_checksums_verify_with_sha256sum(bundle: Path, tmp_path: Path) -> None:
    sums = (bundle / "SHA256SUMS").read_text().splitlines()
    listed = sorted(line.split("  ", 1)[1] for line in sums)
    others = sorted(
        p.relative_to(bundle).as_posix()
        for p in bundle.rglob("*")
        if p.is_file() and p.name != "SHA256SUMS"
    )
    assert listed == others
    ok = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=bundle, capture_output=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    # Guard the guard: one changed byte in a copy is caught.
    damaged = tmp_path / "damaged"
    shutil.copytree(bundle, damaged)
    (damaged / "images.txt").write_text((bundle / "images.txt").read_text() + "\n")
    bad = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=damaged, capture_output=True)
    assert bad.returncode != 0 and b"images.txt: FAILED" in bad.stdout


def rendered_images(render: Callable[..., Docs], values: dict[str, Any]) -> set[str]:
    """Every ``image:`` field anywhere in the render, and the operator's *_IMAGE env values."""
    return set(images(render(values)))


def test_images_txt_is_what_the_chart_renders(bundle: Path, render: Callable[..., Docs]) -> None:
    listed = (bundle / "images.txt").read_text().splitlines()
    assert listed == sorted(set(listed))
    expected = rendered_images(render, expected_values())
    assert set(listed) == expected
    # The override took effect (Helm's null removes a key): triton by tag, the rest by digest.
    assert (
        f"{scenario_values('02-airgapped')['global']['imageRegistry']}/nvidia/tritonserver:24.12-py3"
        in listed
    )
    assert sum("@sha256:" in ref for ref in listed) == 4


def test_mirror_paths_are_where_the_chart_pulls_from(
    bundle: Path, render: Callable[..., Docs]
) -> None:
    """Each image pushed to SITE/PATH is exactly what the chart renders with imageRegistry=SITE."""
    pairs = [line.split(" ") for line in (bundle / "mirror.txt").read_text().splitlines()]
    assert {source for source, _ in pairs} == set((bundle / "images.txt").read_text().split())
    values = expected_values()
    values["global"]["imageRegistry"] = SITE
    assert {f"{SITE}/{path}" for _, path in pairs} == rendered_images(render, values)


def test_install_script_is_valid_bash_without_public_registries(bundle: Path) -> None:
    script = (bundle / "install.sh").read_text()
    syntax = subprocess.run(["bash", "-n", str(bundle / "install.sh")], capture_output=True)
    assert syntax.returncode == 0, syntax.stderr
    assert PUBLIC_REGISTRY.findall(script) == []
    assert PUBLIC_REGISTRY.search("FROM docker.io/library/python")  # the pattern matches


def dry_run(bundle: Path, *args: str) -> str:
    result = subprocess.run(
        [str(bundle / "install.sh"), SITE, "--dry-run", "--skip-images", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_install_script_runs_helm_with_the_bundle_values(bundle: Path) -> None:
    """A dry run (checksums really verified, commands printed): helm gets the packaged chart,
    the values files in order and the site registry; models go onto the named claim."""
    out = dry_run(bundle, "--namespace", "ml", "--models-pvc", "models", "--", "--atomic")
    (helm,) = [line for line in out.splitlines() if line.startswith("+ helm ")]
    assert helm == (
        f"+ helm upgrade --install modelplane {bundle}/modelplane-0.1.0.tgz --namespace ml "
        f"--create-namespace -f {bundle}/values/01-02-airgapped-values.yaml "
        f"-f {bundle}/values/02-site-values.yaml --set-string global.imageRegistry={SITE} --atomic"
    )
    operator = next(p for s, p in _pairs(bundle) if "/operator@" in p)
    loader = f"{SITE}/{operator.replace('@sha256:', ':sha256-')}"
    assert f"+ kubectl -n ml run models-loader --restart=Never --image={loader}" in out
    assert "+ kubectl -n ml exec models-loader -- tar -xzf /models/models.tar.gz -C /models" in out


def _pairs(bundle: Path) -> list[tuple[str, str]]:
    lines = (bundle / "mirror.txt").read_text().splitlines()
    return [(s, p) for s, p in (line.split(" ") for line in lines)]


def test_install_script_refuses_a_damaged_bundle(bundle: Path, tmp_path: Path) -> None:
    damaged = tmp_path / "damaged"
    shutil.copytree(bundle, damaged)
    with (damaged / "models.tar.gz").open("ab") as handle:
        handle.write(b"\0")
    result = subprocess.run(
        [str(damaged / "install.sh"), SITE, "--dry-run"], capture_output=True, text=True
    )
    assert result.returncode != 0 and "damaged" in result.stderr
    assert "+ helm" not in result.stdout


def test_packaged_chart_loads_lints_and_renders_like_the_source(
    bundle: Path, render_raw: Callable[..., dict[str, str]]
) -> None:
    helm = pytest.importorskip("helm_python")
    archive = bundle / "modelplane-0.1.0.tgz"
    report = helm.lint(archive, expected_values(), strict=True)
    assert report["errors"] == [], report
    packaged = helm.Chart.load(archive)
    try:
        rendered = packaged.render(
            values=expected_values(),
            name="modelplane",
            namespace="modelplane-system",
            is_install=True,
        )
    finally:
        packaged.close()
    assert rendered == render_raw(expected_values())
    docs = parse_manifests(rendered)
    assert find(docs, "Deployment") and len(find(docs, "ClusterServingRuntime")) == 2


def test_missing_helm_sdk_is_reported(tmp_path: Path) -> None:
    """Without the ``bundle`` extra the command says what to install, and writes nothing."""
    code = (
        "import sys; sys.modules['helm_python'] = None\n"
        "from modelplane_inference.cli import main\n"
        f"sys.exit(main(['bundle', '--output', {str(tmp_path / 'out')!r}]))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 2
    assert "modelplane[bundle]" in result.stderr
    assert not (tmp_path / "out").exists()


def test_an_image_that_ignores_the_registry_is_refused() -> None:
    """A template that hard-codes its registry could not be pulled offline: bundle stops."""
    from modelplane_inference.bundle import SENTINEL, BundleError, pair_images

    plain = [("Deployment/x.image", "quay.io/x:1"), ("Pod/y.image", "y:1")]
    pinned = [("Deployment/x.image", "quay.io/x:1"), ("Pod/y.image", f"{SENTINEL}/y:1")]
    with pytest.raises(BundleError, match=r"Deployment/x\.image"):
        pair_images(plain, pinned)
    (image,) = pair_images(plain[1:], pinned[1:])
    assert image.mirror_path == "y:1"


def test_archive_is_reproducible(model_repository: Path, tmp_path: Path) -> None:
    """Same repository, same bytes: a site can compare a re-exported bundle by checksum."""
    from modelplane_inference.bundle import write_models_archive

    digests = set()
    for name in ("a.tar.gz", "b.tar.gz"):
        write_models_archive(model_repository, tmp_path / name)
        digests.add(hashlib.sha256((tmp_path / name).read_bytes()).hexdigest())
    assert len(digests) == 1


def test_unpinned_and_hostless_images_are_warned_about(caplog: pytest.LogCaptureFixture) -> None:
    """A tag can move between bundling and mirroring, and a reference without a registry host
    is looked up on Docker Hub: the bundle says so; a digest on a named host passes quietly."""
    from modelplane_inference.bundle import Image, warn_about

    pinned = "registry.build.local:5000/modelplane/operator@sha256:" + "1" * 64
    with caplog.at_level("WARNING", logger="modelplane_inference.bundle"):
        warn_about([Image("a", "modelplane/inference:0.1.0", "x"), Image("b", pinned, "y")])
    warned = sorted((r.getMessage(), getattr(r, "image", "")) for r in caplog.records)
    assert warned == [
        ("image is pinned by tag, not digest", "modelplane/inference:0.1.0"),
        ("image names no registry host", "modelplane/inference:0.1.0"),
    ]
