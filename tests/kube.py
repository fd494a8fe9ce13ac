"""Running the real operator against kmock's Kubernetes emulator on loopback (test tier 2).

kopf's ``KopfTask`` (kopf's examples/09-testing-kmock) is not in a released kopf yet, so
``running_operator`` does the same: ``kopf.operator()`` as a task in the test's event loop,
stopped through its stop flag.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import itertools
import json
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import aiohttp.web
import kmock
import kopf
import modelplane_operator.admission
import modelplane_operator.handlers
from helpers import NAMESPACE
from typing_extensions import override

NAMESPACED = {
    # resource -> (kind, has status subresource)
    "modelplane.io/v1alpha1/modeldeployments": ("ModelDeployment", True),
    "modelplane.io/v1alpha1/modelpipelines": ("ModelPipeline", True),
    "serving.kserve.io/v1beta1/inferenceservices": ("InferenceService", True),
    "serving.kserve.io/v1alpha1/inferencegraphs": ("InferenceGraph", True),
    "batch/v1/jobs": ("Job", True),
    "v1/configmaps": ("ConfigMap", False),
    "v1/services": ("Service", True),
    "v1/events": ("Event", False),
    "policy/v1/poddisruptionbudgets": ("PodDisruptionBudget", True),
    "v1/pods": ("Pod", True),  # KServe's transformer pods: the operator reads their OOM kills
}
MONITORING = {
    "monitoring.coreos.com/v1/servicemonitors": "ServiceMonitor",
    "monitoring.coreos.com/v1/prometheusrules": "PrometheusRule",
}
MD = "modelplane.io/v1alpha1/modeldeployments"
MP = "modelplane.io/v1alpha1/modelpipelines"
ISVC = "serving.kserve.io/v1beta1/inferenceservices"
IG = "serving.kserve.io/v1alpha1/inferencegraphs"
JOB = "batch/v1/jobs"
# An InferenceService as KServe reports it once its predictor serves the model.
READY_ISVC = {
    "url": "http://gate.claims.example.com",
    "conditions": [
        {"type": "PredictorReady", "status": "True"},
        {"type": "Ready", "status": "True"},
    ],
    "modelStatus": {
        "states": {"activeModelState": "Loaded", "targetModelState": "Loaded"},
        "transitionStatus": "UpToDate",
    },
    "components": {
        "predictor": {
            "latestCreatedRevision": "gate-predictor-1",
            "latestReadyRevision": "gate-predictor-1",
        }
    },
}
VERBS = {"list", "watch", "get", "create", "patch", "update", "delete"}


class ApiServer(kmock.KubernetesEmulator):
    """kmock plus the metadata a real API server assigns, which owner references and
    ``observedGeneration`` depend on: a name from ``generateName`` (kopf's Events), ``uid``,
    ``creationTimestamp``, ``resourceVersion``, and ``generation`` bumped when ``spec`` changes."""

    _versions = itertools.count(1)

    @override
    async def _handle(self, request: kmock.Request) -> aiohttp.web.StreamResponse:
        data = request.data
        if request.resource is not None and isinstance(data, dict):
            if request.action == kmock.action.CREATE:
                meta = data.setdefault("metadata", {})
                if not meta.get("name") and meta.get("generateName"):
                    meta["name"] = f"{meta['generateName']}{uuid.uuid4().hex[:5]}"
                meta.setdefault("uid", str(uuid.uuid4()))
                meta.setdefault(
                    "creationTimestamp", datetime.datetime.now(datetime.UTC).isoformat()
                )
                meta["generation"] = 1
                meta["resourceVersion"] = str(next(self._versions))
            elif request.action == kmock.action.UPDATE and request.name:
                self._bump_versions(request, data)
        return await super()._handle(request)

    def _bump_versions(self, request: kmock.Request, patch: dict[str, Any]) -> None:
        key = (request.resource, request.namespace, request.name)
        if key not in self.objects or self.objects[key].deleted:
            return
        current = self.objects[key].raw
        meta = patch.setdefault("metadata", {})
        meta["resourceVersion"] = str(next(self._versions))
        new_spec = patch.get("spec")
        if (
            request.subresource is None
            and new_spec is not None
            and merge_patched(current.get("spec"), new_spec) != current.get("spec")
        ):
            meta["generation"] = current.get("metadata", {}).get("generation", 1) + 1


def merge_patched(base: Any, patch: Any) -> Any:
    """``patch`` applied to ``base`` as the API server applies a JSON merge patch (RFC 7386)."""
    if not isinstance(patch, dict) or not isinstance(base, dict):
        return patch
    out = dict(base)
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge_patched(base.get(key), value)
    return out


def stored(
    emulator: kmock.KubernetesEmulator, resource: str, name: str, namespace: str | None = NAMESPACE
) -> dict[str, Any] | None:
    """The object as the emulator stores it now, or None if absent or deleted."""
    try:
        obj = emulator.objects[resource, namespace, name]
    except KeyError:
        return None
    return None if obj.deleted else dict(obj.raw)


def stored_of(emulator: kmock.KubernetesEmulator, plural: str) -> list[dict[str, Any]]:
    """Every live object of one resource (by plural, e.g. "jobs"), in creation order."""
    return [
        dict(obj.raw)
        for (resource, _, _), obj in emulator.objects.items()
        if resource.plural == plural and not obj.deleted
    ]


def condition(status: dict[str, Any], kind: str) -> dict[str, Any]:
    """One condition of a status by type (KeyError if absent, so ``eventually`` keeps polling)."""
    for item in status.get("conditions", []):
        if item["type"] == kind:
            return dict(item)
    raise KeyError(kind)


def _path(
    manifest_or_resource: dict[str, Any] | str, name: str | None = None, namespace: str = NAMESPACE
) -> str:
    if isinstance(manifest_or_resource, dict):
        api_version = manifest_or_resource["apiVersion"]
        plural = manifest_or_resource["kind"].lower() + "s"
        prefix = f"/apis/{api_version}" if "/" in api_version else f"/api/{api_version}"
    else:
        *group_version, plural = manifest_or_resource.split("/")
        prefix = (
            f"/apis/{'/'.join(group_version)}"
            if len(group_version) == 2
            else f"/api/{group_version[0]}"
        )
    return f"{prefix}/namespaces/{namespace}/{plural}" + (f"/{name}" if name else "")


def write_kubeconfig(url: str, folder: Path, namespace: str | None = None) -> Path:
    """A kubeconfig in ``folder`` whose only context is the emulator at ``url`` (with
    ``namespace`` as the context's namespace, as ``kubectl config set-context --namespace``)."""
    path = folder / ("kubeconfig" if namespace is None else f"kubeconfig-{namespace}")
    context = "cluster: kmock, user: kmock" + (f", namespace: {namespace}" if namespace else "")
    path.write_text(f"""
apiVersion: v1
kind: Config
current-context: kmock
clusters: [{{name: kmock, cluster: {{server: "{url}"}}}}]
contexts: [{{name: kmock, context: {{{context}}}}}]
users: [{{name: kmock, user: {{token: test}}}}]
""")
    return path


async def call(
    emulator: kmock.KubernetesEmulator, method: str, path: str, body: dict[str, Any]
) -> dict[str, Any]:
    """One request as a client of the API server (kubectl, KServe), on its own connection.

    A fresh session each time: kmock's built-in client shares its pool with nothing else, but
    a pooled connection left over from an operator that was stopped mid-stream hangs it.
    """
    content_type = "application/merge-patch+json" if method == "PATCH" else "application/json"
    async with (
        aiohttp.ClientSession(str(emulator.url)) as session,
        session.request(
            method, path, data=json.dumps(body), headers={"Content-Type": content_type}
        ) as response,
    ):
        text = await response.text()
    assert response.status in {200, 201}, f"{method} {path}: {response.status} {text}"
    answer: dict[str, Any] = json.loads(text)
    return answer


async def delete(emulator: kmock.KubernetesEmulator, resource: str, name: str) -> None:
    """DELETE an object, as ``kubectl delete`` (or the garbage collector) does."""
    await call(emulator, "DELETE", _path(resource, name), {})


async def create(
    emulator: kmock.KubernetesEmulator, manifest: dict[str, Any], namespace: str = NAMESPACE
) -> None:
    """POST a manifest as ``kubectl create`` does (server-side fields stripped, namespace set)."""
    body = {
        **manifest,
        "metadata": {
            k: v for k, v in manifest["metadata"].items() if k in {"name", "labels", "annotations"}
        }
        | {"namespace": namespace},
    }
    await call(emulator, "POST", _path(manifest, namespace=namespace), body)


async def patch_spec(
    emulator: kmock.KubernetesEmulator, resource: str, name: str, spec: dict[str, Any]
) -> None:
    """Merge-patch an object's spec, as ``kubectl patch --type merge`` does."""
    await call(emulator, "PATCH", _path(resource, name), {"spec": spec})


async def patch_status(
    emulator: kmock.KubernetesEmulator, resource: str, name: str, status: dict[str, Any]
) -> None:
    """Play a controller's part (KServe, the Job controller): merge-patch a child's status."""
    await call(emulator, "PATCH", _path(resource, name) + "/status", {"status": status})


def declare_resources(emulator: kmock.KubernetesEmulator, monitoring: bool = True) -> None:
    """What kopf and the operator need the API server to serve (docs/architecture.md, tier 2)."""
    resources = emulator.resources
    resources["apiextensions.k8s.io/v1/customresourcedefinitions"] = kmock.ResourceInfo(
        kind="CustomResourceDefinition", verbs={"list", "watch", "get"}, namespaced=False
    )
    resources["v1/namespaces"] = kmock.ResourceInfo(
        kind="Namespace", verbs={"list", "watch", "get"}, namespaced=False
    )
    # GPU node classes (gpu-feature-discovery's labels): the operator lists and watches Nodes.
    resources["v1/nodes"] = kmock.ResourceInfo(
        kind="Node", verbs={"list", "watch", "get", "create", "patch"}, namespaced=False
    )
    for key, (kind, has_status) in NAMESPACED.items():
        resources[key] = kmock.ResourceInfo(
            kind=kind,
            verbs=VERBS,
            namespaced=True,
            subresources={"status"} if has_status else set(),
        )
    if monitoring:
        for key, kind in MONITORING.items():
            resources[key] = kmock.ResourceInfo(kind=kind, verbs=VERBS, namespaced=True)
    emulator.objects["v1/namespaces", None, NAMESPACE] = {"metadata": {"name": NAMESPACE}}


@contextlib.asynccontextmanager
async def running_operator(
    admission_port: int | None = None, memo: kopf.Memo | None = None
) -> AsyncIterator[None]:
    """The real operator (all handlers, real settings) in this loop, watching NAMESPACE.

    With ``admission_port`` it also serves the validating webhook over plain HTTP there; a
    ``memo`` given here is the operator's, so a test can look at its state afterwards.
    """
    stop = asyncio.Event()
    settings = kopf.OperatorSettings()
    # kmock 0.8 answers 500 to ``GET /api/v1/namespaces`` (its path parser expects a name after
    # "namespaces"), so watch the exact namespace without listing namespaces, as kopf does
    # when RBAC forbids that list.
    settings.scanning.disabled = True
    registry = kopf.get_default_registry()
    if admission_port is not None:  # the webhook alone, in a registry of its own
        registry = kopf.OperatorRegistry()
        kopf.on.login(registry=registry)(modelplane_operator.handlers.login)
        modelplane_operator.admission.register(registry)
        settings.admission.server = modelplane_operator.admission.webhook_server(
            admission_port, None, None, insecure=True
        )
    task = asyncio.create_task(
        kopf.operator(
            namespaces=[NAMESPACE],
            standalone=True,
            stop_flag=stop,
            memo=kopf.Memo() if memo is None else memo,
            settings=settings,
            registry=registry,
        )
    )
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=15)


async def eventually(check: Callable[[], Any], timeout: float = 15.0, what: str = "") -> Any:
    """Poll ``check`` until it returns a truthy value; fail with ``what`` after ``timeout``."""
    deadline = asyncio.get_running_loop().time() + timeout
    last_error: Exception | None = None
    while asyncio.get_running_loop().time() < deadline:
        try:
            result = check()
            if result:
                return result
        except (KeyError, AssertionError, TypeError) as err:
            last_error = err
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what or check}: {last_error!r}")


