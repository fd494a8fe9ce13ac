"""Triton's binary tensor data extension for REST, as Triton reads it.

A request with the extension is a JSON header (``Inference-Header-Content-Length`` bytes) then
the raw tensors, back to back, in the order of the header's inputs; each binary input carries
``parameters.binary_data_size``. Numeric tensors are little-endian, row-major; a BYTES tensor
is each element as a 4-byte little-endian length followed by that many bytes. The answer is
binary when the request says ``parameters.binary_data_output`` or a requested output says
``binary_data`` (what ``tritonclient.http`` sends by default).

KServe 0.21 reads such a body and then converts every binary tensor to JSON values: BYTES
elements are decoded as UTF-8 (an encoded image is not text: 500) and numeric tensors become
Python lists. Here the tensors stay numpy arrays, BYTES elements stay ``bytes``, and a body whose
sizes do not add up is a 400 that names the input.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import orjson
from kserve.errors import InvalidInput
from kserve.protocol.infer_type import InferInput, InferRequest, RequestedOutput
from kserve.utils.numpy_codec import to_np_dtype

HEADER = "inference-header-content-length"  # lower case: Starlette's header keys


def parse_request(body: bytes, headers: dict[str, str], model_name: str) -> InferRequest:
    """A REST V2 request body with binary tensors -> ``InferRequest`` over numpy arrays."""
    declared = headers.get(HEADER, "")
    if not declared.isdigit() or not 0 < int(declared) <= len(body):
        raise InvalidInput(
            f"binary request: header {HEADER} must be the JSON length (1..{len(body)}), "
            f"got {declared!r}"
        )
    json_length = int(declared)
    try:
        header = orjson.loads(body[:json_length])
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(f"binary request: the JSON header is not JSON: {exc}") from None
    if not isinstance(header, dict) or not isinstance(header.get("inputs"), list):
        raise InvalidInput('binary request: the JSON header must hold "inputs": [...]')
    view, offset, inputs = memoryview(body), json_length, []
    for spec in header["inputs"]:
        tensor, offset = _input(spec, view, offset)
        inputs.append(tensor)
    if offset != len(body):
        raise InvalidInput(
            f"binary request: {len(body) - offset} bytes after the last input's binary data"
        )
    outputs = header.get("outputs")
    return InferRequest(
        model_name=model_name,
        infer_inputs=inputs,
        request_id=header.get("id"),
        parameters=header.get("parameters"),
        request_outputs=[RequestedOutput(o["name"], o.get("parameters")) for o in outputs]
        if isinstance(outputs, list)
        else None,
    )


def _input(spec: Any, view: memoryview, offset: int) -> tuple[InferInput, int]:
    """One input of the header: JSON ``data`` as is, or its binary part read at ``offset``."""
    if not isinstance(spec, dict) or not {"name", "shape", "datatype"} <= spec.keys():
        raise InvalidInput('binary request: each input needs "name", "shape" and "datatype"')
    name, shape, datatype = str(spec["name"]), spec["shape"], str(spec["datatype"]).upper()
    params = dict(spec.get("parameters") or {})
    if "data" in spec:
        return InferInput(name, shape, datatype, data=spec["data"], parameters=params), offset
    size = params.pop("binary_data_size", None)
    if not isinstance(size, int) or size < 0 or offset + size > len(view):
        raise InvalidInput(
            f"input {name!r}: binary_data_size {size!r} does not fit the "
            f"{len(view) - offset} bytes left in the body"
        )
    if not isinstance(shape, list) or not all(isinstance(d, int) and d >= 0 for d in shape):
        raise InvalidInput(f"input {name!r}: shape must be a list of sizes, got {shape!r}")
    array = tensor_from_bytes(name, datatype, shape, view[offset : offset + size])
    return InferInput(name, shape, datatype, data=array, parameters=params or None), offset + size


def tensor_from_bytes(name: str, datatype: str, shape: list[int], raw: memoryview) -> np.ndarray:
    """The binary form of one tensor -> a numpy array of ``shape`` (BYTES: object of bytes)."""
    count = math.prod(shape)
    if datatype == "BYTES":
        elements = bytes_elements(name, raw)
        if len(elements) != count:
            raise InvalidInput(f"input {name!r}: {len(elements)} BYTES elements for shape {shape}")
        array = np.empty(count, dtype=np.object_)
        array[:] = elements
        return array.reshape(shape)
    dtype = to_np_dtype(datatype)
    if dtype is None:
        raise InvalidInput(f"input {name!r}: unknown datatype {datatype}")
    itemsize = np.dtype(dtype).itemsize
    if len(raw) != count * itemsize:
        raise InvalidInput(
            f"input {name!r}: {len(raw)} bytes of binary data for {datatype} shape {shape} "
            f"({count * itemsize} expected)"
        )
    return np.frombuffer(raw, dtype=np.dtype(dtype).newbyteorder("<")).reshape(shape)


def bytes_elements(name: str, raw: memoryview) -> list[bytes]:
    """Split a BYTES tensor's binary form: 4-byte little-endian length, then the element."""
    elements, at = [], 0
    while at < len(raw):
        if at + 4 > len(raw):
            raise InvalidInput(f"input {name!r}: BYTES element length cut short at byte {at}")
        length = int.from_bytes(raw[at : at + 4], "little")
        if at + 4 + length > len(raw):
            raise InvalidInput(
                f"input {name!r}: BYTES element of {length} bytes runs past the tensor's data"
            )
        elements.append(bytes(raw[at + 4 : at + 4 + length]))
        at += 4 + length
    return elements


def wants_binary_outputs(request: InferRequest) -> bool:
    """Whether the answer's tensors go binary: always over gRPC (raw contents); over REST when
    the request asks for it, globally or on a requested output (tritonclient.http's default)."""
    if request.from_grpc or request.use_binary_outputs:
        return True
    return any(bool(o.binary_data) for o in request.request_outputs or [])
