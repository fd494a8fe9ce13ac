"""The validating admission webhook as the chart renders it, checked against the operator's code.

The operator serves its kopf handlers under their ids (``modelplane_operator.admission``) on
``--admission-port``; it does not manage the ValidatingWebhookConfiguration, the chart does. So
the paths, ports, certificate files and watched namespaces the chart writes must be the ones the
operator reads: each is compared with the operator's constants or its own argument parser.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from typing import Any

import pytest
from chartkit import (
    CERT_MANAGER,
    CHART,
    NAMESPACE,
    SCENARIOS,
    Docs,
    check_cert_manager,
    find,
    scenario_values,
)
from helpers import helm_python, validate_manifest
from modelplane_operator import GROUP, VERSION
from modelplane_operator.admission import DEPLOYMENT_WEBHOOK, PIPELINE_WEBHOOK

helm = helm_python()  # fails, naming `make install`, where it is not installed

CERT_MANAGER_SCENARIO = "06-admission"
CA_PEM = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUfake\n-----END CERTIFICATE-----\n"
# existingSecret mode, namespace-scoped, with the selector hooks and a narrowed NetworkPolicy.
EXISTING_SECRET: dict[str, Any] = {
    "operator": {"watch": {"clusterWide": False, "namespaces": ["claims", "documents"]}},
    "admission": {
        "enabled": True,
        "existingSecret": "modelplane-webhook-tls",
        "caBundle": CA_PEM,
        "failurePolicy": "Ignore",
        "namespaceSelector": {"matchLabels": {"modelplane.io/admission": "on"}},
        "objectSelector": {
            "matchExpressions": [
                {"key": "modelplane.io/skip-admission", "operator": "DoesNotExist"}
            ]
        },
    },
    "networkPolicy": {"enabled": True, "admissionFrom": [{"ipBlock": {"cidr": "10.0.0.0/24"}}]},
}
WEBHOOKS = {"modeldeployments": DEPLOYMENT_WEBHOOK, "modelpipelines": PIPELINE_WEBHOOK}


@pytest.fixture(scope="module")
def existing_secret(render: Callable[..., Docs]) -> Docs:
    """The existingSecret mode rendered once (cert-manager mode is the ci/ scenario)."""
    return render(EXISTING_SECRET)


def _deployment(docs: Docs, component: str = "webhook") -> dict[str, Any]:
    (deployment,) = [
        d
        for d in find(docs, "Deployment")
        if d["metadata"]["labels"]["app.kubernetes.io/component"] == component
    ]
    return deployment


def _operator(docs: Docs, component: str = "webhook") -> tuple[dict[str, Any], dict[str, Any]]:
    """(pod spec, container) of the Deployment serving the webhook: its own (every replica
    answers), not the operator's (only the Lease holder runs kopf)."""
    deployment = _deployment(docs, component)
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    return pod, container


def _webhook_service(docs: Docs) -> dict[str, Any]:
    (configuration,) = find(docs, "ValidatingWebhookConfiguration")
    (service_name,) = {w["clientConfig"]["service"]["name"] for w in configuration["webhooks"]}
    (service,) = find(docs, "Service", service_name)
    return service


def _admission_objects(docs: Docs) -> Docs:
    return [
        d
        for d in docs
        if d["kind"] == "ValidatingWebhookConfiguration"
        or d["apiVersion"] == CERT_MANAGER
        or d["metadata"].get("labels", {}).get("app.kubernetes.io/component") == "admission"
    ]


@pytest.mark.parametrize(
    "scenario", [s for s in SCENARIOS if not scenario_values(s).get("admission", {}).get("enabled")]
)
def test_off_by_default(scenario: str, scenarios: dict[str, Docs]) -> None:
    """Without admission.enabled: no webhook objects, no admission flags, no extra port."""
    docs = scenarios[scenario]
    assert not _admission_objects(docs)
    assert not [d for d in find(docs, "Deployment") if "webhook" in d["metadata"]["name"]]
    pod, container = _operator(docs, "operator")
    assert not [a for a in container["args"] if a.startswith("--admission")]
    assert "admission" not in {p["name"] for p in container["ports"]}
    assert [v["name"] for v in pod["volumes"]] == ["tmp"]


