"""CPU and memory of a container as a ModelDeployment sets them: ``spec.transformer.resources``.

Why in the contract: the CRD schema can say a value is a string or a number, not that ``2Gi``
is a quantity or that a request must not exceed its limit; the API server would refuse the
rendered pod much later, as an event on a ReplicaSet nobody reads. Here a bad value is a
:class:`SpecError` with the field's path, the same for admission, the reconciler and
``modelplane serve``.

Quantities follow Kubernetes' grammar (Ref: k8s.io/apimachinery resource.Quantity): a decimal
number with a binary (``Ki`` ... ``Ei``) or decimal (``m``, ``k``, ``M`` ... ``E``) suffix or a
decimal exponent (``1e3``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from modelplane_api.errors import SpecError

_SUFFIXES = {
    "": Decimal(1),
    "m": Decimal("0.001"),
    "k": Decimal(10) ** 3,
    "M": Decimal(10) ** 6,
    "G": Decimal(10) ** 9,
    "T": Decimal(10) ** 12,
    "P": Decimal(10) ** 15,
    "E": Decimal(10) ** 18,
    **{s: Decimal(1024) ** (i + 1) for i, s in enumerate(("Ki", "Mi", "Gi", "Ti", "Pi", "Ei"))},
}
_QUANTITY = re.compile(
    r"^\+?(\d+(?:\.\d*)?|\.\d+)(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|[mkMGTPE]))?$"
)
KINDS = ("cpu", "memory")


def quantity(value: str | int | float, where: str) -> Decimal:
    """The value of a Kubernetes quantity (cores for CPU, bytes for memory)."""
    match = _QUANTITY.match(str(value).strip())
    if not match:
        raise SpecError("InvalidResources", f"{where}: {value!r} is not a Kubernetes quantity")
    number, exponent, suffix = match.groups()
    try:
        return Decimal(number + (exponent or "")) * _SUFFIXES[suffix or ""]
    except InvalidOperation:
        raise SpecError("InvalidResources", f"{where}: {value!r} is out of range") from None


@dataclass(frozen=True)
class ComputeResources:
    """``requests`` and ``limits`` (``cpu``, ``memory``) as written; an absent key is left to
    the stage's default."""

    requests: dict[str, str] = field(default_factory=dict)
    limits: dict[str, str] = field(default_factory=dict)

    def over(self, default: ComputeResources) -> ComputeResources:
        """These values laid over ``default`` key by key, checked again as a whole (a request
        set here must still fit the default limit)."""
        merged = ComputeResources(
            {**default.requests, **self.requests}, {**default.limits, **self.limits}
        )
        check(merged, "spec.transformer.resources")
        return merged

    def to_kubernetes(self) -> dict[str, dict[str, str]]:
        """The container's ``resources`` field."""
        return {"requests": dict(self.requests), "limits": dict(self.limits)}


def parse_resources(raw: dict[str, Any] | None, where: str) -> ComputeResources | None:
    """``raw`` (a ``resources`` object of the spec) checked: None when absent."""
    if not raw:
        return None
    parsed = ComputeResources(
        {k: str(v) for k, v in (raw.get("requests") or {}).items()},
        {k: str(v) for k, v in (raw.get("limits") or {}).items()},
    )
    check(parsed, where)
    return parsed


def check(resources: ComputeResources, where: str) -> None:
    """Only cpu and memory, each a quantity above zero, no request above its limit."""
    for part, values in (("requests", resources.requests), ("limits", resources.limits)):
        for kind, value in values.items():
            if kind not in KINDS:
                raise SpecError(
                    "InvalidResources", f"{where}.{part}: only cpu and memory, not {kind}"
                )
            if quantity(value, f"{where}.{part}.{kind}") <= 0:
                raise SpecError("InvalidResources", f"{where}.{part}.{kind} must be above zero")
    for kind in KINDS:
        request, limit = resources.requests.get(kind), resources.limits.get(kind)
        if request is None or limit is None:
            continue
        if quantity(request, where) > quantity(limit, where):
            raise SpecError(
                "InvalidResources",
                f"{where}: the {kind} request {request} is above its limit {limit}",
            )


@dataclass(frozen=True)
class StageSizing:
    """A transformer's default requests/limits and in-flight cap for one stage kind."""

    resources: ComputeResources
    max_in_flight: int


def _sizing(cpu: str, memory: str, cpu_limit: str, memory_limit: str, cap: int) -> StageSizing:
    return StageSizing(
        ComputeResources(
            {"cpu": cpu, "memory": memory}, {"cpu": cpu_limit, "memory": memory_limit}
        ),
        cap,
    )


# Derived from bench/transformer_resources.py (one modelplane-transformer process per stage, as
# the cluster runs it, at the stage's concurrency target with real inputs; figures, n and the
# rule in docs/operations.md, "Transformer resources"): memory request = peak RSS at the target;
# memory limit = RSS at twice the target x 1.25, at least 512Mi; cap = the requests that fit in
# that limit (at most 64, at least twice the target). CPU keeps the former 500m/2: this
# machine's stand-in predictor bounds the transformer's cores.
STAGE_SIZING: dict[str, StageSizing] = {
    "quality-gate": _sizing("500m", "256Mi", "2", "512Mi", 30),
    "breed": _sizing("500m", "256Mi", "2", "512Mi", 38),
    "premium": _sizing("500m", "256Mi", "2", "512Mi", 64),
    "text-detection": _sizing("500m", "960Mi", "2", "2Gi", 8),
    "text-recognition": _sizing("500m", "896Mi", "2", "1792Mi", 16),
}
# Stages not measured (custom, damage-severity and any new kind): the former fixed figures.
DEFAULT_SIZING = _sizing("500m", "512Mi", "2", "1Gi", 16)


def sizing(stage: str) -> StageSizing:
    return STAGE_SIZING.get(stage, DEFAULT_SIZING)


def in_flight_cap(stage: str, max_in_flight: int | None) -> int:
    """Requests a stage's transformer holds at once: ``spec.scaling.maxInFlight``, else its
    stage kind's default."""
    return max_in_flight or sizing(stage).max_in_flight


def transformer_resources(stage: str, given: ComputeResources | None) -> dict[str, dict[str, str]]:
    """The transformer container's ``resources``: the stage kind's default with
    ``spec.transformer.resources`` laid over it (checked again as a whole)."""
    default = sizing(stage).resources
    return (given.over(default) if given else default).to_kubernetes()
