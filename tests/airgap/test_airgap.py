"""Air-gapped delivery end to end, with real registries, images, signatures and the installer.

The flow a site runs: images pushed upstream (umoci + skopeo) -> ``modelplane bundle`` against
upstream, twice -> the folder copied ("carried") -> **upstream stopped** -> ``install.sh
--dry-run`` then ``install.sh --images-only`` into the site registry -> the same again (a
no-op). Every check reads the result with tools independent of the bundle code: skopeo against
the site registry, sha256sum, minisign, umoci, the Helm engine, the registry's access log.

Tests that need upstream running come first in this file (pytest keeps file order; the
``installed`` fixture stops upstream when the first test needing it runs).
"""

from __future__ import annotations

import hashlib
import json
import re
import shlex
import shutil
import socket
import subprocess
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
import yaml
from airkit import DOCKER_V2, IMAGES, Keys, Registry, run, write_bundle
from helpers import ROOT, helm_python

MODELS = "modelplane/models"
PREFIX = "mirror"  # the site's registry path prefix


@dataclass(frozen=True)
class Row:
    """One line of images.lock, parsed here (not with the bundle's code)."""

    digest: str
    ref: str
    path: str
    tag: str
    source: str


def lock(folder: Path) -> list[Row]:
    lines = (folder / "images.lock").read_text().splitlines()
    return [Row(*line.split("\t")) for line in lines if not line.startswith("#")]


def install(
    folder: Path, site: Registry, keys: Keys, *flags: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(folder / "install.sh"),
            "--registry",
            f"{site.host}/{PREFIX}",
            "--trusted-key",
            str(keys.pub),
            "--insecure-registry",
            *flags,
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )


def blob(folder: Path, digest: str) -> Path:
    """A blob of the bundle's OCI layout."""
    return folder / "images" / "blobs" / "sha256" / digest.removeprefix("sha256:")


def served_digest(reference: str) -> str:
    """The sha256 of the manifest a registry serves for ``reference`` (skopeo --raw)."""
    raw = subprocess.run(
        ["skopeo", "inspect", "--raw", "--tls-verify=false", f"docker://{reference}"],
        capture_output=True,
        timeout=60,
        check=True,
    ).stdout
    return f"sha256:{hashlib.sha256(raw).hexdigest()}"


def _bundled(
    name: str, upstream: Registry, keys: Keys, repository: Path, tmp: pytest.TempPathFactory
) -> Path:
    output = tmp.mktemp(name) / "bundle"
    result = write_bundle(output, upstream, keys, repository)
    assert result.returncode == 0, result.stderr
    assert "7 images" in result.stdout, result.stdout
    return output


