"""The operator's only door to the API server: get, create-or-patch, patch status, discovery.

Built on the ``kubernetes`` package's asyncio client (credentials from ``KUBECONFIG`` or the
in-cluster service account) but speaking plain dicts, so render functions stay dict-in/dict-out
and every kind (KServe, Prometheus-operator, core) goes through the same four calls.
"""

from __future__ import annotations

import copy
import enum
import json
import logging
import os
import time
import urllib.parse
import urllib.request
from typing import Any

from kubernetes.aio import client, config

from modelplane_operator.errors import APIConflictError, APINotFoundError, api_error

log = logging.getLogger(__name__)

# kind -> plural for every kind the operator reads or writes.
PLURALS = {
    "ConfigMap": "configmaps",
    "Service": "services",
    "Job": "jobs",
    "InferenceService": "inferenceservices",
    "InferenceGraph": "inferencegraphs",
    "ServiceMonitor": "servicemonitors",
    "PrometheusRule": "prometheusrules",
    "PodDisruptionBudget": "poddisruptionbudgets",
    "ModelDeployment": "modeldeployments",
    "ModelPipeline": "modelpipelines",
}
# What the operator applied last time, as kubectl's last-applied-configuration: it tells which
# fields the operator set before and no longer wants, so a merge patch can remove them.
LAST_APPLIED = "modelplane.io/last-applied"


def object_path(api_version: str, kind: str, namespace: str, name: str | None = None) -> str:
    """REST path of a namespaced object (or its collection when ``name`` is None)."""
    prefix = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
    path = f"{prefix}/namespaces/{namespace}/{PLURALS[kind]}"
    return f"{path}/{name}" if name else path


def differs(desired: Any, actual: Any) -> bool:
    """Whether ``actual`` lacks anything ``desired`` sets (extra fields set by others are fine)."""
    if isinstance(desired, dict):
        if not isinstance(actual, dict):
            return True
        return any(differs(v, actual.get(k)) for k, v in desired.items())
    return bool(desired != actual)


def merge_patch(last_applied: dict[str, Any], desired: dict[str, Any]) -> dict[str, Any]:
    """JSON merge patch (RFC 7386) from what we applied last time to ``desired``.

    Keys we set before and no longer want become ``null``; keys others set (KServe's defaults,
    controllers) are left alone, since we never applied them. Lists are replaced whole.
    """
    patch: dict[str, Any] = copy.deepcopy(desired)
    for key, old in last_applied.items():
        if key not in desired:
            patch[key] = None
        elif isinstance(old, dict) and isinstance(desired[key], dict):
            patch[key] = merge_patch(old, desired[key])
    return patch


def with_last_applied(obj: dict[str, Any]) -> dict[str, Any]:
    """``obj`` (status dropped) annotated with its own JSON, sorted so equal objects match."""
    desired = {k: v for k, v in copy.deepcopy(obj).items() if k != "status"}
    desired["metadata"].setdefault("annotations", {})[LAST_APPLIED] = json.dumps(
        {k: v for k, v in obj.items() if k != "status"}, sort_keys=True, separators=(",", ":")
    )
    return desired


def last_applied(existing: dict[str, Any]) -> dict[str, Any]:
    """What the operator last applied to ``existing`` ({} for objects made before it recorded)."""
    raw = ((existing.get("metadata") or {}).get("annotations") or {}).get(LAST_APPLIED)
    try:
        previous: dict[str, Any] = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    return previous


def env_proxy(url: str) -> str | None:
    """The proxy ``$HTTPS_PROXY``/``$HTTP_PROXY`` name for ``url``, unless ``$NO_PROXY``
    exempts its host (what aiohttp's ``trust_env`` would pick per request)."""
    parts = urllib.parse.urlsplit(url)
    if not parts.hostname or urllib.request.proxy_bypass(parts.hostname):
        return None
    proxy: str | None = urllib.request.getproxies().get(parts.scheme)
    return proxy


class Unread(enum.Enum):
    """``Cluster.apply``'s default: the caller has not read the object, so apply reads it."""

    UNREAD = enum.auto()


UNREAD = Unread.UNREAD


