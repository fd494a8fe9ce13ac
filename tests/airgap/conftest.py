"""Fixtures of the air-gap tier: real registries, real images, real signing keys, on loopback.

Two Debian ``docker-registry`` processes listen on free 127.0.0.1 ports: "upstream" (what a
connected host pulls from) and "site" (the air-gapped cluster's registry). Every image name the
chart needs is built as a tiny OCI image with ``umoci`` and pushed upstream with ``skopeo``; the
digest skopeo reports for each push is the independent fact the bundle's lock is checked
against. Nothing here talks to any address but 127.0.0.1.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from modelplane_api import triton

# airkit (pure helpers shared by the modules of this folder) is imported by name.
sys.path.insert(0, str(Path(__file__).parent))

from airkit import DOCKER_V2, IMAGES, TOOLS, Keys, Registry, make_keys, run


@pytest.fixture(scope="session", autouse=True)
def _tools() -> None:
    """The tier needs Debian's tools (`make system-deps` installs them): fail, never skip."""
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    assert not missing, f"not installed: {missing} (run `make system-deps`)"


def _registry(tmp_path_factory: pytest.TempPathFactory, name: str) -> Iterator[Registry]:
    registry = Registry(tmp_path_factory.mktemp(name))
    registry.start()
    yield registry
    registry.stop()


@pytest.fixture(scope="module")
def upstream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """The connected side's registry (stopped by the test flow before installing)."""
    yield from _registry(tmp_path_factory, "upstream")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """The air-gapped site's registry."""
    yield from _registry(tmp_path_factory, "site")


@pytest.fixture(scope="module")
def pushed(upstream: Registry, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Every image of IMAGES built with umoci (one small layer naming the image) and pushed to
    upstream with skopeo: path -> the digest skopeo reported."""
    work = tmp_path_factory.mktemp("images")
    layout = work / "layout"
    run("umoci", "init", "--layout", str(layout))
    digests = {}
    for path, tag in IMAGES.items():
        ref = path.replace("/", "-")
        rootfs = work / ref / "etc"
        rootfs.mkdir(parents=True)
        (rootfs / "image-name").write_text(f"{path}:{tag}\n")
        run("umoci", "new", "--image", f"{layout}:{ref}")
        run("umoci", "insert", "--rootless", "--image", f"{layout}:{ref}", str(rootfs), "/etc")
        digestfile = work / f"{ref}.digest"
        run(
            "skopeo",
            "copy",
            "--quiet",
            "--dest-tls-verify=false",
            f"--format={'v2s2' if path in DOCKER_V2 else 'oci'}",
            "--digestfile",
            str(digestfile),
            f"oci:{layout}:{ref}",
            f"docker://{upstream.host}/{path}:{tag}",
        )
        digests[path] = digestfile.read_text().strip()
    return digests


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    return make_keys(tmp_path_factory.mktemp("keys"))


@pytest.fixture(scope="module")
def wrong_keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    """A second key pair the site does not trust."""
    return make_keys(tmp_path_factory.mktemp("wrong-keys"))


@pytest.fixture(scope="module")
def repository(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small model repository in Triton layout (the mirroring logic is under test, not the
    models; `make bundle` with the real repository is measured in docs/operations.md)."""
    root = tmp_path_factory.mktemp("repository")
    for name, payload in (("quality-gate", b"\x08\x07onnx" * 300), ("breed", b"\x01" * 5000)):
        (root / name / "1").mkdir(parents=True)
        triton.write_config(root / name, triton.new_config(name=name, backend="onnxruntime"))
        (root / name / "1" / "model.onnx").write_bytes(payload)
    (root / ".lock").write_text("")  # the model builder's lock: not part of any model
    return root
