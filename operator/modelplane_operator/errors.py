"""Kubernetes API errors as types, raised from one place (``Cluster.request``).

Callers catch the answer they can handle (``except APINotFoundError``) instead of comparing
status numbers, so a reader sees which answers each call expects, and what is retryable is
decided once, here. The hierarchy follows kopf's ``kopf/_cogs/clients/errors.py``: 4xx are
:class:`APIClientError`, 5xx :class:`APIServerError`, and the answers the operator acts on have
their own class. The message is the API server's ``Status.message`` when it sent one.
"""

from __future__ import annotations

import json
from typing import Any

# How much of a non-Status answer to keep: enough to debug, too little to dump an object's data.
TEXT_ERROR_MAX_SIZE = 256


class APIError(Exception):
    """A non-2xx answer from the API server."""

    #: Conflicts, throttling and server errors pass when the same call is made again later.
    retryable = False

    def __init__(self, status: int, message: str, retry_after: float | None = None) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message
        self.retry_after = retry_after


class APIClientError(APIError):
    """4xx: the request is wrong for the cluster as it is now."""


class APIServerError(APIError):
    """5xx: the API server (or something behind it) failed; the same call may pass later."""

    retryable = True


class APIUnauthorizedError(APIClientError):
    """401: the credentials were refused."""


class APIForbiddenError(APIClientError):
    """403: RBAC does not allow this call."""


class APINotFoundError(APIClientError):
    """404: the object (or the API serving its kind) does not exist."""


class APIConflictError(APIClientError):
    """409: created concurrently, or written from a stale resourceVersion."""

    retryable = True


class APIUnprocessableEntityError(APIClientError):
    """422: the object failed the API server's validation (schema, admission)."""


class APITooManyRequestsError(APIClientError):
    """429: throttled; ``retry_after`` says when to come back."""

    retryable = True


_BY_STATUS: dict[int, type[APIError]] = {
    401: APIUnauthorizedError,
    403: APIForbiddenError,
    404: APINotFoundError,
    409: APIConflictError,
    422: APIUnprocessableEntityError,
    429: APITooManyRequestsError,
}


def _message(body: bytes) -> str:
    """``Status.message`` of a Kubernetes error body, else the start of the text."""
    text = body.decode(errors="replace").strip()
    try:
        payload: Any = json.loads(text)
    except ValueError:
        payload = None
    if isinstance(payload, dict) and payload.get("kind") == "Status" and payload.get("message"):
        return str(payload["message"])
    if len(text) > TEXT_ERROR_MAX_SIZE:
        return text[: TEXT_ERROR_MAX_SIZE - 3] + "..."
    return text


def api_error(status: int, body: bytes, retry_after: str | None = None) -> APIError:
    """The typed error for an answer with HTTP ``status`` (>= 400), ``body`` and headers."""
    cls = _BY_STATUS.get(status) or (
        APIServerError if status >= 500 else APIClientError if status >= 400 else APIError
    )
    try:
        delay = float(retry_after) if retry_after else None
    except ValueError:  # Retry-After may also be an HTTP date; fall back to our own backoff
        delay = None
    return cls(status, _message(body), delay)