class Cluster:
    """An API client session; one per operator process, opened in the startup handler."""

    def __init__(self, api: client.ApiClient) -> None:
        self._api = api
        self._api_cache: dict[str, tuple[float, bool]] = {}

    @classmethod
    async def connect(cls) -> Cluster:
        """Load credentials the way kubectl does: in-cluster service account, else KUBECONFIG."""
        try:
            config.load_incluster_config()
        except config.ConfigException:
            # Read KUBECONFIG now: the client library's default is fixed when it is imported.
            await config.load_kube_config(config_file=os.environ.get("KUBECONFIG"))
        configuration = client.Configuration.get_default_copy()
        # With trust_env, aiohttp looks up $*_PROXY and ~/.netrc in a worker thread on every
        # request: ~15% of the operator's CPU in the 1,000-CR bench profile. The proxy is
        # resolved once here instead; the API server takes a bearer token, never netrc.
        configuration.client_session_kwargs = {"trust_env": False}
        if configuration.proxy is None:
            configuration.proxy = env_proxy(configuration.host)
        return cls(client.ApiClient(configuration))

    async def close(self) -> None:
        await self._api.close()

    async def request(
        self, method: str, path: str, body: Any = None, content_type: str | None = None
    ) -> dict[str, Any] | None:
        """One HTTP call; JSON in, JSON out; the typed ``errors.APIError`` on non-2xx."""
        headers = {"Accept": "application/json"}
        if content_type:
            headers["Content-Type"] = content_type
        m, url, h, b, _ = await self._api.param_serialize(
            method=method,
            resource_path=path,
            header_params=headers,
            body=body,
            auth_settings=["BearerToken"],
        )
        response = await self._api.call_api(m, url, header_params=h, body=b)
        data = await response.read()
        if response.status >= 400:
            raise api_error(response.status, data, response.headers.get("Retry-After"))
        return json.loads(data) if data else None

    async def get(
        self, api_version: str, kind: str, namespace: str, name: str
    ) -> dict[str, Any] | None:
        """The object, or None when it does not exist."""
        try:
            return await self.request("GET", object_path(api_version, kind, namespace, name))
        except APINotFoundError:
            return None

    async def apply(
        self, obj: dict[str, Any], existing: dict[str, Any] | Unread | None = UNREAD
    ) -> tuple[dict[str, Any], str]:
        """Create ``obj`` or patch it; returns (object, "created" | "patched" | "unchanged").

        Idempotent: re-running it after a restart finds the child and patches it (or leaves it
        alone when nothing differs), so no duplicate is ever made. Fields dropped from the
        desired object since the last apply are removed (three-way merge, as kubectl apply).
        ``existing``: the object as the caller just read it (None: absent), saving the GET; a
        create that meets an object made since is answered 409 and patches it as below.
        """
        meta = obj["metadata"]
        api_version, kind, namespace, name = (
            obj["apiVersion"],
            obj["kind"],
            meta["namespace"],
            meta["name"],
        )
        desired = with_last_applied(obj)
        if isinstance(existing, Unread):
            existing = await self.get(api_version, kind, namespace, name)
        if existing is None:
            try:
                created = await self.request(
                    "POST", object_path(api_version, kind, namespace), desired
                )
                return created or desired, "created"
            except APIConflictError:
                # Someone created it between our GET and POST; patch it if we can see it now.
                existing = await self.get(api_version, kind, namespace, name)
                if existing is None:
                    raise
        previous = last_applied(existing)
        if previous == last_applied(desired) and not differs(desired, existing):
            return existing, "unchanged"
        patched = await self.request(
            "PATCH",
            object_path(api_version, kind, namespace, name),
            merge_patch(previous, desired),
            content_type="application/merge-patch+json",
        )
        return patched or desired, "patched"

    async def patch_status(
        self, api_version: str, kind: str, namespace: str, name: str, status: dict[str, Any]
    ) -> None:
        path = object_path(api_version, kind, namespace, name) + "/status"
        await self.request(
            "PATCH", path, {"status": status}, content_type="application/merge-patch+json"
        )

    async def list_names(self, api_version: str, kind: str, namespace: str) -> set[str]:
        listing = await self.request("GET", object_path(api_version, kind, namespace)) or {}
        return {item["metadata"]["name"] for item in listing.get("items", [])}

    async def has_api(self, group_version: str, kind: str, ttl: float = 60.0) -> bool:
        """Whether the cluster serves ``kind`` in ``group_version`` (e.g. monitoring CRDs)."""
        key = f"{group_version}/{kind}"
        cached = self._api_cache.get(key)
        if cached and time.monotonic() - cached[0] < ttl:
            return cached[1]
        try:
            listing = await self.request("GET", f"/apis/{group_version}") or {}
            served = any(
                r.get("kind") == kind or r.get("name") == PLURALS[kind]
                for r in listing.get("resources", [])
            )
        except APINotFoundError:
            served = False
        self._api_cache[key] = (time.monotonic(), served)
        return served
