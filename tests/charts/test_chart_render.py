"""The chart through the real Helm engine: lint, render every ci/ scenario, validate every object.

A real API server would reject what the schemas here reject (upstream KServe and
Prometheus-operator CRDs, Kubernetes' own OpenAPI via kubernetes-validate), so a render that
passes these is one `helm install` could apply.
"""

from __future__ import annotations

import filecmp
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from chartkit import (
    CERT_MANAGER,
    CHART,
    NAMESPACE,
    SCENARIOS,
    Docs,
    check_cert_manager,
    find,
    images,
    operator_config,
    pod_specs,
    scenario_values,
)
from helpers import EXAMPLES, OWN_CRDS, ROOT, helm_python, validate_manifest

helm = helm_python()  # fails, naming `make install`, where it is not installed

PUBLIC_REGISTRIES = (
    "docker.io",
    "nvcr.io",
    "quay.io",
    "gcr.io",
    "ghcr.io",
    "registry.k8s.io",
    "public.ecr.aws",
    "mcr.microsoft.com",
)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_lint_is_clean(scenario: str) -> None:
    """`helm lint --strict` with each scenario: no errors and no warnings (info is fine)."""
    report = helm.lint(CHART, values=scenario_values(scenario), strict=True, kube_version="v1.30.0")
    problems = [m for m in report["messages"] if m["severity"] >= 2]
    assert not problems and not report["errors"], problems or report["errors"]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_every_object_is_valid(scenario: str, scenarios: dict[str, Docs]) -> None:
    """Each rendered object against its schema; cert-manager objects (no CRD at hand)
    structurally."""
    docs = scenarios[scenario]
    assert docs, "nothing rendered"
    for obj in docs:
        if obj["apiVersion"] == CERT_MANAGER:
            check_cert_manager(obj)
            continue
        validate_manifest(obj)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_standard_labels_everywhere(scenario: str, scenarios: dict[str, Docs]) -> None:
    for obj in scenarios[scenario]:
        labels = obj["metadata"].get("labels", {})
        missing = {
            "app.kubernetes.io/instance",
            "app.kubernetes.io/part-of",
            "helm.sh/chart",
        } - set(labels)
        assert not missing, f"{obj['kind']}/{obj['metadata']['name']} lacks {missing}"


def test_crds_identical_to_manifests() -> None:
    """charts/modelplane/crds is a copy of manifests/crds; `make chart-sync` refreshes it."""
    chart_crds = CHART / "crds"
    names = sorted(p.name for p in OWN_CRDS.glob("*.yaml"))
    assert names == sorted(p.name for p in chart_crds.glob("*.yaml")), "run `make chart-sync`"
    for name in names:
        assert filecmp.cmp(OWN_CRDS / name, chart_crds / name, shallow=False), (
            f"{name}: run `make chart-sync`"
        )


def test_examples_identical_to_manifests() -> None:
    """files/examples is a copy of manifests/examples (same manifests as `modelplane serve`)."""
    names = sorted(p.name for p in EXAMPLES.glob("*.yaml"))
    copies = CHART / "files" / "examples"
    assert names == sorted(p.name for p in copies.glob("*.yaml")), "run `make chart-sync`"
    for name in names:
        assert filecmp.cmp(EXAMPLES / name, copies / name, shallow=False), (
            f"{name}: run `make chart-sync`"
        )


def test_examples_rendered_into_their_namespace(scenarios: dict[str, Docs]) -> None:
    docs = scenarios["02-airgapped"]
    examples = [d for d in docs if d["apiVersion"].startswith("modelplane.io/")]
    from helpers import load_examples

    assert sorted(d["metadata"]["name"] for d in examples) == sorted(
        d["metadata"]["name"] for d in load_examples()
    )
    assert {d["metadata"]["namespace"] for d in examples} == {"claims"}


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_pod_security(scenario: str, scenarios: dict[str, Docs]) -> None:
    """Restricted Pod Security Standard on every container, with requests and limits."""
    specs = pod_specs(scenarios[scenario])
    assert specs
    for owner, spec in specs:
        for container in spec.get("initContainers", []) + spec["containers"]:
            ctx = container.get("securityContext", {})
            where = f"{owner} container {container['name']}"
            assert ctx.get("runAsNonRoot") is True, where
            assert ctx.get("readOnlyRootFilesystem") is True, where
            assert ctx.get("allowPrivilegeEscalation") is False, where
            assert ctx.get("capabilities", {}).get("drop") == ["ALL"], where
            assert ctx.get("seccompProfile", {}).get("type") == "RuntimeDefault", where
            resources = container.get("resources", {})
            assert {"cpu", "memory"} <= set(resources.get("requests", {})), where
            assert {"cpu", "memory"} <= set(resources.get("limits", {})), where


