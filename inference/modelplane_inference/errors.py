"""Every exception the inference tower raises, and the one mapping to HTTP and gRPC status.

Why one module: a class decides once what its answer is on the wire (``http_status``,
``grpc_code``, and a retry hint where the client should come back), so a stage, the pipeline
executor and the server never compare status numbers or keep their own table; the REST exception
handler and the gRPC interceptor in ``serving/kserve_server.py`` read :func:`answer` and nothing
else. The same habit as kopf's ``_cogs/clients/errors.py`` and the operator's ``errors.py``.

Families:

- :class:`ClientError` (4xx, ``INVALID_ARGUMENT`` unless a class says otherwise): the request is
  at fault; logged as one WARNING line, counted as ``invalid_input``. :class:`DocumentRefused`
  and its subclasses are the intake refusals (an encrypted, broken or oversized file).
- :class:`Overloaded` (429 / ``RESOURCE_EXHAUSTED`` with ``Retry-After``): back-pressure; the
  caller should retry after ``retry_after_s``.
- :class:`RequestTimeout` (504 / ``DEADLINE_EXCEEDED``).
- :class:`PredictorUnavailable` (503 / ``UNAVAILABLE``): the Triton predictor has stopped.
- :class:`StepFailed`: a pipeline step's failure, carrying the answer of what failed, so a 429 of
  a stage reaches the client of the pipeline as a 429.
- load-time errors (:class:`ManifestError`, :class:`RepositoryError`,
  :class:`KServeInternalsMoved`) and the client's :class:`PredictError`: never answered to a
  request, they still subclass :class:`ModelplaneError` so a caller can catch the tower's own.

The module imports nothing beyond the standard library: the client and the CLI use it without
loading KServe or gRPC; gRPC codes are named by their ``grpc.StatusCode`` member name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

#: The gRPC code of each HTTP status this tower answers with (Triton's and KServe's pairing).
GRPC_OF_HTTP: dict[int, str] = {
    400: "INVALID_ARGUMENT",
    404: "NOT_FOUND",
    413: "RESOURCE_EXHAUSTED",
    415: "INVALID_ARGUMENT",
    422: "INVALID_ARGUMENT",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


@dataclass(frozen=True)
class Answer:
    """What the client of a request gets for an error: the one mapping's output."""

    http_status: int
    grpc_code: str
    reason: str
    retry_after_s: float | None = None

    def headers(self) -> dict[str, str]:
        """HTTP headers of the answer: ``Retry-After`` (whole seconds, at least 1) when set."""
        if self.retry_after_s is None:
            return {}
        return {"Retry-After": str(max(1, round(self.retry_after_s)))}


class ModelplaneError(Exception):
    """Base of the tower's exceptions; ``reason`` is the message a client or log reader sees."""

    http_status: ClassVar[int] = 500
    retry_after_s: float | None = None

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    @property
    def status(self) -> int:
        """The HTTP status this error is answered with."""
        return self.http_status

    @property
    def grpc_code(self) -> str:
        return GRPC_OF_HTTP.get(self.status, "INTERNAL")


class ClientError(ModelplaneError, ValueError):
    """The request is at fault (400 unless a subclass says otherwise); never retried as is."""

    http_status: ClassVar[int] = 400


class StageInputError(ClientError):
    """An item lacks something the stage needs or holds a bad value; the client's fault."""


class ImageError(ClientError):
    """An image that cannot be decoded, or one past the pixel limit."""


class RunnerInputError(ClientError):
    """A request's tensors do not fit the model (name, datatype, shape, batch size)."""


class DocumentRefused(ClientError):
    """A document the intake refuses as a whole (broken file, page limit): 422."""

    http_status: ClassVar[int] = 422


class UnsupportedMediaType(DocumentRefused):
    """A file of a type the stage does not read (or an encrypted PDF it cannot open): 415."""

    http_status: ClassVar[int] = 415


class PayloadTooLarge(DocumentRefused):
    """A document past a size or page limit: 413 (gRPC ``RESOURCE_EXHAUSTED``, as gRPC's own
    message-size limit answers)."""

    http_status: ClassVar[int] = 413


class StoreError(ClientError):
    """A labelling decision that cannot be applied (unknown image or class); the page shows it."""


class TaskError(ClientError):
    """A labelling task that cannot be set up (unknown model, no labels in the repository)."""


class Overloaded(ModelplaneError):
    """Back-pressure: a model or stage has all its slots in use. 429 / ``RESOURCE_EXHAUSTED``
    with a retry hint; nothing is queued beyond the cap, so memory stays bounded."""

    http_status: ClassVar[int] = 429

    def __init__(self, reason: str, retry_after_s: float = 1.0) -> None:
        super().__init__(reason)
        self.retry_after_s = retry_after_s


class PredictorUnavailable(ModelplaneError):
    """The predictor (a Triton this server calls over gRPC) is gone: 503 / ``UNAVAILABLE``; the
    reason says why (the local tritonserver's exit status and last log lines)."""

    http_status: ClassVar[int] = 503


class RequestTimeout(ModelplaneError):
    """A request ran past its time limit and was abandoned: 504 / ``DEADLINE_EXCEEDED``."""

    http_status: ClassVar[int] = 504


class StepFailed(ModelplaneError):
    """A pipeline step (or a whole node) failed. ``router_status`` is what KServe's router would
    return; the answer is the failed stage's own where it has one (a 429 stays a 429), else 400
    for a 4xx and 500 for the rest, as the local server has always answered."""

    def __init__(self, router_status: int, reason: str, cause: BaseException | None = None) -> None:
        super().__init__(reason)
        self.router_status = router_status
        self._cause_answer = answer(cause) if isinstance(cause, ModelplaneError) else None
        if self._cause_answer is not None:
            self.retry_after_s = self._cause_answer.retry_after_s

    @property
    def message(self) -> str:
        return self.reason

    @property
    def status(self) -> int:
        if self._cause_answer is not None:
            return self._cause_answer.http_status
        return 400 if 400 <= self.router_status < 500 else 500

    @property
    def grpc_code(self) -> str:
        """The cause's code; else ``INVALID_ARGUMENT``, 5xx included: KServe's interceptor
        answers its ``InferenceError`` so, and a failed step has always been answered that way."""
        if self._cause_answer is not None:
            return self._cause_answer.grpc_code
        return "INVALID_ARGUMENT"


class ManifestError(ModelplaneError, ValueError):
    """A manifest that cannot be served; the message names the object and the problem."""


class RepositoryError(ModelplaneError, RuntimeError):
    """The model repository lacks a model or holds one that cannot be served."""


class KServeInternalsMoved(ModelplaneError, RuntimeError):
    """A private KServe name this server relies on is gone (checked at start-up)."""


class PredictError(ModelplaneError, RuntimeError):
    """The client's view of a refused request: the server's status and message."""


def answer(error: ModelplaneError) -> Answer:
    """The one mapping from an error to what the client gets over HTTP and gRPC."""
    return Answer(error.status, error.grpc_code, error.reason, error.retry_after_s)
