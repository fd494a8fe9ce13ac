"""Open Inference Protocol (v2) helpers: reading a request's inputs, writing JSON results.

Stages and pipelines speak the same small wire contract: encoded images and JSON documents
travel as BYTES tensors (``image``, ``features``, ``lines``) and the answer is one BYTES tensor
``result`` per item holding JSON. Every malformed request becomes kserve's ``InvalidInput``,
which KServe turns into HTTP 400 / gRPC INVALID_ARGUMENT with the message in ``{"error": ...}``.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from typing import Any

import numpy as np
from kserve.errors import InvalidInput
from kserve.protocol.infer_type import InferInput, InferOutput, InferRequest, InferResponse

from modelplane_inference.serving import limits
from modelplane_inference.serving.binary_data import wants_binary_outputs


class Batch(list[Any]):
    """The items of one request, with how the answer must be encoded.

    gRPC answers always use raw output contents: tritonclient 2.73 cannot read BYTES from typed
    ``bytes_contents`` under numpy 2. REST answers are binary only when the client asked
    (``binary_data_output``, or ``binary_data`` on a requested output: ``binary_data``).
    """

    def __init__(
        self,
        items: Any = (),
        binary: bool = False,
        request_id: str | None = None,
        v1_inputs: list[dict[str, Any]] | None = None,
    ):
        super().__init__(items)
        self.binary = binary
        self.request_id = request_id
        self.v1_inputs = v1_inputs  # set for a V1 request: the rows to carry into the answer

    @classmethod
    def of(cls, request: InferRequest, items: list[Any]) -> Batch:
        # REST responses must carry an id (KServe validates it as a string).
        return cls(
            items,
            binary=wants_binary_outputs(request),
            request_id=request.id or uuid.uuid4().hex,
        )

    def like(self, items: list[Any]) -> Batch:
        return Batch(items, self.binary, self.request_id, self.v1_inputs)


def batch_of_columns(request: InferRequest, columns: dict[str, list[Any]]) -> Batch:
    """One item per index across the request's input tensors; they must agree on the count."""
    counts = {name: len(values) for name, values in columns.items()}
    if len(set(counts.values())) != 1:
        raise InvalidInput(f"inputs disagree on the number of items: {counts}")
    count = next(iter(counts.values()))
    return Batch.of(request, [{k: v[i] for k, v in columns.items()} for i in range(count)])


def v1_batch(payload: dict[str, Any]) -> Batch:
    """A V1 body (what KServe's InferenceGraph router posts): ``{"instances": [...]}`` from a
    client, or the previous step's ``{"predictions": [...]}``; each row is one item's fields,
    the image as base64 text."""
    rows = payload.get("instances", payload.get("predictions"))
    if not isinstance(rows, list) or not rows or not all(isinstance(r, dict) for r in rows):
        raise InvalidInput('V1 body must hold "instances" (or "predictions"): a list of objects')
    most = limits.active().max_batch
    if len(rows) > most:
        raise InvalidInput(f"{len(rows)} instances, at most {most} (--max-batch)")
    items = []
    for row in rows:
        item = dict(row)
        if isinstance(item.get("image"), str):
            item["image"] = _as_bytes("image", item["image"])
        items.append(item)
    return Batch(items, v1_inputs=[dict(r) for r in rows])


def v1_response(batch: Batch, results: list[dict[str, Any]]) -> dict[str, Any]:
    """``{"predictions": [...]}`` where each row carries the request's fields forward (image,
    features, ...) under the stage's results, so a ``$response`` step still has what it needs."""
    inputs = batch.v1_inputs or [{} for _ in results]
    return {"predictions": [{**row, **result} for row, result in zip(inputs, results, strict=True)]}


def find_input(request: InferRequest, name: str, required: bool = True) -> InferInput | None:
    for tensor in request.inputs:
        if tensor.name == name:
            return tensor
    if required:
        names = [t.name for t in request.inputs]
        raise InvalidInput(f"missing input {name!r} (request has {names})")
    return None


def bytes_items(request: InferRequest, name: str, required: bool = True) -> list[bytes] | None:
    """The elements of a BYTES input as raw bytes (base64 text is accepted for JSON clients)."""
    tensor = find_input(request, name, required)
    if tensor is None:
        return None
    if tensor.datatype != "BYTES":
        raise InvalidInput(f"input {name!r} must have datatype BYTES, got {tensor.datatype}")
    try:
        array = tensor.as_numpy()
    except (ValueError, TypeError):
        raise undecodable(tensor) from None  # the cause quotes the data; keep it out of logs
    items = [_as_bytes(name, v) for v in array.reshape(-1)]
    if not items:
        raise InvalidInput(f"input {name!r} is empty: send one element per item")
    most = limits.active().max_batch
    if len(items) > most:
        raise InvalidInput(f"input {name!r} has {len(items)} items, at most {most} (--max-batch)")
    return items


def undecodable(tensor: InferInput) -> InvalidInput:
    """The error for data that does not fit its datatype and shape. It names the tensor, never
    its values: KServe logs every error message, and request data must not reach the logs."""
    return InvalidInput(
        f"input {tensor.name!r}: data does not match datatype {tensor.datatype} "
        f"and shape {list(tensor.shape)}"
    )


def _as_bytes(name: str, value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        if name != "image":
            return value.encode("utf-8")
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise InvalidInput(
                f"input {name!r}: send binary data, or base64 text in JSON ({exc})"
            ) from exc
    raise InvalidInput(f"input {name!r}: unsupported element type {type(value).__name__}")


def json_items(request: InferRequest, name: str, required: bool = True) -> list[Any] | None:
    """The elements of a BYTES input parsed as JSON documents."""
    items = bytes_items(request, name, required)
    if items is None:
        return None
    parsed = []
    for index, raw in enumerate(items):
        try:
            parsed.append(json.loads(raw.decode("utf-8")))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InvalidInput(f"input {name!r} element {index} is not JSON: {exc}") from exc
    return parsed


def json_response(
    model_name: str, results: list[dict[str, Any]], batch: Batch, name: str = "result"
) -> InferResponse:
    """One BYTES output with a JSON document per item."""
    encoded = np.array(
        [json.dumps(r, ensure_ascii=False).encode("utf-8") for r in results], dtype=np.object_
    )
    output = InferOutput(name=name, shape=[len(results)], datatype="BYTES")
    output.set_data_from_numpy(encoded, binary_data=batch.binary)
    return InferResponse(
        model_name=model_name,
        infer_outputs=[output],
        response_id=batch.request_id,
        use_binary_outputs=batch.binary,
    )


def tensor_response(
    model_name: str, tensors: dict[str, np.ndarray], request: InferRequest
) -> InferResponse:
    """Plain tensors (the raw-model endpoint a transformer calls)."""
    from tritonclient.utils import np_to_triton_dtype

    binary = wants_binary_outputs(request)
    outputs = []
    for key, value in tensors.items():
        datatype = np_to_triton_dtype(value.dtype)
        out = InferOutput(name=key, shape=list(value.shape), datatype=datatype)
        out.set_data_from_numpy(value, binary_data=binary)
        outputs.append(out)
    return InferResponse(
        model_name=model_name,
        infer_outputs=outputs,
        response_id=request.id or uuid.uuid4().hex,
        use_binary_outputs=binary,
    )
