#!/usr/bin/env bash
# modelplane air-gapped installer: copied verbatim into every bundle by `modelplane bundle`.
#
# Needs nothing outside the bundle and the site: bash, coreutils, minisign, skopeo, and (unless
# --images-only) kubectl and helm. It verifies the bundle (signature with a key the site pinned,
# then every checksum) before it touches anything, pushes every image and the models image from
# the bundle's OCI layout to the site registry and checks each pushed digest, applies the CRDs,
# and runs `helm upgrade --install --atomic --wait` with every image referenced by digest in the
# site registry. Re-running converges: what the registry already has is not pushed again.
# Failures print one line: `install.sh: <reason>`.
set -euo pipefail

usage() {
  cat <<'EOF'
usage: ./install.sh --registry HOST[:PORT][/PREFIX] --trusted-key FILE [options] [-- helm flags]

  --registry REF         site registry (and optional path) every image is pushed to and pulled
                         from, e.g. registry.claims.local:5000/mirror
  --trusted-key FILE     minisign public key the site pinned (never the copy in the bundle)
  --insecure-registry    the site registry speaks plain HTTP or has a self-signed certificate
  --images-only          verify and push images and the models image; no kubectl, no helm
  --dry-run              verify, check the registry, print what would change; change nothing
  --namespace NS         release namespace (default modelplane-system)
  --release NAME         release name (default modelplane)
  --timeout DURATION     helm --timeout (default 10m)
  --models-pvc CLAIM     also unpack models.tar.gz onto this PVC and check every file's sha256;
                         the examples then read pvc://CLAIM/repository instead of the models image
  --models-namespace NS  namespace of that PVC (default: the release namespace)

Steps: verify (minisign, sha256sum -c) -> registry reachable -> push images.lock (skip what is
there, check every digest) -> kubectl apply CRDs -> helm upgrade --install --atomic --wait.
The models image is printed as oci://REGISTRY/modelplane/models@sha256:... for storageUri, and
passed to helm as examples.modelsStorageUri (the storageUri of every example ModelDeployment).
EOF
}

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
registry="" trusted_key="" insecure=0 images_only=0 dry_run=0
namespace="modelplane-system" release="modelplane" timeout="10m"
models_pvc="" models_namespace=""
helm_extra=()
workdir="" loader="" models_uri=""

die() { echo "install.sh: $*" >&2; exit 1; }
cleanup() {  # on every exit: the scratch folder, and a models loader pod a failure left behind
  if [ -n "$workdir" ]; then rm -rf "$workdir"; fi
  if [ -n "$loader" ]; then
    kubectl -n "$loader" delete pod modelplane-models-loader --wait=false >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT

while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --registry) registry="${2:?--registry needs a value}"; registry="${registry%/}"; shift 2 ;;
    --trusted-key) trusted_key="${2:?--trusted-key needs a value}"; shift 2 ;;
    --insecure-registry) insecure=1; shift ;;
    --images-only) images_only=1; shift ;;
    --dry-run) dry_run=1; shift ;;
    --namespace) namespace="${2:?--namespace needs a value}"; shift 2 ;;
    --release) release="${2:?--release needs a value}"; shift 2 ;;
    --timeout) timeout="${2:?--timeout needs a value}"; shift 2 ;;
    --models-pvc) models_pvc="${2:?--models-pvc needs a value}"; shift 2 ;;
    --models-namespace) models_namespace="${2:?--models-namespace needs a value}"; shift 2 ;;
    --) shift; helm_extra=("$@"); break ;;
    *) usage >&2; echo "install.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
if [ -z "$registry" ] || [ -z "$trusted_key" ]; then
  usage >&2; echo "install.sh: --registry and --trusted-key are required" >&2; exit 2
fi

run() {  # a command that changes something: printed under --dry-run, run otherwise
  if [ "$dry_run" = 1 ]; then printf '+'; printf ' %q' "$@"; printf '\n'; else "$@"; fi
}

need() {
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool is not installed"
  done
}

verify_bundle() {
  local failed
  [ -f "$trusted_key" ] || die "trusted key $trusted_key not found"
  if [ ! -f "$here/SHA256SUMS" ] || [ ! -f "$here/SHA256SUMS.minisig" ]; then
    die "SHA256SUMS or its signature is missing"
  fi
  minisign -V -q -p "$trusted_key" -m "$here/SHA256SUMS" -x "$here/SHA256SUMS.minisig" \
    >/dev/null 2>&1 || die "signature does not verify"
  if ! failed="$(cd "$here" && sha256sum --quiet -c SHA256SUMS 2>/dev/null)"; then
    failed="$(printf '%s\n' "$failed" | sed -n 's/: FAILED.*$//p' | head -n 1)"
    die "checksum mismatch for ${failed:-a file listed in SHA256SUMS}"
  fi
  # A file the signed list does not name (an extra values file, an extra CRD) would be applied
  # by the globs below: refuse the bundle instead.
  failed="$(cd "$here" && find . -type f ! -name SHA256SUMS ! -name SHA256SUMS.minisig \
    -printf '%P\n' | LC_ALL=C sort | LC_ALL=C comm -23 - <(cut -c67- SHA256SUMS | LC_ALL=C sort) \
    | head -n 1)"
  [ -z "$failed" ] || die "file not covered by SHA256SUMS: $failed"
  echo "==> bundle verified (signature and $(wc -l <"$here/SHA256SUMS") checksums)"
}