def test_scenario_exists() -> None:
    assert CERT_MANAGER_SCENARIO in SCENARIOS
    assert "01-defaults" in SCENARIOS  # the default render is among the "off" cases above


@pytest.mark.parametrize("mode", ["cert-manager", "existing-secret"])
def test_every_admission_object_is_valid(
    mode: str, scenarios: dict[str, Docs], existing_secret: Docs
) -> None:
    """Kubernetes' own schemas for everything but cert-manager's kinds (checked structurally)."""
    docs = scenarios[CERT_MANAGER_SCENARIO] if mode == "cert-manager" else existing_secret
    kinds = {d["kind"] for d in _admission_objects(docs)}
    expected = {"ValidatingWebhookConfiguration", "Service"}
    assert kinds == (expected | {"Issuer", "Certificate"} if mode == "cert-manager" else expected)
    for obj in docs:
        if obj["apiVersion"] == CERT_MANAGER:
            check_cert_manager(obj)
        else:
            validate_manifest(obj)


@pytest.mark.parametrize("mode", ["cert-manager", "existing-secret"])
def test_webhooks_point_at_the_operator_handlers(
    mode: str, scenarios: dict[str, Docs], existing_secret: Docs
) -> None:
    """One webhook per CR kind, CREATE/UPDATE, at the path kopf serves that kind's handler."""
    docs = scenarios[CERT_MANAGER_SCENARIO] if mode == "cert-manager" else existing_secret
    (configuration,) = find(docs, "ValidatingWebhookConfiguration")
    service = _webhook_service(docs)
    webhooks = configuration["webhooks"]
    assert len(webhooks) == len(WEBHOOKS)
    for webhook in webhooks:
        (rule,) = webhook["rules"]
        (resource,) = rule["resources"]
        assert rule["apiGroups"] == [GROUP] and rule["apiVersions"] == [VERSION]
        assert sorted(rule["operations"]) == ["CREATE", "UPDATE"]
        ref = webhook["clientConfig"]["service"]
        assert ref["path"] == "/" + WEBHOOKS[resource]
        assert ref["namespace"] == NAMESPACE == service["metadata"]["namespace"]
        assert ref["port"] in {p["port"] for p in service["spec"]["ports"]}
        assert webhook["sideEffects"] == "None"
        assert webhook["admissionReviewVersions"] == ["v1"]
        assert webhook["timeoutSeconds"] == (10 if mode == "cert-manager" else 5)
        assert webhook["failurePolicy"] == ("Fail" if mode == "cert-manager" else "Ignore")
        # Metadata-only updates (kopf's annotations and finalizers) skip the webhook.
        (condition,) = webhook["matchConditions"]
        assert "object.spec != oldObject.spec" in condition["expression"]
    assert {w["rules"][0]["resources"][0] for w in webhooks} == set(WEBHOOKS)


@pytest.mark.parametrize("mode", ["cert-manager", "existing-secret"])
def test_operator_serves_what_the_service_targets(
    mode: str, scenarios: dict[str, Docs], existing_secret: Docs
) -> None:
    """The operator's own parser reads the rendered args: its --admission-port is the port the
    Service targets, its cert and key are the TLS Secret's files where that Secret is mounted."""
    from modelplane_operator.cli import parse_args

    docs = scenarios[CERT_MANAGER_SCENARIO] if mode == "cert-manager" else existing_secret
    pod, container = _operator(docs)
    args = parse_args(container["args"])
    service = _webhook_service(docs)
    (port,) = service["spec"]["ports"]
    container_ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert container_ports[port["targetPort"]] == args.admission_port == 9443
    assert service["spec"]["selector"].items() <= pod_labels(docs).items()
    assert not args.admission_insecure
    (mount,) = [m for m in container["volumeMounts"] if m["name"] == "admission-tls"]
    assert mount["readOnly"] is True
    assert args.admission_cert == f"{mount['mountPath']}/tls.crt"
    assert args.admission_key == f"{mount['mountPath']}/tls.key"
    (volume,) = [v for v in pod["volumes"] if v["name"] == "admission-tls"]
    secret = volume["secret"]["secretName"]
    if mode == "cert-manager":
        (certificate,) = find(docs, "Certificate")
        assert secret == certificate["spec"]["secretName"]
    else:
        assert secret == "modelplane-webhook-tls"


