"""Runs ``kserve_internals_checks.py`` in its own pytest process.

KServe and ``tritonclient.grpc`` register the same ``inference.*`` protobuf symbols, so KServe
cannot be imported in a pytest process that has already collected the serving tier (whose
helpers import ``tritonclient.grpc``). The checks themselves live beside this file; this test
fails with their output when any of them fails.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

CHECKS = Path(__file__).with_name("kserve_internals_checks.py")
ROOT = Path(__file__).resolve().parents[2]


def test_kserve_internals_checks_pass_in_a_fresh_process() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "pytest", str(CHECKS), "-q", "-p", "no:cacheprovider"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    summary = re.search(r"(\d+) passed", run.stdout)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    # Every check in the file ran (a collection that silently found none would pass rc 0 only
    # with pytest's exit 5, but be explicit): four checks today.
    assert summary is not None and int(summary.group(1)) >= 4, run.stdout[-2000:]
