"""Image builds install dependencies pinned by version *and* hash (issue 6: supply chain).

``docker/requirements/<image>.txt`` comes from ``make lock`` (pip-compile --generate-hashes over
the image's extra); the Dockerfile installs it with ``--require-hashes`` and then the modelplane
wheel without dependencies, so every third-party file in the image is one whose sha256 was
reviewed in git.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
IMAGES = ["operator", "inference"]
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==(\S+) \\$")


def pinned(image: str) -> dict[str, tuple[str, int]]:
    """Package -> (version, number of sha256 hashes) for every requirement of the lock file."""
    lines = (ROOT / "docker" / "requirements" / f"{image}.txt").read_text().splitlines()
    packages: dict[str, tuple[str, int]] = {}
    current = None
    for line in lines:
        if match := PIN.match(line):
            current = canonicalize_name(match[1])
            packages[current] = (match[2], 0)
        elif current and line.strip().startswith("--hash=sha256:"):
            version, count = packages[current]
            packages[current] = (version, count + 1)
        elif line and not line.startswith((" ", "#")):
            raise AssertionError(f"{image}: unpinned or unhashed line {line!r}")
    return packages


@pytest.mark.parametrize("image", IMAGES)
def test_every_dependency_is_pinned_with_hashes(image: str) -> None:
    packages = pinned(image)
    assert packages and all(count >= 1 for _, count in packages.values()), packages
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = [*project["dependencies"], *project["optional-dependencies"][image]]
    for req in map(Requirement, wanted):
        name = canonicalize_name(req.name)
        assert name in packages, f"{image}: the lock lacks {req.name}; run `make lock`"
        version = packages[name][0]
        assert req.specifier.contains(version, prereleases=True), (
            f"{image}: locked {req.name}=={version} does not satisfy {req}; run `make lock`"
        )


@pytest.mark.parametrize("image", IMAGES)
def test_dockerfile_installs_the_lock_with_hashes_and_nothing_else(image: str) -> None:
    text = (ROOT / "docker" / f"{image}.Dockerfile").read_text()
    assert f"COPY docker/requirements/{image}.txt" in text
    assert "--require-hashes" in text
    installs = re.findall(r"pip install ([^\n\\]*)", text)
    assert all("--require-hashes" in i or "--no-deps" in i for i in installs), installs
    ignore = (ROOT / "docker" / f"{image}.Dockerfile.dockerignore").read_text()
    assert f"!docker/requirements/{image}.txt" in ignore
