"""Container image references: the one rule for whether a reference names its registry.

Docker's reference grammar treats the first path component as a registry host only when it
contains a ``.`` or ``:`` or is ``localhost``; anything else resolves to Docker Hub. The operator
(prefixing the site registry) and the bundle (refusing Docker Hub look-ups) both ask this.
"""

from __future__ import annotations


def names_registry(reference: str) -> bool:
    """Whether ``reference`` (``host[:port]/repo[:tag|@digest]``) names a registry host."""
    first, _, rest = reference.partition("/")
    return bool(rest) and ("." in first or ":" in first or first == "localhost")
