"""Pure helpers of the air-gap tier: registries on loopback, key pairs, running the bundle.

A module of its own (not conftest) so test modules import it by name; tests/airgap/conftest.py
puts this folder on sys.path.
"""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from helpers import ROOT
from processes import free_port

BIN = Path(sys.executable).parent
CHART = ROOT / "charts" / "modelplane"
TOOLS = ("docker-registry", "skopeo", "umoci", "minisign", "shellcheck")
# Every image the chart renders or lists, as values.yaml names it (path under a registry, tag):
# written out here, not read from the chart, so a name the bundle forgets is caught.
IMAGES = {
    "modelplane/operator": "0.1.0",
    "modelplane/inference": "0.1.0",
    "modelplane/engine-builder": "0.1.0",
    "nvidia/tritonserver": "25.01-py3",
    "kserve/storage-initializer": "v0.21.0",
    "kserve/router": "v0.21.0",
    "kserve/agent": "v0.21.0",
}
# Pushed upstream as Docker v2 manifests, as NGC and Docker Hub serve many images: the bundle's
# OCI layout stores them converted (the layers untouched), so their digest changes once.
DOCKER_V2 = {"nvidia/tritonserver"}
# Loopback only, whatever *_proxy the environment sets (urllib would honour it).
DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))
ACCESS_WRITE = (' "PUT ', ' "POST ', ' "PATCH ', ' "DELETE ')


@dataclass
class Registry:
    """One ``docker-registry`` process on 127.0.0.1 with its own storage, config and log."""

    root: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.root / "registry.log"

    def start(self) -> None:
        config = {
            "version": 0.1,
            "log": {"level": "info", "accesslog": {"disabled": False}},
            "storage": {"filesystem": {"rootdirectory": str(self.root / "data")}},
            "http": {"addr": self.host},
        }
        (self.root / "config.yml").write_text(yaml.safe_dump(config))
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                ["docker-registry", "serve", str(self.root / "config.yml")],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                with DIRECT.open(f"http://{self.host}/v2/", timeout=1) as answer:
                    if answer.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.1)
        raise RuntimeError(f"docker-registry did not answer on {self.host}: {self.log}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def writes(self) -> list[str]:
        """Access-log lines of requests that change the registry (pushes)."""
        return [
            line
            for line in self.log.read_text().splitlines()
            if line.startswith("127.0.0.1") and any(verb in line for verb in ACCESS_WRITE)
        ]

    def requests(self) -> int:
        """How many HTTP requests the registry has answered so far."""
        return sum(1 for line in self.log.read_text().splitlines() if line.startswith("127."))


def run(
    *args: str, cwd: Path | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """A command with its output captured; a failure shows its stderr."""
    result = subprocess.run(args, capture_output=True, text=True, cwd=cwd, timeout=300)
    assert not check or result.returncode == 0, f"{args}: {result.stderr}{result.stdout}"
    return result


@dataclass(frozen=True)
class Keys:
    """A minisign key pair: ``key`` signs, ``pub`` is what a site pins."""

    key: Path
    pub: Path


def make_keys(folder: Path) -> Keys:
    folder.mkdir(parents=True, exist_ok=True)
    keys = Keys(folder / "bundle.key", folder / "bundle.pub")
    run("minisign", "-G", "-W", "-p", str(keys.pub), "-s", str(keys.key))
    return keys


def write_bundle(
    output: Path, upstream: Registry | None, keys: Keys, repository: Path, *values: Path
) -> subprocess.CompletedProcess[str]:
    """``modelplane-bundle`` (= ``modelplane bundle``) as a user runs it, pulling from
    ``upstream`` (None: from where the chart's defaults point); the result, unchecked."""
    if upstream is not None:
        source = output.parent / f"{output.name}-source-values.yaml"
        source.write_text(yaml.safe_dump({"global": {"imageRegistry": upstream.host}}))
        values = (source, *values)
    flags = [arg for path in values for arg in ("--values", str(path))]
    command = [
        str(BIN / "modelplane-bundle"),
        *("--output", str(output), "--signing-key", str(keys.key), "--chart", str(CHART)),
        *("--repository", str(repository), "--insecure-registry", *flags),
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=ROOT)