@pytest.fixture(scope="module")
def bundle_dir(
    pushed: dict[str, str],
    upstream: Registry,
    keys: Keys,
    repository: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Path:
    return _bundled("bundle-a", upstream, keys, repository, tmp_path_factory)


@pytest.fixture(scope="module")
def second(
    bundle_dir: Path,
    upstream: Registry,
    keys: Keys,
    repository: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Path:
    """The same inputs bundled a second time, into another folder."""
    return _bundled("bundle-b", upstream, keys, repository, tmp_path_factory)


@pytest.fixture(scope="module")
def carried(bundle_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundle after the trip: a copy in another folder."""
    target = tmp_path_factory.mktemp("site-side") / "bundle"
    shutil.copytree(bundle_dir, target)
    return target


@dataclass(frozen=True)
class Installed:
    dry_run: subprocess.CompletedProcess[str]
    writes_after_dry_run: list[str]
    first: subprocess.CompletedProcess[str]
    writes_after_first: list[str]
    again: subprocess.CompletedProcess[str]
    writes_after_again: list[str]


@pytest.fixture(scope="module")
def installed(
    carried: Path, second: Path, upstream: Registry, site: Registry, keys: Keys
) -> Installed:
    """Upstream stopped, then dry run, install --images-only, and the same install again."""
    upstream.stop()
    dry = install(carried, site, keys, "--dry-run")
    after_dry = site.writes()
    first = install(carried, site, keys, "--images-only")
    after_first = site.writes()
    again = install(carried, site, keys, "--images-only")
    return Installed(dry, after_dry, first, after_first, again, site.writes())


# --- with upstream running --------------------------------------------------------------------


def test_image_without_registry_stops_the_bundle(
    keys: Keys, repository: Path, tmp_path: Path
) -> None:
    """No global.imageRegistry and no registry on modelplane's own images: never Docker Hub."""
    result = write_bundle(tmp_path / "out", None, keys, repository)
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()[-1:]
    assert re.fullmatch(r"modelplane bundle: image modelplane/\S+ names no registry .*", line), line
    assert not (tmp_path / "out").exists()  # nothing half-written is left behind


def test_unresolvable_tag_stops_the_bundle(
    pushed: dict[str, str], upstream: Registry, keys: Keys, repository: Path, tmp_path: Path
) -> None:
    values = tmp_path / "values.yaml"
    values.write_text(yaml.safe_dump({"images": {"triton": {"tag": "no-such-tag"}}}))
    result = write_bundle(tmp_path / "out", upstream, keys, repository, values)
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(
        f"modelplane bundle: cannot resolve image {upstream.host}/nvidia/tritonserver:no-such-tag"
    ), last


def test_lock_pins_what_upstream_served(
    bundle_dir: Path, pushed: dict[str, str], upstream: Registry
) -> None:
    """Each tag resolved at bundle time to the digest skopeo got when pushing it upstream; a
    Docker v2 image is stored as OCI with the same layers, and locked with its OCI digest."""
    rows = {row.path: row for row in lock(bundle_dir)}
    assert set(rows) == {*IMAGES, MODELS}
    for path, digest in pushed.items():
        assert rows[path].tag == IMAGES[path]
        assert rows[path].source.endswith(f"/{path}@{digest}")
        if path not in DOCKER_V2:
            assert rows[path].digest == digest, path
            continue
        assert rows[path].digest != digest, path
        stored = json.loads(blob(bundle_dir, rows[path].digest).read_text())
        assert stored["mediaType"] == "application/vnd.oci.image.manifest.v1+json"
        raw = run(
            "skopeo",
            "inspect",
            "--raw",
            "--tls-verify=false",
            f"docker://{upstream.host}/{path}@{digest}",
        ).stdout
        upstream_layers = [layer["digest"] for layer in json.loads(raw)["layers"]]
        assert [layer["digest"] for layer in stored["layers"]] == upstream_layers
    listed = (bundle_dir / "images.txt").read_text().split()
    assert sorted(listed) == sorted(row.source for row in rows.values() if row.path != MODELS)


def test_bundle_twice_gives_the_same_digests(bundle_dir: Path, second: Path) -> None:
    assert lock(second) == lock(bundle_dir)
    digests = "values/zz-bundle-digests.yaml"
    assert (second / digests).read_text() == (bundle_dir / digests).read_text()
    assert (second / "models.tar.gz").read_bytes() == (bundle_dir / "models.tar.gz").read_bytes()


# --- the carried folder ------------------------------------------------------------------------


def test_carried_folder_verifies_with_stock_tools(carried: Path, keys: Keys) -> None:
    checked = run("sha256sum", "--quiet", "-c", "SHA256SUMS", cwd=carried)
    assert checked.stdout == ""
    listed = {line.split("  ", 1)[1] for line in (carried / "SHA256SUMS").read_text().splitlines()}
    files = {p.relative_to(carried).as_posix() for p in carried.rglob("*") if p.is_file()}
    assert files - listed == {"SHA256SUMS", "SHA256SUMS.minisig"}
    assert any(name.startswith("images/blobs/sha256/") for name in listed)
    run("minisign", "-V", "-p", str(keys.pub), "-m", "SHA256SUMS", cwd=carried)


def test_sbom_lists_the_images_locked_requirements(carried: Path) -> None:
    for image in ("operator", "inference"):
        text = (ROOT / "docker" / "requirements" / f"{image}.txt").read_text()
        pins = {
            (n.lower().replace("_", "-"), v)
            for n, v in re.findall(r"^([\w.-]+)==(\S+)", text, re.MULTILINE)
        }
        bom = json.loads((carried / "sbom" / f"{image}.cdx.json").read_text())
        assert bom["bomFormat"] == "CycloneDX"
        found = {(c["name"].lower().replace("_", "-"), c["version"]) for c in bom["components"]}
        assert found == pins, image


def test_installer_is_shellcheck_clean(carried: Path) -> None:
    result = run("shellcheck", "--severity=style", str(carried / "install.sh"), check=False)
    assert result.returncode == 0, result.stdout


# --- install with upstream stopped -------------------------------------------------------------


def test_upstream_is_stopped_before_install(installed: Installed, upstream: Registry) -> None:
    assert upstream.process is not None and upstream.process.poll() is not None
    with (
        pytest.raises(ConnectionRefusedError),
        socket.create_connection(("127.0.0.1", upstream.port)),
    ):
        pass


def test_dry_run_changes_nothing(installed: Installed, carried: Path, site: Registry) -> None:
    """Without --images-only the dry run also prints the CRD apply and the helm command: the
    bundle's values in order, the digests file last, the site registry, the examples' models
    image by digest in it, atomic and waiting."""
    assert installed.dry_run.returncode == 0, installed.dry_run.stderr
    lines = installed.dry_run.stdout.splitlines()
    copies = [line for line in lines if line.startswith("+ skopeo copy")]
    assert len(copies) == len(IMAGES) + 1
    assert installed.writes_after_dry_run == []
    assert f"+ kubectl apply --server-side --force-conflicts -f {carried}/crds/" in lines
    (helm,) = [line for line in lines if line.startswith("+ helm ")]
    values = sorted(p.name for p in (carried / "values").glob("*.yaml"))
    chart_file = (carried / "chart.txt").read_text().strip()
    assert re.fullmatch(r"modelplane-[0-9.]+\.tgz", chart_file)
    assert values[-1] == "zz-bundle-digests.yaml" and len(values) == 2
    (models,) = [row for row in lock(carried) if row.path == MODELS]
    assert helm == (
        f"+ helm upgrade --install modelplane {carried}/{chart_file}"
        " --namespace modelplane-system --create-namespace"
        + "".join(f" -f {carried}/values/{name}" for name in values)
        + f" --set-string global.imageRegistry={site.host}/{PREFIX}"
        + f" --set-string examples.modelsStorageUri=oci://{site.host}/{PREFIX}/{MODELS}@{models.digest}"
        + " --atomic --wait --timeout 10m"
    )


def test_models_pvc_points_the_examples_at_the_claim(
    installed: Installed, carried: Path, site: Registry, keys: Keys
) -> None:
    """With --models-pvc the examples read the unpacked repository on that claim, not the image."""
    result = install(carried, site, keys, "--dry-run", "--models-pvc", "claims-models")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    (helm,) = [line for line in lines if line.startswith("+ helm ")]
    assert " --set-string examples.modelsStorageUri=pvc://claims-models/repository " in helm
    assert "oci://" not in helm
    assert any(line.startswith("+ kubectl -n modelplane-system cp ") for line in lines)


def test_every_image_and_the_models_are_in_the_site_registry(
    installed: Installed, carried: Path, site: Registry
) -> None:
    assert installed.first.returncode == 0, installed.first.stderr
    assert installed.writes_after_first  # it really pushed
    for row in lock(carried):
        assert served_digest(f"{site.host}/{PREFIX}/{row.path}@{row.digest}") == row.digest
        assert served_digest(f"{site.host}/{PREFIX}/{row.path}:{row.tag}") == row.digest
    (models,) = [row for row in lock(carried) if row.path == MODELS]
    assert f"oci://{site.host}/{PREFIX}/{MODELS}@{models.digest}" in installed.first.stdout


def test_rerun_is_a_noop(installed: Installed) -> None:
    assert installed.again.returncode == 0, installed.again.stderr
    assert f"0 pushed, {len(IMAGES) + 1} already present" in installed.again.stdout
    assert installed.writes_after_again == installed.writes_after_first


def test_models_image_is_a_modelcar_on_the_inference_image(
    installed: Installed, carried: Path, site: Registry, repository: Path, tmp_path: Path
) -> None:
    """Pulled back from the site and unpacked with umoci: /models holds the repository's files
    byte for byte, on top of the inference image's filesystem (whose shell KServe runs)."""
    (models,) = [row for row in lock(carried) if row.path == MODELS]
    layout = tmp_path / "layout"
    run(
        "skopeo",
        "copy",
        "--quiet",
        "--src-tls-verify=false",
        f"docker://{site.host}/{PREFIX}/{MODELS}@{models.digest}",
        f"oci:{layout}:models",
    )
    run("umoci", "raw", "unpack", "--rootless", "--image", f"{layout}:models", str(tmp_path / "fs"))
    fs = tmp_path / "fs"
    unpacked = {
        p.relative_to(fs / "models").as_posix(): p.read_bytes()
        for p in (fs / "models").rglob("*")
        if p.is_file()
    }
    expected = {
        p.relative_to(repository).as_posix(): p.read_bytes()
        for p in repository.rglob("*")
        if p.is_file() and not p.name.startswith(".")
    }
    assert unpacked == expected
    assert (
        fs / "etc" / "image-name"
    ).read_text() == f"modelplane/inference:{IMAGES['modelplane/inference']}\n"


def _render_carried(carried: Path, overrides: dict[str, Any]) -> list[dict[str, Any]]:
    """The packaged chart rendered by the real Helm engine with the bundle's values files in
    install.sh's order, then ``overrides`` (what install.sh sets on the command line)."""
    helm = helm_python()
    from charts.chartkit import parse_manifests

    values: dict[str, Any] = {}
    for path in sorted((carried / "values").glob("*.yaml")):
        values = _merge(values, yaml.safe_load(path.read_text()))
    values = _merge(values, overrides)
    chart = helm.Chart.load(carried / (carried / "chart.txt").read_text().strip())
    try:
        docs: list[dict[str, Any]] = parse_manifests(
            chart.render(
                values=values, name="modelplane", namespace="modelplane-system", is_install=True
            )
        )
    finally:
        chart.close()
    return docs


def test_chart_with_bundle_values_pulls_only_site_digests(
    installed: Installed, carried: Path, site: Registry
) -> None:
    """The packaged chart, rendered with the bundle's values files in install.sh's order and the
    site registry, references every image by a digest the site registry serves, and nothing else."""
    from charts.chartkit import images

    docs = _render_carried(carried, {"global": {"imageRegistry": f"{site.host}/{PREFIX}"}})
    rendered = {image for doc in docs for image in images(doc)}
    allowed = {
        f"{site.host}/{PREFIX}/{r.path}@{r.digest}" for r in lock(carried) if r.path != MODELS
    }
    assert rendered == allowed


def _set_strings(command: str) -> dict[str, Any]:
    """The ``--set-string a.b=value`` flags of a printed helm command, as nested values."""
    words = shlex.split(command.removeprefix("+ "))
    values: dict[str, Any] = {}
    for flag, setting in pairwise(words):
        if flag == "--set-string":
            key, value = setting.split("=", 1)
            *parents, leaf = key.split(".")
            node = values
            for parent in parents:
                node = node.setdefault(parent, {})
            node[leaf] = value
    return values


def test_examples_installed_from_the_bundle_read_the_pushed_models_image(
    installed: Installed, carried: Path, site: Registry
) -> None:
    """The chart rendered with the bundle's values and exactly what the dry run's helm command
    sets (examples on): every example ModelDeployment reads the models image by the digest the
    site registry serves, and the operator, configured by that render, accepts and renders each."""
    from charts.chartkit import find, operator_config
    from helpers import as_stored, load_examples
    from modelplane_operator.render_inference_service import render_inference_service
    from modelplane_operator.spec import check_model_image, parse_deployment

    (helm,) = [line for line in installed.dry_run.stdout.splitlines() if line.startswith("+ helm ")]
    overrides = _merge(_set_strings(helm), {"examples": {"enabled": True}})
    docs = _render_carried(carried, overrides)
    (models,) = [row for row in lock(carried) if row.path == MODELS]
    image = f"{site.host}/{PREFIX}/{MODELS}@{models.digest}"
    assert served_digest(image) == models.digest
    deployments = find(docs, "ModelDeployment")
    assert sorted(d["metadata"]["name"] for d in deployments) == sorted(
        d["metadata"]["name"] for d in load_examples() if d["kind"] == "ModelDeployment"
    )
    config = operator_config(docs)
    assert config.image_registry == f"{site.host}/{PREFIX}"
    for deployment in deployments:
        assert deployment["spec"]["model"]["storageUri"] == f"oci://{image}"
        spec = parse_deployment(deployment["spec"])
        check_model_image(spec, config)  # SpecError("ModelImageNotAllowed") otherwise
        isvc = render_inference_service(as_stored(deployment), spec, config)
        assert isvc["spec"]["predictor"]["model"]["storageUri"] == f"oci://{image}"


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in override.items():
        out[key] = (
            _merge(out[key], value)
            if isinstance(value, dict) and isinstance(out.get(key), dict)
            else value
        )
    return out


# --- refusals: before anything is pushed -------------------------------------------------------


def _tampered_copy(carried: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "bundle"
    shutil.copytree(carried, copy)
    return copy


def _resign(copy: Path, keys: Keys) -> None:
    """SHA256SUMS rebuilt over the (changed) files it lists, and signed with ``keys``."""
    sums = run("sha256sum", *sorted((copy / "SHA256SUMS").read_text().split()[1::2]), cwd=copy)
    (copy / "SHA256SUMS").write_text(sums.stdout)
    run("minisign", "-S", "-s", str(keys.key), "-m", str(copy / "SHA256SUMS"))


def test_one_changed_byte_in_an_image_blob_is_refused(
    installed: Installed, carried: Path, site: Registry, keys: Keys, tmp_path: Path
) -> None:
    copy = _tampered_copy(carried, tmp_path)
    (row,) = [r for r in lock(copy) if r.path == "modelplane/operator"]
    manifest = json.loads(blob(copy, row.digest).read_text())
    layer = blob(copy, manifest["layers"][-1]["digest"])
    data = bytearray(layer.read_bytes())
    data[len(data) // 2] ^= 0x01
    layer.write_bytes(bytes(data))
    before = site.requests()
    result = install(copy, site, keys, "--images-only")
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"install.sh: checksum mismatch for images/blobs/sha256/{layer.name}"
    )
    assert site.requests() == before


def test_checksums_resigned_with_another_key_are_refused(
    installed: Installed,
    carried: Path,
    site: Registry,
    keys: Keys,
    wrong_keys: Keys,
    tmp_path: Path,
) -> None:
    """An attacker swaps the operator's digest, rebuilds SHA256SUMS and signs it with their key."""
    copy = _tampered_copy(carried, tmp_path)
    rows = lock(copy)
    text = (copy / "images.lock").read_text().replace(rows[0].digest, rows[1].digest)
    (copy / "images.lock").write_text(text)
    _resign(copy, wrong_keys)
    before = site.requests()
    result = install(copy, site, keys, "--images-only")
    assert result.returncode == 1
    assert result.stderr.strip() == "install.sh: signature does not verify"
    assert site.requests() == before


def test_unreachable_registry_is_one_line(
    installed: Installed, carried: Path, upstream: Registry, keys: Keys
) -> None:
    """The stopped upstream's port stands in for a site registry that does not answer."""
    result = install(carried, upstream, keys, "--images-only")
    assert result.returncode == 1
    assert result.stderr.strip() == f"install.sh: registry unreachable: {upstream.host}"


def test_a_file_the_signed_list_does_not_name_is_refused(
    installed: Installed, carried: Path, site: Registry, keys: Keys, tmp_path: Path
) -> None:
    """An extra values file would be passed to helm by the values/*.yaml glob."""
    copy = _tampered_copy(carried, tmp_path)
    (copy / "values" / "zz-extra.yaml").write_text("global:\n  imageRegistry: elsewhere.example\n")
    before = site.requests()
    result = install(copy, site, keys, "--dry-run")
    assert result.returncode == 1
    assert (
        result.stderr.strip() == "install.sh: file not covered by SHA256SUMS: values/zz-extra.yaml"
    )
    assert site.requests() == before


def test_a_lock_that_disagrees_with_the_layout_stops_at_the_push(
    installed: Installed, carried: Path, site: Registry, keys: Keys, tmp_path: Path
) -> None:
    """A wrong digest signed by the trusted key itself (a broken build host): the pushed digest
    is compared with the lock, and the install stops on that image with one line."""
    copy = _tampered_copy(carried, tmp_path)
    (row,) = [r for r in lock(copy) if r.path == "modelplane/engine-builder"]
    wrong = f"sha256:{hashlib.sha256(b'not this image').hexdigest()}"
    (copy / "images.lock").write_text((copy / "images.lock").read_text().replace(row.digest, wrong))
    _resign(copy, keys)
    result = install(copy, site, keys, "--images-only")
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"install.sh: digest mismatch for {site.host}/{PREFIX}/{row.path}:"
        f" pushed {row.digest}, bundle has {wrong}"
    )
