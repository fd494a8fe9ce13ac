"""What one request may cost a server, and how it answers when the cost is too high.

A server in front of phones and scanners sees bursts, broken uploads and hostile input. Each
limit below turns an unbounded cost (memory, queue length, wall time) into an early, typed answer
the client can act on, and keeps the process alive for everyone else:

| limit | REST answer | gRPC answer |
| --- | --- | --- |
| body over ``max_request_bytes`` | 413 | RESOURCE_EXHAUSTED |
| image header over ``max_image_pixels`` (checked before decoding) | 400 | INVALID_ARGUMENT |
| over ``max_batch`` items in one request | 400 | INVALID_ARGUMENT |
| over a model's in-flight cap (see below) | 429 + Retry-After | RESOURCE_EXHAUSTED |
| running past ``request_timeout_s`` | 504 | DEADLINE_EXCEEDED |

The limits are process-wide (one server, one set of flags); ``install`` sets them once at start.
A stage's own cap (``spec.scaling.maxInFlight``, else its stage kind's default,
``modelplane_api.resources.in_flight_cap``) can only lower ``max_concurrency`` for that stage;
:class:`InFlight` counts a stage's requests whether they come from a client or a pipeline, as a
transformer in the cluster counts the router's calls and direct ones alike.
"""

from __future__ import annotations

import argparse
import contextlib
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, fields

from PIL import Image

from modelplane_inference.errors import Overloaded

MIB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """Every limit with its default; each default is sized for this platform's traffic."""

    # A phone photo is a few MB; a page scan as base64 JSON under 20 MB. 64 MiB leaves room for
    # raw tensors from a transformer while refusing a body that could exhaust memory.
    max_request_bytes: int = 64 * MIB
    # A 48 MP phone photo fits after its 4:3 crop; a decompression bomb does not.
    max_image_pixels: int = 40_000_000
    # Items (images, documents) in one request; a client batching more should split it.
    max_batch: int = 64
    # Requests in flight per model (queued + running). Beyond it the client is told to back off
    # instead of joining an unbounded queue whose tail would time out anyway.
    max_concurrency: int = 64
    # A request still running after this is abandoned with 504; a document page takes ~1 s.
    request_timeout_s: float = 120.0
    # On SIGTERM: seconds readiness reports false while requests are still served, so a
    # Kubernetes Service removes the endpoint before the listener closes.
    drain_s: float = 0.0
    # On shutdown: seconds in-flight requests get to finish before they are cancelled.
    grace_s: float = 30.0

    def __post_init__(self) -> None:
        for field in fields(self):
            if getattr(self, field.name) < 0 or (
                field.name not in ("drain_s",) and getattr(self, field.name) == 0
            ):
                raise ValueError(f"{field.name} must be positive, got {getattr(self, field.name)}")


_active = Limits()


def active() -> Limits:
    """The limits this process runs with (the defaults until ``install``)."""
    return _active


def install_limits(limits: Limits) -> None:
    """Make ``limits`` the process's limits. Pillow's own bomb check (an error at twice
    ``MAX_IMAGE_PIXELS``, inside ``Image.open``) follows the pixel limit; its warning is silenced
    because ``decode_image`` refuses those sizes itself, as a 400, before decoding."""
    global _active
    _active = limits
    Image.MAX_IMAGE_PIXELS = limits.max_image_pixels
    warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)


FLAGS: dict[str, tuple[type, str]] = {
    "max_request_bytes": (int, "largest request body in bytes (413 above it)"),
    "max_image_pixels": (int, "largest image in pixels, checked before decoding (400 above)"),
    "max_batch": (int, "most items (images, documents) in one request (400 above)"),
    "max_concurrency": (int, "most requests in flight per model (429 + Retry-After above)"),
    "request_timeout_s": (float, "seconds a request may run (504 after)"),
    "drain_s": (float, "on SIGTERM, seconds readiness is false while still serving"),
    "grace_s": (float, "on shutdown, seconds in-flight requests get to finish"),
}


def _flag_type(name: str, kind: type) -> Callable[[str], object]:
    """argparse ``type=`` that checks the value as :class:`Limits` does, so a non-positive
    value is a usage error (exit status 2, with the usage line) like any other bad flag."""

    def parse(text: str) -> object:
        value = kind(text)
        try:
            Limits(**{name: value})
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from exc
        return value

    parse.__name__ = kind.__name__  # argparse names the type in "invalid int value"
    return parse


def add_arguments(parser: argparse.ArgumentParser, defaults: Limits | None = None) -> None:
    """One ``--max-request-bytes``-style flag per limit, defaults shown in ``--help``."""
    defaults = defaults or Limits()
    group = parser.add_argument_group("limits")
    for name, (kind, text) in FLAGS.items():
        default = getattr(defaults, name)
        group.add_argument(
            "--" + name.replace("_", "-"),
            type=_flag_type(name, kind),
            default=default,
            help=f"{text} (default {default})",
        )


def from_args(args: argparse.Namespace) -> Limits:
    """The limits given on the command line (checked when they were parsed)."""
    return Limits(**{name: getattr(args, name) for name in FLAGS})


RETRY_AFTER_S = 1  # a full model frees a slot within a request's time; retry soon, elsewhere


class InFlight:
    """Requests in flight per model or stage name, each held to its cap: past it, Overloaded
    (429 + Retry-After / RESOURCE_EXHAUSTED) at once instead of a queue that grows memory."""

    def __init__(self, default_cap: int, caps: Mapping[str, int] | None = None) -> None:
        self.default_cap = default_cap
        self.caps = {name: min(cap, default_cap) for name, cap in (caps or {}).items()}
        self._count: dict[str, int] = {}

    def cap(self, name: str) -> int:
        return self.caps.get(name, self.default_cap)

    def count(self, name: str) -> int:
        return self._count.get(name, 0)

    @contextlib.contextmanager
    def slot(self, name: str) -> Iterator[None]:
        """Hold one of ``name``'s slots for the ``with`` block (the event loop is the lock)."""
        count, cap = self._count.get(name, 0), self.cap(name)
        if count >= cap:
            flag = "--max-concurrency" if cap == self.default_cap else "spec.scaling.maxInFlight"
            raise Overloaded(
                f"model {name} has {cap} requests in flight ({flag}); retry after"
                f" {RETRY_AFTER_S} s",
                RETRY_AFTER_S,
            )
        self._count[name] = count + 1
        try:
            yield
        finally:
            self._count[name] -= 1
            if not self._count[name]:
                del self._count[name]
