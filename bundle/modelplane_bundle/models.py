"""The model repository, carried two ways: an OCI image in KServe's modelcar layout (pushed to
the site registry, referenced as ``oci://REGISTRY/modelplane/models@sha256:...``) and a tarball
for sites that serve models from a PVC (``pvc://<claim>/repository``), with a per-file checksum
list checked after unpacking.

Both are reproducible: owner, time and mode are neutralised and gzip writes no timestamp, so the
same repository gives the same bytes, the same layer digest and the same image digest.
"""

from __future__ import annotations

import copy
import gzip
import hashlib
import json
import tarfile
from collections.abc import Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from modelplane_bundle import BundleError
from modelplane_bundle.oci import (
    MANIFEST,
    add_to_index,
    platform_manifest,
    read_json_blob,
    write_blob,
)

if TYPE_CHECKING:
    from tqdm import tqdm as Progress

MODELS_ARCHIVE = "models.tar.gz"
MODELS_SUMS = "models.sha256"
# The archive's top folder: extracted at a PVC's root it is `pvc://<claim>/repository`.
ARCHIVE_PREFIX = "repository"
# KServe modelcars keep the model under /models (mounted as /mnt/models in the server).
MODELCAR_PREFIX = "models"
MODELCAR_REPOSITORY = "modelplane/models"
LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
CONFIG = "application/vnd.oci.image.config.v1+json"
CHUNK = 1 << 20


def progress(total: int, desc: str) -> Progress:
    """A byte progress bar on stderr; tqdm hides it when stderr is not a terminal."""
    try:
        from tqdm import tqdm
    except ImportError as exc:
        raise BundleError("modelplane bundle needs tqdm: pip install 'modelplane[bundle]'") from exc
    return tqdm(total=total, desc=desc, unit="B", unit_scale=True, disable=None)


def repository_files(repository: Path) -> list[Path]:
    """Every file of the repository (symlinks followed), sorted, relative to it; hidden files
    (the model builder's ``.lock`` and staging folders) are not part of a model and stay home."""
    if not repository.is_dir():
        raise BundleError(
            f"model repository {repository} not found: build it with `make models` "
            "or pass --repository"
        )
    files = sorted(
        relative
        for relative in (p.relative_to(repository) for p in repository.rglob("*") if p.is_file())
        if not any(part.startswith(".") for part in relative.parts)
    )
    if not files:
        raise BundleError(f"model repository {repository} has no files")
    return files


def _normalised(info: tarfile.TarInfo) -> tarfile.TarInfo:
    """Owner, time and mode made neutral: the same repository gives the same archive bytes."""
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.mtime = 0
    info.mode = 0o755 if info.isdir() or info.mode & 0o111 else 0o644
    info.type, info.linkname = tarfile.REGTYPE, ""  # a followed symlink is a file here
    return info


class _Hashing:
    """A write-only stream that hashes what passes through (a layer's uncompressed diff_id)."""

    def __init__(self, sink: IO[bytes]) -> None:
        self.sink, self.sha = sink, hashlib.sha256()

    def write(self, data: bytes) -> int:
        self.sha.update(data)
        return self.sink.write(data)


class _Counted:
    """A file object that advances a progress bar as tarfile reads it."""

    def __init__(self, handle: IO[bytes], bar: Progress) -> None:
        self._handle, self._bar = handle, bar

    def read(self, size: int = -1) -> bytes:
        data = self._handle.read(size)
        self._bar.update(len(data))
        return data


def write_archive(repository: Path, destination: Path, prefix: str, desc: str) -> str:
    """``<prefix>/<model>/...`` as a reproducible tar.gz; returns the uncompressed tar's digest."""
    files = repository_files(repository)
    total = sum((repository / f).stat().st_size for f in files)
    with (
        destination.open("wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=6, mtime=0) as zipped,
    ):
        hashing = _Hashing(zipped)  # type: ignore[arg-type]
        with (
            tarfile.open(fileobj=hashing, mode="w|", format=tarfile.PAX_FORMAT) as tar,  # type: ignore[call-overload]
            progress(total, desc) as bar,
        ):
            for relative in files:
                source = repository / relative
                info = _normalised(tar.gettarinfo(str(source), f"{prefix}/{relative.as_posix()}"))
                info.size = source.stat().st_size
                with source.open("rb") as handle:
                    tar.addfile(info, _Counted(handle, bar))
    return f"sha256:{hashing.sha.hexdigest()}"


def write_checksum_list(repository: Path, destination: Path) -> None:
    """``models.sha256``: ``sha256sum -c`` lines for ``repository/...``, checked on the PVC."""
    lines = []
    for relative in repository_files(repository):
        digest = hashlib.sha256((repository / relative).read_bytes()).hexdigest()
        lines.append(f"{digest}  {ARCHIVE_PREFIX}/{relative.as_posix()}\n")
    destination.write_text("".join(lines))


def _config(base: dict[str, Any] | None, diff_id: str) -> dict[str, Any]:
    """The models image's config: the base's, one more layer and history entry, no timestamps."""
    scratch: dict[str, Any] = {
        "architecture": "amd64",
        "os": "linux",
        "config": {},
        "rootfs": {"type": "layers", "diff_ids": []},
    }
    config: dict[str, Any] = copy.deepcopy(base) if base else scratch
    config.pop("created", None)
    config["rootfs"]["diff_ids"] = [*config["rootfs"].get("diff_ids", []), diff_id]
    if "history" in config:
        config["history"] = [*config["history"], {"created_by": "modelplane bundle: models"}]
    labels = config.setdefault("config", {}).get("Labels") or {}
    config["config"]["Labels"] = {**labels, "org.opencontainers.image.title": "modelplane models"}
    return config


def write_modelcar(
    repository: Path, layout: Path, ref: str, base_digest: str | None, workdir: Path
) -> str:
    """The model repository as one more layer on the base image (the inference image, which has
    the shell KServe's modelcar sidecar runs), stored in the layout as ``ref``; its digest."""
    layer_file = workdir / "models-layer.tar.gz"
    diff_id = write_archive(repository, layer_file, MODELCAR_PREFIX, "models image")
    layer_digest, layer_size = write_blob(layout, layer_file.read_bytes())
    layer_file.unlink()
    base = platform_manifest(layout, base_digest) if base_digest else None
    base_config = read_json_blob(layout, base["config"]["digest"]) if base else None
    config = json.dumps(_config(base_config, diff_id), sort_keys=True).encode()
    config_digest, config_size = write_blob(layout, config)
    layers: Sequence[dict[str, Any]] = base["layers"] if base else []
    manifest = {
        "schemaVersion": 2,
        "mediaType": MANIFEST,
        "config": {"mediaType": CONFIG, "digest": config_digest, "size": config_size},
        "layers": [*layers, {"mediaType": LAYER, "digest": layer_digest, "size": layer_size}],
    }
    digest, size = write_blob(layout, json.dumps(manifest, sort_keys=True).encode())
    add_to_index(layout, ref, {"mediaType": MANIFEST, "digest": digest, "size": size})
    return digest