registry_reachable() {  # a TCP connection to the registry's host:port (443 unless given)
  local hostport="${registry%%/*}" host port
  host="${hostport%:*}"
  port="${hostport##*:}"
  [ "$host" != "$hostport" ] || port=443
  # shellcheck disable=SC2016  # $1 and $2 expand in the inner bash, on purpose
  timeout 10 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$host" "$port" 2>/dev/null \
    || die "registry unreachable: $hostport"
}

tls_flag() {  # skopeo's TLS flag for the site registry: $1 is the flag name
  if [ "$insecure" = 1 ]; then echo "--$1=false"; else echo "--$1=true"; fi
}

present() {  # DEST DIGEST: the registry serves DEST@DIGEST with exactly that digest
  local raw
  raw="$workdir/manifest"
  skopeo inspect --raw "$(tls_flag tls-verify)" "docker://$1@$2" >"$raw" 2>/dev/null || return 1
  [ "sha256:$(sha256sum <"$raw" | cut -d' ' -f1)" = "$2" ]
}

push_images() {
  local digest ref path tag source dest pushed count=0 copied=0 total
  total="$(grep -vc '^#' "$here/images.lock")"
  while IFS=$'\t' read -r digest ref path tag source; do
    case "$digest" in '#'*|'') continue ;; esac
    count=$((count + 1))
    dest="$registry/$path"
    if present "$dest" "$digest"; then
      echo "==> [$count/$total] $dest@$digest present"
      continue
    fi
    echo "==> [$count/$total] $source -> $dest:$tag"
    copied=$((copied + 1))
    run skopeo copy --quiet --all --preserve-digests "$(tls_flag dest-tls-verify)" \
      --digestfile "$workdir/digest" "oci:$here/images:$ref" "docker://$dest:$tag"
    [ "$dry_run" = 1 ] && continue
    pushed="$(cat "$workdir/digest")"
    [ "$pushed" = "$digest" ] || die "digest mismatch for $dest: pushed $pushed, bundle has $digest"
    present "$dest" "$digest" || die "digest mismatch for $dest: the registry does not serve $digest"
  done <"$here/images.lock"
  echo "==> images: $copied pushed, $((count - copied)) already present"
}

locked() {  # the digest and site repository of the images.lock line whose path ends with $1
  awk -F '\t' -v suffix="$1" '$1 !~ /^#/ && $3 ~ (suffix "$") { print $3 "@" $1; exit }' \
    "$here/images.lock"
}

install_chart() {
  local flags=() file chart
  for file in "$here"/values/*.yaml; do flags+=(-f "$file"); done
  chart="$here/$(cat "$here/chart.txt")"
  echo "==> kubectl apply CRDs"
  run kubectl apply --server-side --force-conflicts -f "$here/crds/"
  echo "==> helm upgrade --install $release ($namespace)"
  run helm upgrade --install "$release" "$chart" --namespace "$namespace" --create-namespace \
    "${flags[@]}" --set-string "global.imageRegistry=$registry" \
    --set-string "examples.modelsStorageUri=$models_uri" \
    --atomic --wait --timeout "$timeout" ${helm_extra[@]+"${helm_extra[@]}"}
}

load_models() {  # unpack models.tar.gz on the PVC in a pod of the inference image, then check it
  local ns="${models_namespace:-$namespace}" pod=modelplane-models-loader image
  image="$registry/$(locked /inference)"
  echo "==> models.tar.gz onto PVC $models_pvc ($ns) as pvc://$models_pvc/repository"
  [ "$dry_run" = 1 ] || loader="$ns"
  run kubectl -n "$ns" run "$pod" --restart=Never --image="$image" --overrides="$(cat <<EOF
{"spec":{"securityContext":{"runAsNonRoot":true,"runAsUser":10001,"fsGroup":10001,
 "seccompProfile":{"type":"RuntimeDefault"}},
 "volumes":[{"name":"models","persistentVolumeClaim":{"claimName":"$models_pvc"}}],
 "containers":[{"name":"$pod","image":"$image","command":["sleep","3600"],
  "securityContext":{"allowPrivilegeEscalation":false,"capabilities":{"drop":["ALL"]}},
  "volumeMounts":[{"name":"models","mountPath":"/models"}]}]}}
EOF
)"
  run kubectl -n "$ns" wait --for=condition=Ready "pod/$pod" --timeout=300s
  run kubectl -n "$ns" cp "$here/models.tar.gz" "$pod:/models/models.tar.gz"
  run kubectl -n "$ns" cp "$here/models.sha256" "$pod:/models/models.sha256"
  run kubectl -n "$ns" exec "$pod" -- sh -c \
    'cd /models && tar -xzf models.tar.gz && sha256sum --quiet -c models.sha256 && rm models.tar.gz'
  run kubectl -n "$ns" delete pod "$pod" --wait=false
  loader=""
}

need minisign sha256sum skopeo awk timeout
verify_bundle
registry_reachable
workdir="$(mktemp -d)"
push_images
# The examples' storageUri: the models image by digest, or the PVC it is unpacked onto.
models_uri="oci://$registry/$(locked modelplane/models)"
echo "==> models image: $models_uri"
if [ -n "$models_pvc" ]; then models_uri="pvc://$models_pvc/repository"; fi
[ "$images_only" = 1 ] && exit 0
[ "$dry_run" = 1 ] || need kubectl helm
install_chart
if [ -n "$models_pvc" ]; then load_models; fi
echo "==> done; KServe's router/agent/storage-initializer images for its inferenceservice-config:"
echo "    kubectl -n $namespace get configmap -l modelplane.io/image-inventory=true -o yaml"