def test_templates_hard_code_no_public_registry() -> None:
    """Registries live in values.yaml only, where global.imageRegistry replaces them."""
    for path in (CHART / "templates").rglob("*"):
        if path.is_file():
            text = path.read_text()
            for registry in PUBLIC_REGISTRIES:
                assert registry not in text, f"{path.relative_to(CHART)} names {registry}"


def test_airgapped_every_image_from_the_mirror(scenarios: dict[str, Docs]) -> None:
    """With global.imageRegistry set, every image (operator, runtimes, and those the operator
    renders later, handed over by env) is under it and pinned by digest."""
    values = scenario_values("02-airgapped")
    registry = values["global"]["imageRegistry"]
    found = [image for obj in scenarios["02-airgapped"] for image in images(obj)]
    assert len(found) >= 7, found  # operator, test pod, triton, python, 3 env images
    for image in found:
        assert image.startswith(registry + "/"), image
        assert re.search(r"@sha256:[0-9a-f]{64}$", image), image


def test_operator_config_from_rendered_env(scenarios: dict[str, Docs]) -> None:
    """The operator parses the env the chart sets, and resolves every image under the mirror."""
    values = scenario_values("02-airgapped")
    config = operator_config(scenarios["02-airgapped"])
    registry = values["global"]["imageRegistry"]
    for ref in (
        config.inference_image,
        config.engine_builder_image,
        config.storage_initializer_image,
    ):
        assert config.image(ref).startswith(registry + "/"), ref
    assert config.image("models/quality-gate:1").startswith(registry + "/")  # oci:// modelcars
    assert [s["name"] for s in config.pull_secrets] == [
        "mirror-credentials",
        "mirror-credentials-backup",
    ]
    runtimes = {
        r["metadata"]["name"] for r in find(scenarios["02-airgapped"], "ClusterServingRuntime")
    }
    assert {config.triton_runtime, config.python_runtime} == runtimes


def test_default_images_follow_app_version(scenarios: dict[str, Docs]) -> None:
    config = operator_config(scenarios["01-defaults"])
    assert config.inference_image == "modelplane/inference:0.1.0"
    assert config.storage_initializer_image == "docker.io/kserve/storage-initializer:v0.21.0"


def test_pull_secrets_on_every_pod(scenarios: dict[str, Docs]) -> None:
    for owner, spec in pod_specs(scenarios["02-airgapped"]):
        names = [s["name"] for s in spec.get("imagePullSecrets", [])]
        assert names == ["mirror-credentials", "mirror-credentials-backup"], owner


def test_operator_elects_a_leader(scenarios: dict[str, Docs]) -> None:
    """Every replica runs with --leader-elect (a Lease, not kopf peering), so a RollingUpdate
    never runs two reconcilers; the Lease identity and namespace come from the downward API."""
    for scenario in ("01-defaults", "05-namespaced-ha"):
        (deployment,) = [
            d
            for d in find(scenarios[scenario], "Deployment")
            if d["metadata"]["labels"]["app.kubernetes.io/component"] == "operator"
        ]
        assert deployment["spec"]["replicas"] == 2
        assert deployment["spec"]["strategy"]["type"] == "RollingUpdate"
        assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        args = container["args"]
        assert "--leader-elect" in args and "--leader-election-id=modelplane" in args
        assert not any(a.startswith("--peering") for a in args)
        env = {e["name"]: e.get("valueFrom") for e in container["env"]}
        assert env["POD_NAME"] == {"fieldRef": {"fieldPath": "metadata.name"}}
        assert env["POD_NAMESPACE"] == {"fieldRef": {"fieldPath": "metadata.namespace"}}
        assert not [d for d in scenarios[scenario] if d["apiVersion"].startswith("kopf.dev/")]
    args = find(scenarios["05-namespaced-ha"], "Deployment", "modelplane")[0]["spec"]["template"][
        "spec"
    ]["containers"][0]["args"]
    assert {"--namespace=claims", "--namespace=documents"} <= set(args)


