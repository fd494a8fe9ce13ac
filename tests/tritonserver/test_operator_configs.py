"""Real Triton loads what the operator renders (issue 23, item 2).

For every example ModelDeployment, the config.pbtxt of the ConfigMap the operator renders
(``render_triton_config_map``), with only the swap ``runtime/triton_local.local_config`` makes
(python backend for ONNX Runtime, CPU instances for GPU ones), is written over the model's
``config.pbtxt`` and loaded through Triton's repository API. What Triton then reports as the
model's config must carry the batching and instance groups the CR asked for, and the inputs and
outputs Triton's auto-complete reads from the ONNX graph must be the ones the repository writer
declared (``make models``' config.pbtxt): in a cluster the ConfigMap declares none and relies on
that auto-complete. A spec the operator refuses for its batching is refused by Triton as well.
"""

from __future__ import annotations

import dataclasses
import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from helpers import as_stored, load_examples
from modelplane_api import triton
from modelplane_api.spec import SpecError
from modelplane_api.triton import Batching
from modelplane_inference.runtime.triton_local import (
    ONNX_FILE,
    TritonModel,
    TritonServer,
    write_repository,
)
from modelplane_operator.render_serving import render_triton_config_map
from modelplane_operator.spec import DeploymentSpec, parse_deployment

EXAMPLES = [as_stored(d) for d in load_examples() if d["kind"] == "ModelDeployment"]


def post(url: str, body: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body or {}).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as reply:
            text = reply.read()
            return reply.status, json.loads(text) if text else {}
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def get(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=30) as reply:
        body: dict[str, Any] = json.load(reply)
        return body


def load(
    server: TritonServer, spec: DeploymentSpec, repository: Path, text: str
) -> tuple[int, dict[str, Any]]:
    """Write the model with ``text`` as its config.pbtxt and load it (explicit mode)."""
    onnx = repository / spec.model.name / spec.model.version / ONNX_FILE
    write_repository(
        server.repository, [TritonModel(spec.model.name, spec.model.version, text, onnx)]
    )
    return post(f"{server.http_url}/v2/repository/models/{spec.model.name}/load")


def unload(server: TritonServer, model: str) -> None:
    status, body = post(f"{server.http_url}/v2/repository/models/{model}/unload")
    assert status == 200, body


@pytest.mark.parametrize("owner", EXAMPLES, ids=[d["metadata"]["name"] for d in EXAMPLES])
def test_rendered_config_loads_with_the_batching_the_cr_asked_for(
    owner: dict[str, Any], explicit_triton: TritonServer, model_repository: Path
) -> None:
    spec = parse_deployment(owner["spec"])
    if spec.runtime != "triton":  # a KServe python predictor in the cluster: no ConfigMap
        assert spec.runtime == "python"
        return
    rendered = render_triton_config_map(owner, spec)["data"]["config.pbtxt"]
    status, body = load(explicit_triton, spec, model_repository, rendered)
    assert status == 200, body
    try:
        loaded = get(f"{explicit_triton.http_url}/v2/models/{spec.model.name}/config")
    finally:
        unload(explicit_triton, spec.model.name)
    asked = spec.batching
    assert loaded["max_batch_size"] == asked.max_batch_size
    if asked.max_batch_size > 0:
        dynamic = loaded["dynamic_batching"]
        # Triton normalises "no preferred size" to [max_batch_size]: the same batcher
        # behaviour (batches as large as allowed within the queue delay).
        preferred = list(asked.preferred_batch_sizes) or [asked.max_batch_size]
        assert dynamic["preferred_batch_size"] == preferred
        assert int(dynamic["max_queue_delay_microseconds"]) == asked.max_queue_delay_us
    else:
        assert "dynamic_batching" not in loaded
    # One group of instanceCount; KIND_CPU here where the CR asks for a GPU (no GPU in this
    # Triton: the one difference beside the backend, docs/operations.md).
    assert [(g["count"], g["kind"]) for g in loaded["instance_group"]] == [
        (asked.instance_count, "KIND_CPU")
    ]
    assert loaded["backend"] == "python" and loaded["version_policy"] == {
        "specific": {"versions": [int(spec.model.version)]}
    }
    # Auto-complete from the ONNX graph declares what the repository writer declared.
    declared = triton.read_config(model_repository / spec.model.name)
    batched = asked.max_batch_size > 0
    for kind in ("input", "output"):
        got = [(t["name"], t["data_type"], [int(d) for d in t["dims"]]) for t in loaded[kind]]
        want = [
            (
                t.name,
                triton.model_config_pb2().DataType.Name(t.data_type),
                list(t.dims) if batched == (declared.max_batch_size > 0) else None,
            )
            for t in getattr(declared, kind)
        ]
        assert [g[:2] for g in got] == [w[:2] for w in want], kind
        for (name, _, dims), (_, _, declared_dims) in zip(got, want, strict=True):
            if declared_dims is not None:
                assert dims == declared_dims, (kind, name)


BAD_BATCHING = {
    # The operator's InvalidBatching (modelplane_api.spec.check_consistency).
    "preferred-over-max": Batching(max_batch_size=4, preferred_batch_sizes=(8,)),
}


@pytest.mark.parametrize("name", sorted(BAD_BATCHING))
def test_batching_the_operator_refuses_is_refused_by_triton(
    name: str, explicit_triton: TritonServer, model_repository: Path
) -> None:
    (owner,) = [d for d in EXAMPLES if d["metadata"]["name"] == "car-quality-gate"]
    bad = BAD_BATCHING[name]
    spec_dict = json.loads(json.dumps(owner["spec"]))
    spec_dict["batching"] = {
        "maxBatchSize": bad.max_batch_size,
        "preferredBatchSizes": list(bad.preferred_batch_sizes),
    }
    with pytest.raises(SpecError) as refused:
        parse_deployment(spec_dict)
    assert refused.value.reason == "InvalidBatching"
    # The same spec rendered anyway (render functions do not check) and given to Triton.
    spec = dataclasses.replace(parse_deployment(owner["spec"]), batching=bad)
    rendered = render_triton_config_map(owner, spec)["data"]["config.pbtxt"]
    status, body = load(explicit_triton, spec, model_repository, rendered)
    # The load API answers a generic "failed to poll from model repository"; Triton's log
    # names the check (what a predictor pod's log shows when its ConfigMap is bad).
    assert status >= 400 and "failed to" in body["error"], body
    assert "dynamic batching preferred size must be <= max batch size" in (
        explicit_triton.log_file.read_text(errors="replace")
    )
