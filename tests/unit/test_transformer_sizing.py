"""Transformer resources and in-flight caps: per stage kind from measurement, settable per CR
(``spec.transformer.resources``, ``spec.scaling.maxInFlight``), checked by the contract; and an
OOM-killed transformer read from its pod's status.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from helpers import make_deployment
from modelplane_api.resources import (
    DEFAULT_SIZING,
    STAGE_SIZING,
    in_flight_cap,
    quantity,
    sizing,
)
from modelplane_operator.config import Config
from modelplane_operator.render_inference_service import render_inference_service
from modelplane_operator.spec import SpecError, parse_deployment
from modelplane_operator.transformer_pods import oom_kill, transformer_condition


def transformer(**spec: Any) -> dict[str, Any]:
    owner = make_deployment("gate", **spec)
    isvc = render_inference_service(owner, parse_deployment(owner["spec"]), Config())
    container: dict[str, Any] = isvc["spec"]["transformer"]["containers"][0]
    return container


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("500m", Decimal("0.5")),
        ("2", Decimal(2)),
        (2, Decimal(2)),
        ("1Gi", Decimal(1024**3)),
        ("512Mi", Decimal(512 * 1024**2)),
        ("1.5G", Decimal("1.5e9")),
        ("1e3", Decimal(1000)),
    ],
)
def test_quantities(text: str | int, value: Decimal) -> None:
    assert quantity(text, "x") == value


@pytest.mark.parametrize(
    ("resources", "words"),
    [
        ({"limits": {"memory": "lots"}}, "not a Kubernetes quantity"),
        ({"requests": {"memory": "3Gi"}, "limits": {"memory": "2Gi"}}, "above its limit"),
        ({"requests": {"nvidia.com/gpu": "1"}}, "only cpu and memory"),
        ({"limits": {"cpu": "0"}}, "above zero"),
        ({"requests": {"memory": "4Gi"}}, "above its limit"),  # over the stage's default limit
    ],
)
def test_bad_transformer_resources_are_refused(resources: dict[str, Any], words: str) -> None:
    with pytest.raises(SpecError) as err:
        transformer(transformer={"resources": resources})
    assert err.value.reason == "InvalidResources" and words in err.value.message


def test_defaults_come_per_stage_kind() -> None:
    detection = sizing("text-detection").resources
    gate = sizing("quality-gate").resources
    assert quantity(detection.limits["memory"], "") > quantity(gate.limits["memory"], "")
    assert sizing("custom") == DEFAULT_SIZING
    for stage, value in STAGE_SIZING.items():  # each default is itself valid
        for kind in ("cpu", "memory"):
            assert quantity(value.resources.requests[kind], stage) <= quantity(
                value.resources.limits[kind], stage
            )
    assert transformer()["resources"] == gate.to_kubernetes()


def test_cr_resources_override_key_by_key() -> None:
    container = transformer(transformer={"resources": {"limits": {"memory": "3Gi"}}})
    gate = sizing("quality-gate").resources
    assert container["resources"]["limits"] == {"cpu": gate.limits["cpu"], "memory": "3Gi"}
    assert container["resources"]["requests"] == gate.requests


def test_in_flight_cap_is_rendered_from_scaling_or_the_stage_default() -> None:
    assert "--max-concurrency=3" in transformer(scaling={"maxInFlight": 3})["args"]
    default = in_flight_cap("quality-gate", None)
    assert default == sizing("quality-gate").max_in_flight
    assert f"--max-concurrency={default}" in transformer()["args"]


def test_oom_kill_read_from_a_pod_status() -> None:
    killed = {"terminated": {"reason": "OOMKilled", "exitCode": 137, "finishedAt": "T2"}}
    other = {"terminated": {"reason": "Error", "exitCode": 1, "finishedAt": "T3"}}
    status = {
        "containerStatuses": [
            {"name": "queue-proxy", "state": {"running": {}}, "lastState": other},
            {"name": "kserve-container", "restartCount": 2, "lastState": killed},
        ]
    }
    kill = oom_kill("p", status)
    assert kill == {
        "pod": "p",
        "container": "kserve-container",
        "exitCode": 137,
        "finishedAt": "T2",
        "restartCount": 2,
    }
    assert oom_kill("p", {"containerStatuses": [{"name": "c", "lastState": other}]}) is None
    assert oom_kill("p", {}) is None
    condition = transformer_condition([kill], "512Mi")
    assert (condition.status, condition.reason) == (False, "OOMKilled")
    assert "512Mi" in condition.message and "maxInFlight" in condition.message
    assert transformer_condition([], "512Mi").status is True
