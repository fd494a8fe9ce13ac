"""``modelplane bundle``: one folder that carries everything an air-gapped install needs.

Order matters for the site's trust: content first (chart, CRDs, images, models, SBOM), then
``SHA256SUMS`` over every file, then its signature. ``install.sh`` checks the signature with a
key the site pinned beforehand, then the checksums, before it touches a registry or a cluster.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from modelplane_bundle import BundleError
from modelplane_bundle.chart import (
    ChartImage,
    chart_images,
    helm,
    load_values,
    merge_values,
    nest,
    require_registry,
)
from modelplane_bundle.models import (
    ARCHIVE_PREFIX,
    MODELCAR_REPOSITORY,
    MODELS_ARCHIVE,
    MODELS_SUMS,
    progress,
    repository_files,
    write_archive,
    write_checksum_list,
    write_modelcar,
)
from modelplane_bundle.oci import (
    LAYOUT,
    Locked,
    copy_into_layout,
    ref_name,
    resolve,
    split_reference,
    write_lock,
)

log = logging.getLogger(__name__)

SUMS = "SHA256SUMS"
SIGNATURE = "SHA256SUMS.minisig"
DIGESTS_VALUES = "values/zz-bundle-digests.yaml"
CHUNK = 1 << 20
SBOM_IMAGES = ("operator", "inference")


@dataclass(frozen=True)
class BundleOptions:
    """What ``modelplane bundle`` was asked for."""

    output: Path
    signing_key: Path
    chart: Path = Path("charts/modelplane")
    repository: Path = Path("models/repository")
    requirements: Path = Path("docker/requirements")
    values: tuple[Path, ...] = ()
    tls_verify: bool = True


@dataclass(frozen=True)
class Bundle:
    """What was written, for the CLI's summary and for tests."""

    folder: Path
    chart: Path
    images: tuple[Locked, ...]
    models: Locked
    model_files: int
    seconds: float


def sha256_file(path: Path, bar: Any = None) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            if bar is not None:
                bar.update(len(chunk))
    return digest.hexdigest()


def write_checksums(folder: Path) -> Path:
    """``SHA256SUMS`` over every other file, in ``sha256sum -c`` format (two spaces, relative
    POSIX paths); the OCI blobs are listed too, so one changed byte in a layer is caught."""
    files = sorted(
        p.relative_to(folder)
        for p in folder.rglob("*")
        if p.is_file() and p.name not in {SUMS, SIGNATURE}
    )
    total = sum((folder / f).stat().st_size for f in files)
    with progress(total, SUMS) as bar:
        lines = [f"{sha256_file(folder / f, bar)}  {f.as_posix()}\n" for f in files]
    target = folder / SUMS
    target.write_text("".join(lines))
    return target


def sign(folder: Path, key: Path) -> None:
    """Sign SHA256SUMS with minisign (Debian ``minisign``; key from ``minisign -G -W``)."""
    if shutil.which("minisign") is None:
        raise BundleError("minisign is not installed (Debian: apt-get install minisign)")
    if not key.is_file():
        raise BundleError(f"signing key {key} not found: make one with `make bundle-key`")
    result = subprocess.run(
        [
            "minisign",
            "-S",
            "-s",
            str(key),
            "-m",
            str(folder / SUMS),
            "-x",
            str(folder / SIGNATURE),
            "-t",
            f"modelplane bundle {folder.name}",
        ],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )
    if result.returncode != 0:
        raise BundleError(f"minisign could not sign with {key}: {result.stderr.strip()}")


