"""The contract's one error: a manifest that the schema accepts but that cannot work.

Both consumers turn it into their own answer from the same ``reason`` and message: the operator
into a 422 at admission or ``Ready=False`` with the reason, ``modelplane serve`` into a refusal
to serve the manifest. Kept apart from :mod:`modelplane_api.spec` so every typed part of a
manifest (parameters, pipelines, storage) raises the same class without importing the others.
"""

from __future__ import annotations


class SpecError(ValueError):
    """A spec the schema accepts but that cannot work; ``reason`` is a CamelCase reason."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
