"""kopf handlers: thin typed shims that route events to ``reconcile.py``.

Children are watched (label-selected) rather than polled: any change of an InferenceService,
engine Job or InferenceGraph re-reconciles its owner, which mirrors the child's status.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, cast

import kopf

from modelplane_operator import API_VERSION, GROUP, VERSION
from modelplane_operator.cluster import Cluster
from modelplane_operator.config import Config
from modelplane_operator.errors import APIError, APINotFoundError
from modelplane_operator.gpu_nodes import node_gpu_class, ordered_classes, unpinned_tensorrt
from modelplane_operator.metrics import RECONCILE_SECONDS, RECONCILES, PhaseBook
from modelplane_operator.naming import LABEL_DEPLOYMENT, LABEL_PIPELINE
from modelplane_operator.reconcile import (
    KeyedLocks,
    Observed,
    Outcome,
    reconcile_deployment,
    reconcile_pipeline,
)
from modelplane_operator.render_pipeline import referenced_deployments
from modelplane_operator.transformer_pods import COMPONENT_LABEL, ISVC_LABEL, oom_kill

log = logging.getLogger(__name__)
CHILD_RETRIES = (0.5, 1, 2, 4, 8)  # backoff for reconciles triggered by a child's event


@kopf.on.startup()
async def configure(settings: kopf.OperatorSettings, memo: kopf.Memo, **kwargs: Any) -> None:
    """Tune kopf once and open the API session the reconcilers share."""
    # Keep kopf's bookkeeping in our own annotation namespace instead of status.kopf.
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=GROUP)
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix=GROUP, key="last-handled-configuration"
    )
    settings.persistence.finalizer = f"{GROUP}/finalizer"  # only used if a delete handler appears
    # Events for people: INFO and up, named after the product, not the framework.
    settings.posting.level = logging.INFO
    settings.posting.reporting_component = "modelplane-operator"
    # Retry failed API calls (5xx, 429) quickly at first, honouring Retry-After.
    settings.networking.error_backoffs = (0.5, 1, 2, 5, 10)
    settings.networking.enforce_retry_after = True
    # Re-list after a dropped watch within a second, and never sit on a silent stream.
    settings.watching.reconnect_backoff = 1.0
    settings.watching.server_timeout = 300
    # A handler that failed with a temporary error is retried after this many seconds.
    settings.execution.default_backoff = 5
    # kopf holds a CR's create/update handlers until the watch brings back its own annotation
    # patch; after this long it gives up waiting and takes the event it has (our status patch,
    # without kopf's annotation) for a creation not yet handled. Its 5 s default expires under
    # a burst (1,000 CRs at once) and reconciles a tenth of them twice; waiting costs nothing.
    settings.persistence.consistency_timeout = 30
    memo.config = Config.from_env()
    memo.cluster = await Cluster.connect()
    memo.phases = PhaseBook()
    # One lock per CR: its handlers and its children's events reconcile it one at a time.
    memo.locks = KeyedLocks()
    # Per CR, the versions of its watched children that its stored status mirrors.
    memo.mirrored = {}
    # The Node index (live; filled before any handler runs) and the GPU classes last acted on.
    memo.gpu_nodes = kwargs["gpu_nodes"]
    # The OOM kills of transformer pods, by (namespace, InferenceService = ModelDeployment name).
    memo.transformer_kills = kwargs["transformer_kills"]
    memo.gpu_classes = []
    memo.pod_kills = {}  # (namespace, pod) -> the OOM kill its owner last reconciled for


@kopf.on.login()
def login(**kwargs: Any) -> kopf.ConnectionInfo | None:
    """Same credentials as ``Cluster.connect``: the service account in a pod, else KUBECONFIG."""
    return kopf.login_with_service_account(**kwargs) or kopf.login_with_kubeconfig(**kwargs)


@kopf.on.cleanup()
async def close(memo: kopf.Memo, **_: Any) -> None:
    """Close the API session on shutdown."""
    await memo.cluster.close()


async def _run(
    kind: str, body: dict[str, Any], memo: kopf.Memo, reconcile: Callable[[], Awaitable[Outcome]]
) -> Outcome:
    """Time a reconcile, count its result, emit its events; map API errors to kopf retries."""
    started = time.perf_counter()
    try:
        outcome = await reconcile()
    except APIError as err:
        RECONCILES.labels(kind, "retry" if err.retryable else "error").inc()
        if err.retryable:
            raise kopf.TemporaryError(
                f"API server answered {err}", delay=err.retry_after or 2
            ) from err
        raise kopf.PermanentError(f"API server rejected a child: {err}") from err
    finally:
        RECONCILE_SECONDS.labels(kind).observe(time.perf_counter() - started)
    RECONCILES.labels(kind, "spec_error" if outcome.spec_error else "ok").inc()
    meta = body["metadata"]
    memo.phases.record(kind, meta["namespace"], meta["name"], outcome.status.get("phase"))
    for event_type, reason, message in outcome.events:
        # kopf.event reads only metadata, which a plain dict of the object has.
        kopf.event(cast(kopf.Body, body), type=event_type, reason=reason, message=message)
    return outcome


@kopf.on.resume(GROUP, VERSION, "modeldeployments")
@kopf.on.create(GROUP, VERSION, "modeldeployments")
@kopf.on.update(GROUP, VERSION, "modeldeployments")
async def deployment_changed(name: str, namespace: str | None, memo: kopf.Memo, **_: Any) -> None:
    """Create/update/resume of a ModelDeployment: reconcile children, write status."""
    await reconcile_and_write(memo, "ModelDeployment", namespace or "", name)


@kopf.on.resume(GROUP, VERSION, "modelpipelines")
@kopf.on.create(GROUP, VERSION, "modelpipelines")
@kopf.on.update(GROUP, VERSION, "modelpipelines")
async def pipeline_changed(name: str, namespace: str | None, memo: kopf.Memo, **_: Any) -> None:
    """Create/update/resume of a ModelPipeline: render its InferenceGraph, write status."""
    await reconcile_and_write(memo, "ModelPipeline", namespace or "", name)


@kopf.index(GROUP, VERSION, "modelpipelines")
def pipelines_by_step(
    namespace: str | None, name: str, spec: kopf.Spec, **_: Any
) -> dict[tuple[str | None, str], str]:
    """Which pipelines call a deployment, so a deployment's arrival heals them."""
    return {(namespace, step): name for step in referenced_deployments(dict(spec))}