def write_sbom(requirements: Path, output: Path) -> None:
    """CycloneDX SBOMs of the images' Python environments, from their hash-locked requirements
    (what the Dockerfiles install with --require-hashes); reproducible, no index contacted.
    One ``cyclonedx-py`` process per image, run side by side (each mostly starts up)."""
    (output / "sbom").mkdir()
    locks = [requirements / f"{image}.txt" for image in SBOM_IMAGES]
    for lock in locks:
        if not lock.is_file():
            raise BundleError(f"{lock} not found: the SBOM is made from the image's lock file")
    processes = [
        subprocess.Popen(
            [
                *(sys.executable, "-m", "cyclonedx_py", "requirements", str(lock)),
                *("--output-reproducible", "--no-validate", "--of", "JSON"),
                *("-o", str(output / "sbom" / f"{lock.stem}.cdx.json")),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for lock in locks
    ]
    for lock, process in zip(locks, processes, strict=True):
        _, stderr = process.communicate(timeout=300)
        if process.returncode != 0:
            raise BundleError(f"cyclonedx-py failed on {lock}: {stderr.strip()[-300:]}")


def carry_images(images: Sequence[ChartImage], layout: Path, tls_verify: bool) -> list[Locked]:
    """Resolve each image's tag to a digest now, copy that digest into the layout, lock it."""
    locked: dict[tuple[str, str], Locked] = {}
    for count, image in enumerate(images, start=1):
        digest = resolve(image.source, tls_verify)
        repository, tag, _ = split_reference(image.source)
        site_tag = tag or f"sha256-{digest.removeprefix('sha256:')}"
        ref = ref_name(image.mirror_path, site_tag)
        log.info(
            "carrying image",
            extra={"image": image.source, "digest": digest, "step": f"{count}/{len(images)}"},
        )
        stored = copy_into_layout(image.source, digest, layout, ref, tls_verify)
        key = (stored, image.mirror_path)
        locked[key] = Locked(stored, ref, image.mirror_path, site_tag, f"{repository}@{digest}")
    return sorted(locked.values(), key=lambda entry: entry.mirror_path)


def digest_values(images: Sequence[ChartImage], locked: Sequence[Locked]) -> dict[str, Any]:
    """Values pinning every image block to the digest the site registry will serve."""
    by_path = {entry.mirror_path: entry.digest for entry in locked}
    values: dict[str, Any] = {}
    for image in images:
        values = merge_values(values, nest(image.block, {"digest": by_path[image.mirror_path]}))
    return values


def _prepare_output(output: Path) -> None:
    """An empty folder: a leftover file would be listed in SHA256SUMS and shipped."""
    if output.exists() and (not output.is_dir() or any(output.iterdir())):
        raise BundleError(f"{output} exists and is not empty: choose a new folder")
    output.mkdir(parents=True, exist_ok=True)


def _copy_inputs(options: BundleOptions, chart_file: Path) -> list[str]:
    """CRDs (applied before helm: Helm never upgrades CRDs), the values files numbered in helm
    order, and the installer itself."""
    shutil.copytree(options.chart / "crds", options.output / "crds")
    (options.output / "values").mkdir()
    names = []
    for index, path in enumerate(options.values, start=1):
        name = f"values/{index:02d}-{path.name}"
        shutil.copyfile(path, options.output / name)
        names.append(name)
    installer = resources.files("modelplane_bundle").joinpath("install.sh")
    (options.output / "install.sh").write_bytes(installer.read_bytes())
    (options.output / "install.sh").chmod(0o755)
    (options.output / "chart.txt").write_text(f"{chart_file.name}\n")
    return names


def write_bundle(options: BundleOptions) -> Bundle:
    """Write the bundle folder; each long step logs when it starts. On a failure the folder is
    removed again, so a half-written bundle is never carried."""
    started = time.monotonic()
    sdk = helm()
    if not (options.chart / "Chart.yaml").is_file():
        raise BundleError(f"no chart at {options.chart} (run from the repository or pass --chart)")
    values = load_values(options.values)
    repository_files(options.repository)  # fail before the slow steps
    _prepare_output(options.output)
    try:
        locked, models, chart_file = _write_content(options, sdk, values)
        log.info("writing the SBOM", extra={"requirements": str(options.requirements)})
        write_sbom(options.requirements, options.output)
        log.info("checksumming and signing the bundle")
        write_checksums(options.output)
        sign(options.output, options.signing_key)
    except BaseException:
        shutil.rmtree(options.output, ignore_errors=True)
        raise
    return Bundle(
        options.output,
        chart_file,
        tuple(locked),
        models,
        len(repository_files(options.repository)),
        time.monotonic() - started,
    )


def _write_content(
    options: BundleOptions, sdk: Any, values: dict[str, Any]
) -> tuple[list[Locked], Locked, Path]:
    """Chart, CRDs, values, installer, images and models into the (empty) output folder."""
    log.info("packaging the chart", extra={"chart": str(options.chart)})
    chart_file = Path(sdk.package(options.chart, destination=options.output))
    _copy_inputs(options, chart_file)
    chart = sdk.Chart.load(chart_file)
    try:
        images = chart_images(chart, values)
    finally:
        chart.close()
    require_registry(images)
    layout = options.output / LAYOUT
    locked = carry_images(images, layout, options.tls_verify)
    (options.output / DIGESTS_VALUES).write_text(
        yaml.safe_dump(digest_values(images, locked), sort_keys=True)
    )
    models = _carry_models(options, layout, locked, chart_file)
    write_lock(options.output / "images.lock", [*locked, models])
    (options.output / "images.txt").write_text("".join(f"{e.source}\n" for e in locked))
    return locked, models, chart_file


def _carry_models(
    options: BundleOptions, layout: Path, locked: Sequence[Locked], chart_file: Path
) -> Locked:
    """The repository as a modelcar image (on the inference image) and as a PVC tarball."""
    log.info("archiving the model repository", extra={"repository": str(options.repository)})
    write_archive(
        options.repository, options.output / MODELS_ARCHIVE, ARCHIVE_PREFIX, MODELS_ARCHIVE
    )
    write_checksum_list(options.repository, options.output / MODELS_SUMS)
    base = next((e.digest for e in locked if e.mirror_path.endswith("/inference")), None)
    if base is None:
        log.warning("no inference image to base the models image on: it has no shell")
    tag = chart_file.name.removesuffix(".tgz").rsplit("-", 1)[-1]
    ref = ref_name(MODELCAR_REPOSITORY, tag)
    digest = write_modelcar(options.repository, layout, ref, base, options.output)
    return Locked(digest, ref, MODELCAR_REPOSITORY, tag, f"{MODELCAR_REPOSITORY}@{digest}")


def summary(bundle: Bundle) -> str:
    """What the CLI prints: the files, the size, and the next step."""
    size = sum(p.stat().st_size for p in bundle.folder.rglob("*") if p.is_file())
    lines = [
        f"bundle written to {bundle.folder} ({size / 1e6:.1f} MB in {bundle.seconds:.1f} s)",
        f"  chart   {bundle.chart.name} (+ crds/)",
        f"  images  {LAYOUT}/ ({len(bundle.images)} images, OCI layout; images.lock)",
        f"  models  {MODELCAR_REPOSITORY}@{bundle.models.digest} ({bundle.model_files} files;"
        f" also {MODELS_ARCHIVE})",
        f"  sbom/, {SUMS}, {SIGNATURE}, install.sh",
        f"next: carry the folder, then `cd {bundle.folder.name} && ./install.sh --registry"
        " HOST[:PORT]/PREFIX --trusted-key modelplane-bundle.pub` (./install.sh --help)",
    ]
    return os.linesep.join(lines)