def test_operator_probes_and_ports(scenarios: dict[str, Docs]) -> None:
    (deployment,) = find(scenarios["01-defaults"], "Deployment")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "health"}
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"health": 8080, "metrics": 9090}
    assert "--health-port=8080" in container["args"] and "--metrics-port=9090" in container["args"]


def test_triton_runtime_matches_operator(scenarios: dict[str, Docs]) -> None:
    """What the operator's InferenceServices select: formats, protocols, ports, probes."""
    from modelplane_operator.render_monitoring import TRITON_METRICS_PORT
    from modelplane_operator.render_serving import KSERVE_FORMATS, MODEL_ROOT

    runtimes = {
        r["metadata"]["name"]: r["spec"]
        for r in find(scenarios["01-defaults"], "ClusterServingRuntime")
    }
    triton, python = runtimes["modelplane-triton"], runtimes["modelplane-python"]
    formats = {f["name"] for f in triton["supportedModelFormats"]}
    assert {KSERVE_FORMATS[f] for f in ("onnx", "tensorrt", "torchscript")} <= formats
    assert {"v2", "grpc-v2"} <= set(triton["protocolVersions"])
    args = triton["containers"][0]["args"]
    assert args[0] == "tritonserver" and f"--model-store={MODEL_ROOT}" in args
    assert f"--metrics-port={TRITON_METRICS_PORT}" in args
    assert triton["containers"][0]["livenessProbe"]["httpGet"]["path"] == "/v2/health/live"
    assert triton["containers"][0]["readinessProbe"]["httpGet"]["path"] == "/v2/health/ready"
    assert KSERVE_FORMATS["python"] in {f["name"] for f in python["supportedModelFormats"]}
    assert python["containers"][0]["command"] == ["modelplane-stage"]


def test_mig_scenario_schedules_triton_on_gpu_nodes(scenarios: dict[str, Docs]) -> None:
    (triton,) = find(scenarios["03-gpu-mig"], "ClusterServingRuntime", "modelplane-triton")
    assert triton["spec"]["nodeSelector"] == {"nvidia.com/mig.config": "all-1g.10gb"}
    assert triton["spec"]["tolerations"][0]["key"] == "nvidia.com/gpu"
    assert "--cuda-memory-pool-byte-size=0:268435456" in triton["spec"]["containers"][0]["args"]


def test_monitoring_off_renders_no_monitoring(scenarios: dict[str, Docs]) -> None:
    docs = scenarios["04-monitoring-off"]
    assert not [d for d in docs if d["apiVersion"].startswith("monitoring.coreos.com/")]
    assert not [
        d for d in find(docs, "ConfigMap") if "grafana_dashboard" in d["metadata"]["labels"]
    ]
    assert [d for d in scenarios["01-defaults"] if d["kind"] == "PrometheusRule"]


def test_dashboard_configmap_for_grafana_sidecar(scenarios: dict[str, Docs]) -> None:
    (configmap,) = [
        d
        for d in find(scenarios["01-defaults"], "ConfigMap")
        if d["metadata"]["labels"].get("grafana_dashboard") == "1"
    ]
    dashboard = json.loads(configmap["data"]["modelplane-overview.json"])
    assert dashboard["uid"] == "modelplane-overview" and len(dashboard["panels"]) >= 8


def test_networkpolicy_limits_ingress_to_operator_ports(scenarios: dict[str, Docs]) -> None:
    (policy,) = find(scenarios["02-airgapped"], "NetworkPolicy")
    ports = {p["port"] for rule in policy["spec"]["ingress"] for p in rule["ports"]}
    assert ports == {8080, 9090}
    assert set(policy["spec"]["policyTypes"]) == {"Ingress", "Egress"}
    assert not find(scenarios["01-defaults"], "NetworkPolicy")


def test_helm_test_pod_checks_health(scenarios: dict[str, Docs]) -> None:
    (pod,) = find(scenarios["01-defaults"], "Pod")
    assert pod["metadata"]["annotations"]["helm.sh/hook"] == "test"
    script = pod["spec"]["containers"][0]["command"][-1]
    assert 'base = "http://modelplane.modelplane-system.svc"' in script
    assert ':8080/healthz"' in script and ':9090/metrics"' in script


def test_fullname_truncated_to_63(render: Callable[..., Docs]) -> None:
    docs = render(scenario_values("02-airgapped"), name="r" * 53)
    for obj in docs:
        assert len(obj["metadata"]["name"]) <= 63, obj["metadata"]["name"]


