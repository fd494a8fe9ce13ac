"""The three-way merge behind ``Cluster.apply``: drop what we stopped setting, keep the rest."""

from __future__ import annotations

from typing import Any

import pytest
from kube import merge_patched
from modelplane_operator.cluster import (
    LAST_APPLIED,
    differs,
    last_applied,
    merge_patch,
    with_last_applied,
)


@pytest.mark.parametrize(
    ("before", "after", "others", "expected"),
    [
        # A node selector the spec no longer asks for is removed; KServe's defaults stay.
        (
            {"nodeSelector": {"gpu": "a100"}, "minReplicas": 1},
            {"minReplicas": 2},
            {"timeout": 60},
            {"minReplicas": 2, "timeout": 60},
        ),
        # Nested: one key of a dict dropped, its sibling kept.
        (
            {"model": {"runtime": "triton", "args": ["a"]}},
            {"model": {"runtime": "triton"}},
            {},
            {"model": {"runtime": "triton"}},
        ),
        # Lists are replaced whole (merge patch semantics).
        (
            {"tolerations": [{"key": "a"}, {"key": "b"}]},
            {"tolerations": [{"key": "b"}]},
            {},
            {"tolerations": [{"key": "b"}]},
        ),
        # Nothing applied before (an object from an older operator): nothing is removed.
        ({}, {"minReplicas": 2}, {"maxReplicas": 3}, {"minReplicas": 2, "maxReplicas": 3}),
    ],
)
def test_merge_patch_removes_only_what_we_set_before(
    before: dict[str, Any], after: dict[str, Any], others: dict[str, Any], expected: dict[str, Any]
) -> None:
    live = merge_patched(before, others)
    assert merge_patched(live, merge_patch(before, after)) == expected


def test_last_applied_round_trips_and_ignores_status() -> None:
    obj = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "a", "namespace": "n"},
        "data": {"k": "v"},
        "status": {"x": 1},
    }
    desired = with_last_applied(obj)
    assert "status" not in desired and "status" not in last_applied(desired)
    assert last_applied(desired)["data"] == {"k": "v"}
    assert LAST_APPLIED not in obj["metadata"].get("annotations", {})  # input left untouched
    assert last_applied({"metadata": {"annotations": {LAST_APPLIED: "not json"}}}) == {}


@pytest.mark.parametrize(
    ("desired", "actual", "expected"),
    [
        ({"a": 1}, {"a": 1, "b": 2}, False),  # fields set by others do not count
        ({"a": {"b": 1}}, {"a": {"b": 2}}, True),
        ({"a": [1]}, {"a": [1, 2]}, True),
        ({"a": 1}, {}, True),
    ],
)
def test_differs_only_on_what_we_want(
    desired: dict[str, Any], actual: dict[str, Any], expected: bool
) -> None:
    assert differs(desired, actual) is expected