@kopf.on.event(GROUP, VERSION, "modeldeployments")
async def deployment_appeared(
    event: kopf.RawEvent, namespace: str | None, name: str, memo: kopf.Memo, **kwargs: Any
) -> None:
    """A deployment created or deleted: re-check the pipelines that call it."""
    if event["type"] not in {"ADDED", "DELETED", None} or namespace is None:
        return
    if event["type"] == "DELETED":
        await _forget(memo, "ModelDeployment", namespace, name)
    # kopf passes each index as a keyword named after it; the protocol cannot type those.
    index: kopf.Index[tuple[str | None, str], str] = kwargs["pipelines_by_step"]
    for pipeline in set(index.get((namespace, name), [])):
        await _reconcile_owner(memo, "ModelPipeline", namespace, pipeline)


@kopf.on.event(GROUP, VERSION, "modelpipelines")
async def pipeline_deleted(
    event: kopf.RawEvent, namespace: str | None, name: str, memo: kopf.Memo, **_: Any
) -> None:
    """A pipeline deleted: it no longer counts in the by-phase gauge."""
    if event["type"] == "DELETED" and namespace is not None:
        await _forget(memo, "ModelPipeline", namespace, name)


@kopf.index("", "v1", "nodes")
def gpu_nodes(labels: kopf.Labels, meta: kopf.Meta, **_: Any) -> dict[str, str] | None:
    """Each GPU node's class -> its creation time (the order classes joined in); a node that
    gpu-feature-discovery has not labelled is left out."""
    product = node_gpu_class(labels)
    return {product: str(meta.get("creationTimestamp") or "")} if product else None


@kopf.index(GROUP, VERSION, "modeldeployments")
def unpinned_plans(
    namespace: str | None, name: str, spec: kopf.Spec, **_: Any
) -> dict[None, tuple[str | None, str]] | None:
    """The ModelDeployments that build one plan per discovered GPU class."""
    return {None: (namespace, name)} if unpinned_tensorrt(dict(spec)) else None