def first_requests(
    times: int, method: str, plural: str, subresource: str | None = None, watch: bool = False
) -> tuple[Callable[[kmock.Request], bool], list[int]]:
    """A kmock filter matching the first ``times`` requests of one kind, and their ids.

    The ids are remembered, so the filter keeps matching those same requests when a test later
    counts them, and never matches any other.
    """
    hit: list[int] = []

    def first_matching(request: kmock.Request) -> bool:
        if request.id in hit:
            return True
        matches = (
            request.method.value == method
            and request.resource is not None
            and request.resource.plural == plural
            and request.subresource == subresource
            and (request.params.get("watch") == "true") == watch
        )
        if matches and len(hit) < times:
            hit.append(request.id)
            return True
        return False

    return first_matching, hit


def inject(
    cluster: kmock.KubernetesEmulator,
    times: int,
    method: str,
    plural: str,
    code: int,
    reason: str,
    subresource: str | None = None,
    watch: bool = False,
    **headers: str,
) -> list[int]:
    """Answer the first ``times`` matching requests with a Kubernetes ``Status`` error.

    Later requests fall through to the emulator. Returns the ids of the requests that got the
    error, so a test can assert that every fault was actually served.
    """
    matching, hit = first_requests(times, method, plural, subresource, watch)
    status = {
        "kind": "Status",
        "apiVersion": "v1",
        "status": "Failure",
        "reason": reason,
        "code": code,
        "message": f"injected {code} {reason}",
    }
    reaction = cluster[matching] << code << status
    if headers:
        reaction << kmock.headers(headers)
    return hit


def admission_review(obj: dict[str, Any], plural: str) -> dict[str, Any]:
    """An admission.k8s.io/v1 AdmissionReview for creating ``obj``."""
    return {
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": str(uuid.uuid4()),
            "kind": {"group": "modelplane.io", "version": "v1alpha1", "kind": obj["kind"]},
            "resource": {"group": "modelplane.io", "version": "v1alpha1", "resource": plural},
            "operation": "CREATE",
            "userInfo": {"username": "claims-team"},
            "namespace": NAMESPACE,
            "name": obj["metadata"]["name"],
            "object": obj,
            "dryRun": False,
        },
    }
