"""``modelplane bundle``: one folder that carries everything an air-gapped install needs.

An offline site cannot ``helm pull``, pull images or download models, so the bundle holds the
packaged chart, the exact images the chart renders with the site's values (``images.txt``, and
``mirror.txt`` saying where each one goes under the site registry), the model repository as
``models.tar.gz``, ``SHA256SUMS`` over every file, and an ``install.sh`` that mirrors, installs
and loads models given only the site registry.

The image list comes from rendering the packaged chart with the real Helm engine
(helm-python-sdk, the ``bundle`` extra), not from reading values.yaml: whatever a template adds
later is listed without touching this module. Rendering a second time with a sentinel
``global.imageRegistry`` gives each image's path under the mirror exactly as the chart composes
it, and proves every image honours the override.
"""

from __future__ import annotations

import copy
import gzip
import hashlib
import logging
import os
import shlex
import shutil
import tarfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    from tqdm import tqdm as Progress

log = logging.getLogger(__name__)

RELEASE = "modelplane"
NAMESPACE = "modelplane-system"
# A registry host no site has (RFC 2606 `.invalid`): the second render's images start with it.
SENTINEL = "mirror.modelplane.invalid"
MODELS_ARCHIVE = "models.tar.gz"
# The archive's top folder: extracted at a PVC's root it is `pvc://<claim>/repository`, the
# storage URI of the example ModelDeployments.
MODELS_PREFIX = "repository"
CHUNK = 1 << 20
# Pod templates by kind: path from the object to its pod spec.
POD_SPEC_PATHS: dict[str, tuple[str, ...]] = {
    "Pod": ("spec",),
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
    # KServe copies a runtime's containers into each predictor pod.
    "ClusterServingRuntime": ("spec",),
    "ServingRuntime": ("spec",),
}
INSTALL_HELP = "pip install 'modelplane[bundle]' (helm-python-sdk: the Helm v4 SDK, no helm binary)"


class BundleError(Exception):
    """A bundle cannot be written; the message says what to change."""


@dataclass(frozen=True)
class BundleOptions:
    """What ``modelplane bundle`` was asked for."""

    output: Path
    chart: Path = Path("charts/modelplane")
    repository: Path = Path("models/repository")
    values: tuple[Path, ...] = ()


@dataclass(frozen=True)
class Image:
    """One image the chart renders: where it is pulled from, and its path under a mirror."""

    location: str
    source: str
    mirror_path: str


@dataclass(frozen=True)
class Bundle:
    """What was written, for the CLI's summary and for tests."""

    folder: Path
    chart: Path
    images: tuple[Image, ...]
    models: int


def _helm() -> Any:
    """helm-python-sdk, imported only here so the rest of the CLI runs without it."""
    try:
        import helm_python
    except ImportError as exc:
        raise BundleError(f"modelplane bundle needs the Helm SDK: {INSTALL_HELP}") from exc
    return helm_python


def _progress(total: int, desc: str) -> Progress:
    """A byte progress bar on stderr; tqdm hides it when stderr is not a terminal."""
    try:
        from tqdm import tqdm
    except ImportError as exc:
        raise BundleError(f"modelplane bundle needs tqdm: {INSTALL_HELP}") from exc
    return tqdm(total=total, desc=desc, unit="B", unit_scale=True, disable=None)


# --- values -----------------------------------------------------------------------------------


