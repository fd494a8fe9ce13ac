"""The transformer defaults are the measurement's: ``modelplane_api.resources.STAGE_SIZING``
equals the rule of ``bench/transformer_resources.py`` applied to the committed results.

Re-running the bench changes the figures; this test then asks for the table to follow them.
The rule runs in a subprocess: the bench module loads tritonclient's gRPC protos, which collide
with KServe's in one process.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from modelplane_api.resources import STAGE_SIZING, quantity

ROOT = Path(__file__).resolve().parents[2]
DERIVE = """
import json
from bench.common import RESULTS
from bench.transformer_resources import derived
rows = json.loads((RESULTS / "transformer_resources.json").read_text())["stages"]
print(json.dumps({row["stage"]: derived(row) for row in rows}))
"""


def test_stage_defaults_follow_the_measurement() -> None:
    out = subprocess.run(
        [sys.executable, "-c", DERIVE], cwd=ROOT, capture_output=True, text=True, check=True
    )
    derived = json.loads(out.stdout)
    assert set(derived) == set(STAGE_SIZING)
    for stage, rule in derived.items():
        table = STAGE_SIZING[stage]
        assert table.max_in_flight == rule["max_in_flight"], stage
        for key, part in (("memory_request", "requests"), ("memory_limit", "limits")):
            given = getattr(table.resources, part)["memory"]
            assert quantity(given, stage) == quantity(rule[key], stage), (stage, key)