def node_classes(index: kopf.Index[str, str]) -> list[str]:
    """The cluster's GPU classes from the Node index, in the order they joined."""
    return ordered_classes((product, created) for product in index for created in index[product])


@kopf.on.event("", "v1", "nodes")
async def node_changed(memo: kopf.Memo, **kwargs: Any) -> None:
    """A Node joined, left or was relabelled: when that changes the cluster's GPU classes,
    re-reconcile every ModelDeployment that builds a plan per class (a new class gets its plan
    without a restart). The first Node events after start-up reconcile them once more."""
    classes, known = node_classes(kwargs["gpu_nodes"]), memo.gpu_classes
    memo.gpu_classes = classes
    if classes == known or memo.config.gpu_product_list:
        return
    log.info("GPU node classes changed: %s -> %s", known, classes)
    index: kopf.Index[None, tuple[str | None, str]] = kwargs["unpinned_plans"]
    owners = {(ns, name) for ns, name in index.get(None, []) if ns is not None}
    await asyncio.gather(
        *(_reconcile_owner(memo, "ModelDeployment", ns, name) for ns, name in owners)
    )


TRANSFORMER_PODS: dict[str, Any] = {  # kopf does not export its filter token type
    COMPONENT_LABEL: "transformer",
    ISVC_LABEL: kopf.PRESENT,
}


@kopf.index("", "v1", "pods", labels=TRANSFORMER_PODS)
def transformer_kills(
    namespace: str | None, name: str, labels: kopf.Labels, status: kopf.Status, **_: Any
) -> dict[tuple[str | None, str], dict[str, Any]] | None:
    """(namespace, InferenceService) -> the pod's latest OOM kill; pods never killed: none."""
    kill = oom_kill(name, status)
    return {(namespace, labels[ISVC_LABEL]): kill} if kill else None


@kopf.on.event("", "v1", "pods", labels=TRANSFORMER_PODS)
async def transformer_pod_changed(
    event: kopf.RawEvent,
    namespace: str | None,
    name: str,
    labels: kopf.Labels,
    status: kopf.Status,
    memo: kopf.Memo,
    **_: Any,
) -> None:
    """A transformer pod changed: its owner reconciles when the pod's OOM kill is new (or the
    pod is gone), not on every readiness flip of every pod."""
    if namespace is None:
        return
    key, kill = (namespace, name), oom_kill(name, status)
    if event.get("type") == "DELETED":
        if memo.pod_kills.pop(key, None) is None:
            return  # a pod never killed leaves nothing to clear
    elif memo.pod_kills.get(key) == kill:
        return
    else:
        memo.pod_kills[key] = kill
    await _reconcile_owner(memo, "ModelDeployment", namespace, labels[ISVC_LABEL])


# Which CR owns a watched child, by the child's plural: (owner kind, label naming the owner).
CHILD_OWNERS = {
    "inferenceservices": ("ModelDeployment", LABEL_DEPLOYMENT),
    "jobs": ("ModelDeployment", LABEL_DEPLOYMENT),
    "inferencegraphs": ("ModelPipeline", LABEL_PIPELINE),
}


@kopf.on.event(
    "serving.kserve.io", "v1beta1", "inferenceservices", labels={LABEL_DEPLOYMENT: kopf.PRESENT}
)
@kopf.on.event("batch", "v1", "jobs", labels={LABEL_DEPLOYMENT: kopf.PRESENT})
@kopf.on.event(
    "serving.kserve.io", "v1alpha1", "inferencegraphs", labels={LABEL_PIPELINE: kopf.PRESENT}
)
async def child_changed(
    event: kopf.RawEvent,
    resource: kopf.Resource,
    name: str,
    meta: kopf.Meta,
    labels: kopf.Labels,
    namespace: str | None,
    memo: kopf.Memo,
    **_: Any,
) -> None:
    """An InferenceService, engine Job or InferenceGraph changed: mirror it into its owner
    (ModelDeployment or ModelPipeline)."""
    if namespace is not None:
        kind, label = CHILD_OWNERS[resource.plural]
        child = _child_version(event, resource, name, meta)
        await _reconcile_owner(memo, kind, namespace, labels[label], child)