def merge_values(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Helm's ``-f a -f b`` rule: maps merge key by key, anything else is replaced, and a null
    removes the key (so the bundle renders exactly what ``helm install -f ...`` would)."""
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_values(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def load_values(files: Sequence[Path]) -> dict[str, Any]:
    """The values files, merged in order; a clear error for a missing or non-mapping file."""
    values: dict[str, Any] = {}
    for path in files:
        try:
            loaded = yaml.safe_load(path.read_text()) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise BundleError(f"cannot read values file {path}: {exc}") from exc
        if not isinstance(loaded, dict):
            raise BundleError(f"values file {path} is not a mapping")
        values = merge_values(values, loaded)
    return values


# --- images -----------------------------------------------------------------------------------


def _dig(obj: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        obj = obj.get(key) if isinstance(obj, dict) else None
    return obj


def _container_images(where: str, container: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """A container's image and the images the operator is told to use (``MODELPLANE_*_IMAGE``
    env: the engine-build Job, transformers, storage initializer it renders later)."""
    if isinstance(container.get("image"), str):
        yield f"{where}.image", container["image"]
    for env in container.get("env") or []:
        name = env.get("name", "")
        if name.startswith("MODELPLANE_") and name.endswith("_IMAGE") and env.get("value"):
            yield f"{where}.env.{name}", str(env["value"])


def rendered_images(docs: Sequence[dict[str, Any]]) -> list[tuple[str, str]]:
    """(location, image) of every container and init container of every pod the objects make,
    in render order; the location names the object and field, so two renders pair up."""
    found: list[tuple[str, str]] = []
    for doc in docs:
        path = POD_SPEC_PATHS.get(doc.get("kind", ""))
        spec = _dig(doc, path) if path else None
        if not isinstance(spec, dict):
            continue
        meta = doc.get("metadata", {})
        owner = f"{doc['kind']}/{meta.get('namespace', '')}/{meta.get('name', '')}"
        for field in ("initContainers", "containers"):
            for container in spec.get(field) or []:
                where = f"{owner}.{field}[{container.get('name', '')}]"
                found += _container_images(where, container)
    return found


def parse_rendered(rendered: dict[str, str]) -> list[dict[str, Any]]:
    """Objects of a render (template path -> text), NOTES.txt left out."""
    docs: list[dict[str, Any]] = []
    for path in sorted(rendered):
        if not path.endswith(".txt"):
            docs += [d for d in yaml.safe_load_all(rendered[path]) if isinstance(d, dict)]
    return docs


def pair_images(
    plain: Sequence[tuple[str, str]], mirrored: Sequence[tuple[str, str]]
) -> list[Image]:
    """Each image with its path under the mirror, from the same render with the sentinel
    registry; an image that ignores ``global.imageRegistry`` could not be pulled offline."""
    by_location = dict(mirrored)
    images = []
    for location, source in plain:
        target = by_location.get(location, "")
        if not target.startswith(f"{SENTINEL}/"):
            raise BundleError(
                f"{location}: image {target or source!r} does not follow global.imageRegistry"
            )
        images.append(Image(location, source, target.removeprefix(f"{SENTINEL}/")))
    return images


def chart_images(chart: Any, values: dict[str, Any]) -> list[Image]:
    """Render the chart twice (as asked, and with the sentinel registry) and pair the images."""
    sentinel = merge_values(values, {"global": {"imageRegistry": SENTINEL}})
    renders = [
        rendered_images(
            parse_rendered(
                chart.render(values=v, name=RELEASE, namespace=NAMESPACE, is_install=True)
            )
        )
        for v in (values, sentinel)
    ]
    return pair_images(*renders)


def warn_about(images: Sequence[Image]) -> None:
    """Say which images a site may regret: no registry host (docker and skopeo then look on
    Docker Hub, where modelplane's own images are not published) or a tag instead of a digest
    (a tag can move between bundling and mirroring)."""
    for source in sorted({i.source for i in images}):
        first = source.split("/", 1)[0]
        if "/" not in source or not ("." in first or ":" in first or first == "localhost"):
            log.warning("image names no registry host", extra={"image": source})
        if "@sha256:" not in source:
            log.warning("image is pinned by tag, not digest", extra={"image": source})


# --- model repository -------------------------------------------------------------------------


def repository_files(repository: Path) -> list[Path]:
    """Every file of the repository (symlinks followed), sorted, relative to it; hidden files
    (the model builder's ``.lock``, editor leftovers) are not part of a model and stay home."""
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
    return info


def write_models_archive(repository: Path, destination: Path) -> int:
    """``repository/<model>/...`` as a reproducible tar.gz, with a byte progress bar."""
    files = repository_files(repository)
    total = sum((repository / f).stat().st_size for f in files)
    with (
        destination.open("wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=6, mtime=0) as zipped,
        tarfile.open(fileobj=zipped, mode="w", format=tarfile.PAX_FORMAT) as tar,
        _progress(total, MODELS_ARCHIVE) as bar,
    ):
        for relative in files:
            source = repository / relative
            info = _normalised(tar.gettarinfo(str(source), f"{MODELS_PREFIX}/{relative}"))
            info.type, info.linkname = tarfile.REGTYPE, ""  # a followed symlink is a file here
            info.size = source.stat().st_size
            with source.open("rb") as handle:
                tar.addfile(info, _Counted(handle, bar))
    return len(files)


class _Counted:
    """A file object that advances a progress bar as tarfile reads it."""

    def __init__(self, handle: IO[bytes], bar: Progress) -> None:
        self._handle, self._bar = handle, bar

    def read(self, size: int = -1) -> bytes:
        data = self._handle.read(size)
        self._bar.update(len(data))
        return data


# --- checksums --------------------------------------------------------------------------------


def sha256_file(path: Path, bar: Progress | None = None) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            if bar is not None:
                bar.update(len(chunk))
    return digest.hexdigest()


def write_checksums(folder: Path) -> Path:
    """``SHA256SUMS`` over every other file, in ``sha256sum -c`` format (two spaces, relative
    POSIX paths), so the site checks the bundle after carrying it across."""
    files = sorted(
        p.relative_to(folder) for p in folder.rglob("*") if p.is_file() and p.name != "SHA256SUMS"
    )
    total = sum((folder / f).stat().st_size for f in files)
    with _progress(total, "SHA256SUMS") as bar:
        lines = [f"{sha256_file(folder / f, bar)}  {f.as_posix()}\n" for f in files]
    target = folder / "SHA256SUMS"
    target.write_text("".join(lines))
    return target


# --- install.sh -------------------------------------------------------------------------------


def write_mirror_list(folder: Path, images: Sequence[Image]) -> None:
    """``images.txt`` (one reference per line, for any mirroring tool) and ``mirror.txt``
    (``SOURCE PATH``: where install.sh puts each image under the site registry)."""
    unique = sorted({(i.source, i.mirror_path) for i in images})
    (folder / "images.txt").write_text("".join(f"{s}\n" for s in sorted({s for s, _ in unique})))
    (folder / "mirror.txt").write_text("".join(f"{s} {p}\n" for s, p in unique))


def loader_image(images: Sequence[Image]) -> str:
    """Mirror path of the operator image: a Python slim image with ``tar`` and ``sleep``, so
    ``kubectl cp`` can unpack the models onto a PVC without a further image."""
    for image in images:
        where = image.location
        if where.startswith("Deployment/") and ".containers[" in where and where.endswith(".image"):
            return image.mirror_path
    return images[0].mirror_path if images else ""


def _pull_secrets(values: dict[str, Any]) -> list[str]:
    secrets = (values.get("global") or {}).get("imagePullSecrets") or []
    return [s if isinstance(s, str) else str(s.get("name", "")) for s in secrets]


def write_install_script(
    folder: Path,
    chart_file: str,
    values_files: Sequence[str],
    images: Sequence[Image],
    values: dict[str, Any],
) -> Path:
    """``install.sh`` filled in with this bundle's file names; nothing in it names a registry."""
    text = INSTALL_SH
    for key, value in {
        "@CHART@": shlex.quote(chart_file),
        "@VALUES@": " ".join(shlex.quote(v) for v in values_files),
        "@LOADER@": shlex.quote(loader_image(images)),
        "@PULL_SECRETS@": " ".join(shlex.quote(s) for s in _pull_secrets(values) if s),
        "@RELEASE@": RELEASE,
        "@NAMESPACE@": NAMESPACE,
        "@MODELS@": MODELS_ARCHIVE,
        "@PREFIX@": MODELS_PREFIX,
    }.items():
        text = text.replace(key, value)
    target = folder / "install.sh"
    target.write_text(text)
    target.chmod(0o755)
    return target


# --- the command ------------------------------------------------------------------------------


def _prepare_output(output: Path) -> None:
    """An empty folder: a leftover file would be listed in SHA256SUMS and shipped."""
    if output.exists() and (not output.is_dir() or any(output.iterdir())):
        raise BundleError(f"{output} exists and is not empty: choose a new folder")
    output.mkdir(parents=True, exist_ok=True)


def _copy_values(output: Path, files: Sequence[Path]) -> list[str]:
    """The values files, numbered so install.sh passes them to helm in the same order."""
    names = []
    if files:
        (output / "values").mkdir()
    for index, path in enumerate(files, start=1):
        name = f"values/{index:02d}-{path.name}"
        shutil.copyfile(path, output / name)
        names.append(name)
    return names


def write_bundle(options: BundleOptions) -> Bundle:
    """Write the bundle folder; each long step logs when it starts."""
    helm = _helm()
    if not (options.chart / "Chart.yaml").is_file():
        raise BundleError(f"no chart at {options.chart} (run from the repository or pass --chart)")
    values = load_values(options.values)
    repository_files(options.repository)  # fail before the slow steps
    _prepare_output(options.output)
    values_files = _copy_values(options.output, options.values)
    log.info("packaging the chart", extra={"chart": str(options.chart)})
    chart_file = Path(helm.package(options.chart, destination=options.output))
    log.info("rendering the packaged chart for its images", extra={"chart": chart_file.name})
    chart = helm.Chart.load(chart_file)
    try:
        images = chart_images(chart, values)
    finally:
        chart.close()
    warn_about(images)
    write_mirror_list(options.output, images)
    log.info("archiving the model repository", extra={"repository": str(options.repository)})
    models = write_models_archive(options.repository, options.output / MODELS_ARCHIVE)
    write_install_script(options.output, chart_file.name, values_files, images, values)
    log.info("checksumming the bundle")
    write_checksums(options.output)
    return Bundle(options.output, chart_file, tuple(images), models)


def summary(bundle: Bundle) -> str:
    """What the CLI prints: the files and the next step."""
    sources = sorted({i.source for i in bundle.images})
    lines = [
        f"bundle written to {bundle.folder}",
        f"  chart   {bundle.chart.name}",
        f"  images  images.txt ({len(sources)} images)",
        f"  models  {MODELS_ARCHIVE} ({bundle.models} files)",
        "  SHA256SUMS, install.sh",
        f"next: carry the folder across, then `cd {bundle.folder.name} && sha256sum -c SHA256SUMS"
        " && ./install.sh REGISTRY` (./install.sh --help)",
    ]
    return os.linesep.join(lines)


INSTALL_SH = r"""#!/usr/bin/env bash
# modelplane air-gapped install, written by `modelplane bundle`.
# Mirrors the images this bundle lists into your registry, installs the chart from it, and
# (with --models-pvc) unpacks the model repository onto a PersistentVolumeClaim.
set -euo pipefail

usage() {
  cat <<'EOF'
usage: ./install.sh REGISTRY [options] [-- extra helm flags]

  REGISTRY               registry host (and optional path) every image is pulled from,
                         e.g. registry.claims.local:5000/mirror; becomes global.imageRegistry

  --namespace NS         release namespace (default @NAMESPACE@)
  --release NAME         release name (default @RELEASE@)
  --skip-images          do not mirror images (already in REGISTRY)
  --skip-helm            do not run helm
  --models-pvc CLAIM     unpack @MODELS@ onto this existing PVC (kubectl needed)
  --models-namespace NS  namespace of that PVC (default: the release namespace)
  --insecure             the target registry speaks plain HTTP / has no trusted certificate
  --dry-run              print the commands instead of running them

Images: mirror.txt lists "SOURCE PATH" per line; each SOURCE is copied to REGISTRY/PATH with
skopeo when it is installed (manifest lists and digests kept), else docker pull/tag/push (run
where the sources can be pulled, or where `docker load` already put them). An image pinned by
digest is pushed under the tag sha256-<hex> and its pushed digest is checked.

Models: @MODELS@ unpacks to @PREFIX@/<model>/config.pbtxt, <version>/model.onnx ... Put it at
the root of a PVC and a ModelDeployment reads it as storageUri pvc://<claim>/@PREFIX@ (the
examples use pvc://modelplane-models/@PREFIX@). --models-pvc does this with a short-lived pod
from the mirrored operator image; by hand:
  kubectl -n NS run models-loader --image=REGISTRY/@LOADER@ --restart=Never \
    --overrides='<pod spec mounting the claim at /models>' --command -- sleep 3600
  kubectl -n NS cp @MODELS@ models-loader:/models/@MODELS@
  kubectl -n NS exec models-loader -- tar -xzf /models/@MODELS@ -C /models
  kubectl -n NS exec models-loader -- rm /models/@MODELS@
  kubectl -n NS delete pod models-loader
EOF
}

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
chart=@CHART@
values_files=(@VALUES@)
loader=@LOADER@
pull_secrets=(@PULL_SECRETS@)
registry="" namespace="@NAMESPACE@" release="@RELEASE@"
skip_images=0 skip_helm=0 insecure=0 dry_run=0 models_pvc="" models_namespace=""
helm_extra=()

die() { echo "install.sh: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --namespace) namespace="${2:?--namespace needs a value}"; shift 2 ;;
    --release) release="${2:?--release needs a value}"; shift 2 ;;
    --skip-images) skip_images=1; shift ;;
    --skip-helm) skip_helm=1; shift ;;
    --models-pvc) models_pvc="${2:?--models-pvc needs a value}"; shift 2 ;;
    --models-namespace) models_namespace="${2:?--models-namespace needs a value}"; shift 2 ;;
    --insecure) insecure=1; shift ;;
    --dry-run) dry_run=1; shift ;;
    --) shift; helm_extra=("$@"); break ;;
    -*) usage >&2; die "unknown option $1" ;;
    *) [ -z "$registry" ] || die "one REGISTRY only (got $registry and $1)"
       registry="${1%/}"; shift ;;
  esac
done
[ -n "$registry" ] || { usage >&2; exit 2; }

run() {
  if [ "$dry_run" = 1 ]; then printf '+'; printf ' %q' "$@"; printf '\n'; else "$@"; fi
}

verify_bundle() {
  echo "==> checking SHA256SUMS"
  (cd "$here" && sha256sum --quiet -c SHA256SUMS) || die "the bundle is damaged or incomplete"
}

target_of() {  # REGISTRY/PATH, with a digest turned into a tag a registry accepts
  local target="$registry/$1"
  case "$target" in
    *@sha256:*) echo "${target%@*}:sha256-${target##*@sha256:}" ;;
    *) echo "$target" ;;
  esac
}

copy_skopeo() {  # SOURCE DEST [DIGEST]
  local flags=(--all --preserve-digests) digestfile
  [ "$insecure" = 1 ] && flags+=(--dest-tls-verify=false)
  digestfile="$(mktemp)"
  run skopeo copy "${flags[@]}" --digestfile "$digestfile" "docker://$1" "docker://$2"
  pushed="$(cat "$digestfile" 2>/dev/null || true)"
  rm -f "$digestfile"
}

copy_docker() {  # SOURCE DEST
  docker image inspect "$1" >/dev/null 2>&1 || run docker pull "$1"
  run docker tag "$1" "$2"
  local output
  output="$(mktemp)"
  run docker push "$2" | tee "$output"
  pushed="$(sed -n 's/.*digest: \(sha256:[0-9a-f]*\).*/\1/p' "$output")"
  rm -f "$output"
}

mirror_images() {
  local tool count=0 total source path dest want
  if command -v skopeo >/dev/null 2>&1; then tool=skopeo
  elif command -v docker >/dev/null 2>&1; then tool=docker
  else die "neither skopeo nor docker: install one, or mirror images.txt and pass --skip-images"
  fi
  total="$(grep -c . "$here/mirror.txt")"
  while read -r source path; do
    [ -n "$source" ] || continue
    count=$((count + 1))
    dest="$(target_of "$path")"
    echo "==> [$count/$total] $source -> $dest ($tool)"
    pushed=""
    "copy_$tool" "$source" "$dest"
    want=""
    case "$path" in *@sha256:*) want="sha256:${path##*@sha256:}" ;; esac
    if [ -n "$want" ] && [ "$dry_run" = 0 ] && [ "$pushed" != "$want" ]; then
      die "$dest has digest ${pushed:-unknown} but the chart pins $want" \
        "(docker pushes one platform of a multi-arch image: use skopeo)"
    fi
  done < "$here/mirror.txt"
}

install_chart() {
  local flags=() file
  for file in ${values_files[@]+"${values_files[@]}"}; do flags+=(-f "$here/$file"); done
  echo "==> helm upgrade --install $release ($namespace)"
  run helm upgrade --install "$release" "$here/$chart" --namespace "$namespace" --create-namespace \
    ${flags[@]+"${flags[@]}"} --set-string "global.imageRegistry=$registry" \
    ${helm_extra[@]+"${helm_extra[@]}"}
}

loader_overrides() {  # a restricted-PSS pod mounting the claim at /models
  local secrets="" name
  for name in ${pull_secrets[@]+"${pull_secrets[@]}"}; do
    secrets="$secrets${secrets:+,}{\"name\":\"$name\"}"
  done
  cat <<EOF
{"spec":{"imagePullSecrets":[$secrets],
 "securityContext":{"runAsNonRoot":true,"runAsUser":10001,"runAsGroup":10001,"fsGroup":10001,
                    "seccompProfile":{"type":"RuntimeDefault"}},
 "volumes":[{"name":"models","persistentVolumeClaim":{"claimName":"$models_pvc"}}],
 "containers":[{"name":"models-loader","image":"$(target_of "$loader")",
   "command":["sleep","3600"],
   "securityContext":{"allowPrivilegeEscalation":false,"capabilities":{"drop":["ALL"]}},
   "volumeMounts":[{"name":"models","mountPath":"/models"}]}]}}
EOF
}

load_models() {
  local ns="${models_namespace:-$namespace}" pod=models-loader
  echo "==> unpacking @MODELS@ onto PVC $models_pvc ($ns) as pvc://$models_pvc/@PREFIX@"
  run kubectl -n "$ns" run "$pod" --restart=Never --image="$(target_of "$loader")" \
    --overrides="$(loader_overrides)" --command -- sleep 3600
  run kubectl -n "$ns" wait --for=condition=Ready "pod/$pod" --timeout=300s
  run kubectl -n "$ns" cp "$here/@MODELS@" "$pod:/models/@MODELS@"
  run kubectl -n "$ns" exec "$pod" -- tar -xzf "/models/@MODELS@" -C /models
  run kubectl -n "$ns" exec "$pod" -- rm -f "/models/@MODELS@"
  run kubectl -n "$ns" delete pod "$pod" --wait=false
}

verify_bundle
[ "$skip_images" = 1 ] || mirror_images
[ "$skip_helm" = 1 ] || install_chart
if [ -n "$models_pvc" ]; then
  load_models
else
  echo "==> models: @MODELS@ was not loaded; pass --models-pvc CLAIM, or see ./install.sh --help"
fi
"""