@pytest.mark.parametrize(
    ("values", "complaint"),
    [
        ({"operator": {"replicaCount": "two"}}, "/operator/replicaCount"),
        ({"operator": {"image": {"pullPolicy": "Sometimes"}}}, "/operator/image/pullPolicy"),
        ({"images": {"triton": {"digest": "latest"}}}, "/images/triton/digest"),
        ({"monitoring": {"enabled": "yes"}}, "/monitoring/enabled"),
        ({"monitoring": {"rules": {"errorRatio": 5}}}, "/monitoring/rules/errorRatio"),
        (
            {"operator": {"resources": {"limits": {"memory": "lots"}}}},
            "/operator/resources/limits/memory",
        ),
        ({"global": {"imagePullSecrets": "mirror"}}, "/global/imagePullSecrets"),
        ({"networkPolicy": {"apiServerPorts": [70000]}}, "/networkPolicy/apiServerPorts/0"),
        ({"operatr": {}}, "operatr"),
        ({"operator": {"watch": {"namespaces": ["claims-*"]}}}, "/operator/watch/namespaces/0"),
    ],
)
def test_schema_rejects_wrong_values(
    values: dict[str, Any], complaint: str, render_raw: Callable[..., dict[str, str]]
) -> None:
    with pytest.raises(helm.HelmValuesError, match=re.escape(complaint)):
        render_raw(values)


def test_every_value_is_documented() -> None:
    """bitnami style: each leaf of values.yaml has a `## @param <path>` line."""
    import yaml

    text = (CHART / "values.yaml").read_text()
    documented = set(re.findall(r"## @param (\S+)", text))

    def leaves(value: Any, prefix: str) -> list[str]:
        if isinstance(value, dict) and value:
            return [leaf for k, v in value.items() for leaf in leaves(v, f"{prefix}{k}.")]
        return [prefix.rstrip(".")]

    missing = [
        leaf
        for leaf in leaves(yaml.safe_load(text), "")
        if not any(leaf == d or leaf.startswith(d + ".") for d in documented)
    ]
    assert not missing, missing


def test_notes_name_endpoints(render_raw: Callable[..., dict[str, str]]) -> None:
    notes = render_raw(scenario_values("02-airgapped"))["modelplane/templates/NOTES.txt"]
    assert f"modelplane.{NAMESPACE}.svc:8080/healthz" in notes
    assert "registry.claims.local:5000/mirror" in notes


def test_package_round_trip(tmp_path: Path) -> None:
    """`helm package` output loads and renders like the source tree (what `bundle` ships)."""
    archive = helm.package(CHART, destination=tmp_path)
    version = yaml.safe_load((CHART / "Chart.yaml").read_text())["version"]
    assert Path(archive).name == f"modelplane-{version}.tgz"
    with helm.Chart.load(archive) as packaged:
        shipped = sorted(Path(c["filename"]).name for c in packaged.crds)
        assert shipped == sorted(p.name for p in OWN_CRDS.glob("*.yaml"))
        rendered = packaged.render(values={}, name="modelplane", namespace=NAMESPACE)
    assert "modelplane/templates/deployment.yaml" in rendered
    assert ROOT.is_dir()


def test_operator_gets_gpu_and_namespace_settings(render: Callable[..., Docs]) -> None:
    """What the operator reads from its env: MIG strategy, time-slicing, TensorRT version, and
    pull secrets per serving namespace, as the values set them."""
    docs = render(
        {
            "gpu": {"migStrategy": "single", "timeSlicing": True, "tensorrtVersion": "10.9.0.34"},
            "operator": {"servingNamespacePullSecrets": {"claims": ["claims-registry"]}},
        }
    )
    config = operator_config(docs)
    assert (config.mig_strategy, config.gpu_time_slicing) == ("single", "true")
    assert config.tensorrt_version == "10.9.0.34"
    assert {"name": "claims-registry"} in config.pull_secrets_for("claims")
    assert {"name": "claims-registry"} not in config.pull_secrets_for("documents")


@pytest.mark.parametrize(
    "gpu",
    [
        {"migStrategy": "none", "resourceName": "nvidia.com/gpu.shared"},
        {"migStrategy": "single"},
        {"migStrategy": "mixed", "resourceName": "nvidia.com/mig-1g.10gb"},
    ],
)
def test_schema_accepts_each_gpu_sharing_mode(
    gpu: dict[str, Any], render: Callable[..., Docs]
) -> None:
    assert operator_config(render({"gpu": gpu})).mig_strategy == gpu["migStrategy"]
