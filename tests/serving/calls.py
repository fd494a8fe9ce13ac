"""Calling a server exactly as a Triton user would: tritonclient.http and tritonclient.grpc.

Encoded images go as BYTES: raw bytes over gRPC; over REST as base64 text in the JSON body
(the JSON-only form a client without the binary extension sends; ``test_rest_binary`` covers
tritonclient.http's default binary form).
"""

from __future__ import annotations

import base64
import io
import json
import threading
from typing import Any

import numpy as np
import tritonclient.grpc as grpcclient
import tritonclient.http as httpclient
from PIL import Image
from serving.servers import Server
from tritonclient.utils import InferenceServerException

PROTOCOLS = ["http", "grpc"]


def bytes_input(protocol: str, name: str, value: bytes, image: bool = False) -> Any:
    if protocol == "grpc":
        tensor = grpcclient.InferInput(name, [1], "BYTES")
        tensor.set_data_from_numpy(np.array([value], dtype=np.object_))
        return tensor
    text = base64.b64encode(value) if image else value
    tensor = httpclient.InferInput(name, [1], "BYTES")
    tensor.set_data_from_numpy(np.array([text], dtype=np.object_), binary_data=False)
    return tensor


def infer_raw(server: Server, protocol: str, model: str, inputs: list[Any]) -> Any:
    client = server.grpc_client() if protocol == "grpc" else server.http_client()
    try:
        return client.infer(model, inputs)
    finally:
        client.close()


def call(
    server: Server, protocol: str, model: str, image: bytes | None = None, **json_inputs: Any
) -> dict[str, Any]:
    """One item through a pipeline or stage; the parsed JSON ``result``."""
    inputs = []
    if image is not None:
        inputs.append(bytes_input(protocol, "image", image, image=True))
    for name, value in json_inputs.items():
        inputs.append(bytes_input(protocol, name, json.dumps(value).encode()))
    raw = infer_raw(server, protocol, model, inputs).as_numpy("result").reshape(-1)[0]
    parsed: dict[str, Any] = json.loads(raw.decode() if isinstance(raw, bytes) else raw)
    return parsed


def call_at_once(
    server: Server, model: str, images: list[bytes], timeout_s: float = 120
) -> list[dict[str, Any]]:
    """One gRPC call per image, all released together from their own threads (a barrier), so
    they reach the server concurrently; the parsed results in order."""
    results: list[dict[str, Any]] = [{} for _ in images]
    start = threading.Barrier(len(images))

    def send(index: int) -> None:
        start.wait()
        results[index] = call(server, "grpc", model, image=images[index])

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(images))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout_s)
    return results


def call_error(server: Server, protocol: str, model: str, inputs: list[Any]) -> tuple[str, str]:
    """(status, message) of a request that must fail."""
    try:
        infer_raw(server, protocol, model, inputs)
    except InferenceServerException as exc:
        return str(exc.status()), str(exc.message())
    raise AssertionError(f"{model}: the request succeeded but should have failed")


def png(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array.astype(np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


def jpeg(array: np.ndarray, quality: int = 90) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array.astype(np.uint8)).save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def blank_frame(value: int = 128, size: int = 256) -> bytes:
    """A uniform frame: no edges at all (a lens cap, a blank wall)."""
    return png(np.full((size, size, 3), value, dtype=np.uint8))


def dog_photo(seed: int = 0) -> bytes:
    """PNG of a real beagle or pomeranian from the breed model's train pile (never a held-out
    photo; the two listed breeds ImageNet also has, so the surest quotes): the pet pipeline
    quotes a premium only for a breed it lists, never for a noise frame."""
    from modelplane_models import pet_photos

    photos = pet_photos.breed_photos("train", objects=False)
    listed = [p for p in photos if p.label in ("beagle", "pomeranian")]
    image = listed[seed % len(listed)].image()
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def textured_frame(
    seed: int = 0, size: int = 256, colour: tuple[int, int, int] = (128, 128, 128)
) -> bytes:
    """Mid-grey-ish frame full of sharp edges, tinted by ``colour``."""
    rng = np.random.default_rng(seed)
    noise = rng.integers(-60, 61, (size, size, 1))
    return png(np.clip(np.array(colour)[None, None, :] + noise, 0, 255))
