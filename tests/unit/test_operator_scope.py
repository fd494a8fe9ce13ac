"""Which namespace the operator watches with no -n/-A: as kubectl picks it."""

from __future__ import annotations

from pathlib import Path

import pytest
from modelplane_operator.runner import ScopeError, context_namespace, default_namespace


def kubeconfig(
    folder: Path, name: str, current: str | None, contexts: dict[str, str | None]
) -> Path:
    lines = ["apiVersion: v1", "kind: Config"]
    if current:
        lines.append(f"current-context: {current}")
    lines.append("contexts:")
    for context, namespace in contexts.items():
        ns = f", namespace: {namespace}" if namespace else ""
        lines.append(f"  - {{name: {context}, context: {{cluster: c{ns}}}}}")
    path = folder / name
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize(
    ("current", "contexts", "expected"),
    [
        ("a", {"a": "ml-serving"}, "ml-serving"),
        ("a", {"a": None}, "default"),
        ("b", {"a": "x", "b": "claims"}, "claims"),
        (None, {"a": "x"}, None),
        ("missing", {"a": "x"}, None),
    ],
)
def test_context_namespace(
    tmp_path: Path, current: str | None, contexts: dict[str, str | None], expected: str | None
) -> None:
    path = kubeconfig(tmp_path, "config", current, contexts)
    assert context_namespace({"KUBECONFIG": str(path)}) == expected


def test_merged_kubeconfig_first_file_wins(tmp_path: Path) -> None:
    first = kubeconfig(tmp_path, "one", "a", {"a": "first"})
    second = kubeconfig(tmp_path, "two", "b", {"a": "second", "b": "other"})
    assert context_namespace({"KUBECONFIG": f"{first}:{second}"}) == "first"
    # The current context may come from one file and its definition from another.
    only_current = kubeconfig(tmp_path, "three", "b", {})
    assert context_namespace({"KUBECONFIG": f"{only_current}:{second}"}) == "other"


def test_in_a_pod_the_pods_namespace(tmp_path: Path) -> None:
    pod_file = tmp_path / "namespace"
    pod_file.write_text("modelplane-system\n")
    config = kubeconfig(tmp_path, "config", "a", {"a": "ml-serving"})
    env = {"KUBERNETES_SERVICE_HOST": "10.0.0.1", "KUBECONFIG": str(config)}
    assert default_namespace(env, pod_file) == ("modelplane-system", "the pod's namespace")
    env.pop("KUBERNETES_SERVICE_HOST")
    assert default_namespace(env, pod_file) == ("ml-serving", "the kubeconfig context")


def test_nothing_to_default_to_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ScopeError, match="no -n/-A"):
        default_namespace({"KUBECONFIG": str(tmp_path / "absent")}, tmp_path / "absent-ns")