def pod_labels(docs: Docs) -> dict[str, str]:
    deployment = _deployment(docs)
    labels: dict[str, str] = deployment["spec"]["template"]["metadata"]["labels"]
    return labels


def test_cert_manager_issues_for_the_service(scenarios: dict[str, Docs]) -> None:
    """A self-signed Issuer, a Certificate for the Service's DNS name, and cainjector told
    which Certificate's CA goes into the webhooks."""
    docs = scenarios[CERT_MANAGER_SCENARIO]
    (issuer,) = find(docs, "Issuer")
    (certificate,) = find(docs, "Certificate")
    (configuration,) = find(docs, "ValidatingWebhookConfiguration")
    service = _webhook_service(docs)
    name = service["metadata"]["name"]
    assert issuer["spec"] == {"selfSigned": {}}
    assert certificate["spec"]["issuerRef"]["name"] == issuer["metadata"]["name"]
    assert certificate["spec"]["issuerRef"]["kind"] == "Issuer"
    assert f"{name}.{NAMESPACE}.svc" in certificate["spec"]["dnsNames"]
    assert {issuer["metadata"]["namespace"], certificate["metadata"]["namespace"]} == {NAMESPACE}
    annotation = configuration["metadata"]["annotations"]["cert-manager.io/inject-ca-from"]
    assert annotation == f"{NAMESPACE}/{certificate['metadata']['name']}"
    assert not [w for w in configuration["webhooks"] if "caBundle" in w["clientConfig"]]


def test_existing_secret_carries_the_ca(existing_secret: Docs, render: Callable[..., Docs]) -> None:
    """The user's CA goes into every webhook, base64 of the PEM whether given as PEM or base64."""
    (configuration,) = find(existing_secret, "ValidatingWebhookConfiguration")
    assert "annotations" not in configuration["metadata"]
    encoded = base64.b64encode(CA_PEM.encode()).decode()
    assert {w["clientConfig"]["caBundle"] for w in configuration["webhooks"]} == {encoded}
    values = {**EXISTING_SECRET, "admission": {**EXISTING_SECRET["admission"], "caBundle": encoded}}
    (again,) = find(render(values), "ValidatingWebhookConfiguration")
    assert {w["clientConfig"]["caBundle"] for w in again["webhooks"]} == {encoded}


def test_selectors_follow_the_watched_namespaces(
    existing_secret: Docs, scenarios: dict[str, Docs]
) -> None:
    """Namespace-scoped: only the watched namespaces (and the user's selector); cluster-wide:
    no namespace selector unless the user gives one."""
    (configuration,) = find(existing_secret, "ValidatingWebhookConfiguration")
    for webhook in configuration["webhooks"]:
        assert webhook["namespaceSelector"] == {
            "matchLabels": {"modelplane.io/admission": "on"},
            "matchExpressions": [
                {
                    "key": "kubernetes.io/metadata.name",
                    "operator": "In",
                    "values": ["claims", "documents"],
                }
            ],
        }
        assert webhook["objectSelector"] == EXISTING_SECRET["admission"]["objectSelector"]
    (cluster_wide,) = find(scenarios[CERT_MANAGER_SCENARIO], "ValidatingWebhookConfiguration")
    for webhook in cluster_wide["webhooks"]:
        assert "namespaceSelector" not in webhook and "objectSelector" not in webhook


def test_networkpolicy_admits_the_api_server(
    scenarios: dict[str, Docs], existing_secret: Docs
) -> None:
    """The webhook port is open to any source by default (the API server's address is not
    portable), to the given peers when networkPolicy.admissionFrom is set."""
    for docs, peers in (
        (scenarios[CERT_MANAGER_SCENARIO], None),
        (existing_secret, EXISTING_SECRET["networkPolicy"]["admissionFrom"]),
    ):
        (policy,) = find(docs, "NetworkPolicy")
        _, container = _operator(docs)
        port = {p["name"]: p["containerPort"] for p in container["ports"]}["admission"]
        (rule,) = [
            r for r in policy["spec"]["ingress"] if {"port": port, "protocol": "TCP"} in r["ports"]
        ]
        assert rule["ports"] == [{"port": port, "protocol": "TCP"}]
        assert rule.get("from") == peers
        metrics_rules = [r for r in policy["spec"]["ingress"] if r is not rule]
        assert all(port not in {p["port"] for p in r["ports"]} for r in metrics_rules)