def _child_version(
    event: kopf.RawEvent, resource: kopf.Resource, name: str, meta: kopf.Meta
) -> tuple[str, str] | None:
    """("plural/name", resourceVersion) of the child an event is about; None for a deletion,
    which always reconciles (the child must be made again)."""
    version = meta.get("resourceVersion")
    if event.get("type") == "DELETED" or not version:
        return None
    return f"{resource.plural}/{name}", str(version)


def _reconciler(
    kind: str, owner: dict[str, Any], memo: kopf.Memo
) -> Callable[[], Awaitable[Outcome]]:
    """The reconcile of one owner, bound now (not at call time) to this owner."""
    if kind == "ModelDeployment":
        namespace, name = owner["metadata"]["namespace"], owner["metadata"]["name"]
        observed = Observed(
            node_classes(memo.gpu_nodes), list(memo.transformer_kills.get((namespace, name), []))
        )
        return lambda: reconcile_deployment(owner, memo.cluster, memo.config, observed)
    return lambda: reconcile_pipeline(owner, memo.cluster)


async def reconcile_and_write(
    memo: kopf.Memo, kind: str, namespace: str, name: str, child: tuple[str, str] | None = None
) -> None:
    """Reconcile one CR from a fresh read and write its status, one reconcile per CR at a time.

    Both the CR's own handlers and its children's events land here. Serialising them per CR,
    each starting from the object as stored now, keeps a slow reconcile from overwriting the
    status that a later one (e.g. after a child failed) has already written.

    ``child``: ("plural/name", resourceVersion) of the child whose event asks for this. When
    the stored status already mirrors that very version (the event of a child this operator
    has just created or patched, or a watch re-listing), there is nothing to mirror: no
    reconcile, no API call.
    """
    key = (kind, namespace, name)
    async with memo.locks.hold(key):
        mirrored: dict[tuple[str, str, str], dict[str, str]] = memo.mirrored
        if child is not None and mirrored.get(key, {}).get(child[0]) == child[1]:
            return
        mirrored.pop(key, None)  # until this reconcile has written its status
        cluster: Cluster = memo.cluster
        owner = await cluster.get(API_VERSION, kind, namespace, name)
        if owner is None:  # deleted; garbage collection takes the children
            memo.phases.record(kind, namespace, name, None)
            return
        outcome = await _run(kind, owner, memo, _reconciler(kind, owner, memo))
        if _status_changed(owner.get("status") or {}, outcome.status):
            try:
                await cluster.patch_status(API_VERSION, kind, namespace, name, outcome.status)
            except APINotFoundError:  # deleted while it was being reconciled
                memo.phases.record(kind, namespace, name, None)
                return
            except APIError as err:
                if err.retryable:
                    raise kopf.TemporaryError(f"status: {err}", delay=err.retry_after or 1) from err
                raise
        mirrored[key] = outcome.children


async def _forget(memo: kopf.Memo, kind: str, namespace: str, name: str) -> None:
    """A deleted CR leaves the by-phase gauge; under its lock, so that a reconcile still in
    flight cannot record its phase again afterwards."""
    async with memo.locks.hold((kind, namespace, name)):
        memo.phases.record(kind, namespace, name, None)
        memo.mirrored.pop((kind, namespace, name), None)


async def _reconcile_owner(
    memo: kopf.Memo, kind: str, namespace: str, name: str, child: tuple[str, str] | None = None
) -> None:
    """Reconcile an owner outside its own handler; event handlers are not retried by kopf, so
    this retries transient API errors itself, a bounded number of times."""
    for delay in (*CHILD_RETRIES, None):
        try:
            await reconcile_and_write(memo, kind, namespace, name, child)
            return
        except (APIError, kopf.TemporaryError) as err:
            if delay is None or (isinstance(err, APIError) and not err.retryable):
                log.error("giving up on %s %s/%s after retries: %s", kind, namespace, name, err)
                return
            await asyncio.sleep(delay)
        except kopf.PermanentError as err:
            log.error("%s %s/%s: %s", kind, namespace, name, err)
            return


def _status_changed(old: dict[str, Any], new: dict[str, Any]) -> bool:
    return any(old.get(key) != value for key, value in new.items())
