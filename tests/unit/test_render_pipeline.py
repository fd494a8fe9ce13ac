"""ModelPipeline graph checks and InferenceGraph rendering."""

from __future__ import annotations

from typing import Any

import pytest
from helpers import as_stored
from modelplane_operator.render_pipeline import (
    check_steps_exist,
    expressed_condition,
    parse_pipeline,
    render_inference_graph,
)
from modelplane_operator.spec import SpecError


def pipeline(nodes: list[dict[str, Any]], root: str | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"nodes": nodes}
    if root:
        spec["root"] = root
    return as_stored(
        {
            "apiVersion": "modelplane.io/v1alpha1",
            "kind": "ModelPipeline",
            "metadata": {"name": "claims"},
            "spec": spec,
        }
    )


def test_sequence_with_condition_renders_to_service_steps() -> None:
    body = pipeline(
        [
            {
                "name": "root",
                "steps": [
                    {"name": "gate", "deployment": "car-gate"},
                    {
                        "name": "ocr",
                        "deployment": "doc-ocr",
                        "condition": "estimable==true",
                        "data": "$request",
                    },
                ],
            }
        ]
    )
    graph = render_inference_graph(body, parse_pipeline(body["spec"]))
    assert graph["apiVersion"] == "serving.kserve.io/v1alpha1"
    assert graph["spec"]["nodes"] == {
        "root": {
            "routerType": "Sequence",
            "steps": [
                {"name": "gate", "serviceName": "car-gate", "dependency": "Hard"},
                {
                    "name": "ocr",
                    "serviceName": "doc-ocr",
                    "condition": "estimable==true",
                    "data": "$request",
                    "dependency": "Hard",
                },
            ],
        }
    }
    assert graph["metadata"]["labels"]["modelplane.io/pipeline"] == "claims"


def test_custom_root_becomes_root_and_node_references_follow() -> None:
    body = pipeline(
        [
            {"name": "main", "steps": [{"node": "fanout"}]},
            {
                "name": "fanout",
                "routerType": "Ensemble",
                "steps": [{"deployment": "a"}, {"deployment": "b"}],
            },
        ],
        root="main",
    )
    nodes = render_inference_graph(body, parse_pipeline(body["spec"]))["spec"]["nodes"]
    assert set(nodes) == {"root", "fanout"}
    assert nodes["root"]["steps"][0]["nodeName"] == "fanout"
    assert nodes["fanout"]["routerType"] == "Ensemble"
    assert [s["serviceName"] for s in nodes["fanout"]["steps"]] == ["a", "b"]


@pytest.mark.parametrize(
    ("nodes", "root", "reason"),
    [
        (
            [{"name": "a", "steps": [{"node": "b"}]}, {"name": "b", "steps": [{"node": "a"}]}],
            "a",
            "PipelineCycle",
        ),
        ([{"name": "root", "steps": [{"node": "root"}]}], None, "PipelineCycle"),
        ([{"name": "root", "steps": [{"deployment": "x"}]}], "main", "MissingRoot"),
        ([{"name": "root", "steps": [{"node": "nowhere"}]}], None, "InvalidStep"),
        ([{"name": "root", "steps": [{"deployment": "x", "node": "root"}]}], None, "InvalidStep"),
        ([{"name": "root", "steps": [{}]}], None, "InvalidStep"),
        (
            [
                {
                    "name": "root",
                    "routerType": "Splitter",
                    "steps": [{"deployment": "a", "weight": 30}, {"deployment": "b", "weight": 30}],
                }
            ],
            None,
            "InvalidWeights",
        ),
    ],
)
def test_graphs_that_cannot_work(
    nodes: list[dict[str, Any]], root: str | None, reason: str
) -> None:
    with pytest.raises(SpecError) as info:
        parse_pipeline(pipeline(nodes, root)["spec"])
    assert info.value.reason == reason


def test_cycle_message_names_the_path() -> None:
    nodes = [
        {"name": "root", "steps": [{"node": "b"}]},
        {"name": "b", "steps": [{"node": "c"}]},
        {"name": "c", "steps": [{"node": "b"}]},
    ]
    with pytest.raises(SpecError, match="b -> c -> b"):
        parse_pipeline(pipeline(nodes)["spec"])


def test_missing_step_lists_what_is_missing() -> None:
    spec = parse_pipeline(
        pipeline(
            [
                {
                    "name": "root",
                    "steps": [{"deployment": "a"}, {"deployment": "b"}, {"deployment": "a"}],
                }
            ]
        )["spec"]
    )
    assert spec.deployments() == ["a", "b"]
    check_steps_exist(spec, {"a", "b"})
    with pytest.raises(SpecError) as info:
        check_steps_exist(spec, {"a"})
    assert info.value.reason == "MissingStep" and "b" in info.value.message


def test_step_timeouts_become_the_routers_one_timeout_and_the_gap_is_said() -> None:
    """KServe's router has one client timeout for every step: the largest step timeout is
    rendered, and SpecExpressed names the steps that get it instead of their own."""
    body = pipeline(
        [
            {
                "name": "root",
                "steps": [
                    {"name": "gate", "deployment": "car-gate", "timeoutSeconds": 5},
                    {"name": "ocr", "deployment": "doc-ocr", "timeoutSeconds": 20},
                ],
            }
        ]
    )
    spec = parse_pipeline(body["spec"])
    graph = render_inference_graph(body, spec)
    assert graph["spec"]["routerTimeouts"] == {"serviceClient": 20}
    said = expressed_condition(spec)
    assert (said.status, said.reason) == (False, "NotExpressibleInInferenceGraph")
    assert "root/gate" in said.message and "root/ocr" not in said.message


def test_a_spec_the_graph_carries_whole_is_said_expressed() -> None:
    body = pipeline([{"name": "root", "steps": [{"deployment": "a", "timeoutSeconds": 9}]}])
    spec = parse_pipeline(body["spec"])
    assert expressed_condition(spec).status is True
    assert render_inference_graph(body, spec)["spec"]["routerTimeouts"] == {"serviceClient": 9}