def test_no_new_rbac(scenarios: dict[str, Docs]) -> None:
    """The operator does not manage the webhook configuration: admission changes no grant."""
    for kind in ("ClusterRole", "Role"):
        off = [r["rules"] for r in find(scenarios["01-defaults"], kind)]
        on = [r["rules"] for r in find(scenarios[CERT_MANAGER_SCENARIO], kind)]
        assert on == off, kind


def test_names_fit_with_a_long_release(render: Callable[..., Docs]) -> None:
    docs = render(scenario_values(CERT_MANAGER_SCENARIO), name="r" * 60)
    service = _webhook_service(docs)
    assert len(service["metadata"]["name"]) <= 63
    assert re.fullmatch(r"[a-z]([-a-z0-9]*[a-z0-9])?", service["metadata"]["name"])
    (certificate,) = find(docs, "Certificate")
    assert f"{service['metadata']['name']}.{NAMESPACE}.svc" in certificate["spec"]["dnsNames"]
    for obj in docs:
        assert len(obj["metadata"]["name"]) <= 63, obj["metadata"]["name"]


@pytest.mark.parametrize(
    ("admission", "complaint"),
    [
        ({}, "admission.enabled=true needs a certificate"),
        ({"existingSecret": "tls"}, "admission.existingSecret needs admission.caBundle"),
        (
            {"existingSecret": "tls", "caBundle": CA_PEM, "certManager": {"enabled": True}},
            "set either admission.certManager.enabled or admission.existingSecret",
        ),
    ],
)
def test_enabled_without_a_certificate_fails(
    admission: dict[str, Any], complaint: str, render_raw: Callable[..., dict[str, str]]
) -> None:
    """Turning admission on without cert handling would block every CR write: refuse to render."""
    with pytest.raises(helm.HelmRenderError, match=re.escape(complaint)):
        render_raw({"admission": {"enabled": True, **admission}})


@pytest.mark.parametrize(
    ("admission", "complaint"),
    [
        ({"failurePolicy": "Sometimes"}, "/admission/failurePolicy"),
        ({"timeoutSeconds": 31}, "/admission/timeoutSeconds"),
        ({"port": 443}, "/admission/port"),
        ({"namespaceSelector": {"matchLabel": {}}}, "/admission/namespaceSelector"),
        ({"certManager": {"duration": "1 year"}}, "/admission/certManager/duration"),
    ],
)
def test_schema_rejects_wrong_admission_values(
    admission: dict[str, Any], complaint: str, render_raw: Callable[..., dict[str, str]]
) -> None:
    with pytest.raises(helm.HelmValuesError, match=re.escape(complaint)):
        render_raw({"admission": admission})


def test_lint_existing_secret_mode() -> None:
    """The ci/ scenario (cert-manager) is linted with the others; the other mode here."""
    report = helm.lint(CHART, values=EXISTING_SECRET, strict=True, kube_version="v1.30.0")
    problems = [m for m in report["messages"] if m["severity"] >= 2]
    assert not problems and not report["errors"], problems or report["errors"]


def test_webhook_stays_up_during_operator_rollouts(scenarios: dict[str, Docs]) -> None:
    """The webhook runs in its own Deployment (every replica answers, no Lease): two replicas,
    a RollingUpdate that never drops below them, readiness on the TLS port, and a PDB; the
    operator Deployment serves no admission at all."""
    docs = scenarios[CERT_MANAGER_SCENARIO]
    webhook = _deployment(docs)
    assert webhook["spec"]["replicas"] == 2
    assert webhook["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    container = webhook["spec"]["template"]["spec"]["containers"][0]
    assert "--webhook-only" in container["args"] and "--leader-elect" not in container["args"]
    assert container["readinessProbe"]["tcpSocket"]["port"] == "admission"
    (pdb,) = [
        p for p in find(docs, "PodDisruptionBudget") if p["metadata"]["name"].endswith("-webhook")
    ]
    assert pdb["spec"]["minAvailable"] == 1
    assert pdb["spec"]["selector"]["matchLabels"].items() <= pod_labels(docs).items()
    _, operator = _operator(docs, "operator")
    assert not [a for a in operator["args"] if a.startswith("--admission")]
