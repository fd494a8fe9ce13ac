"""The stage base class: one ``kserve.Model`` per ModelDeployment.

A stage is pre-processing, the model (through a ``Backend``), and post-processing. KServe calls
``preprocess -> predict -> postprocess`` for a wire request; pipelines call :meth:`Stage.run`
directly with a Python dict, so stage-to-stage traffic never leaves the process
(docs/architecture.md: a decoded image tensor costs 640 ms over REST).

Over the wire a stage speaks the Open Inference Protocol v2 (BYTES in, JSON ``result`` out) and
KServe's V1 (``{"instances": [...]}`` in, ``{"predictions": [...]}`` out, each row carrying the
request's fields forward): V1 is what KServe's InferenceGraph router posts from step to step.

Item dicts: keys are the wire names (``image`` bytes, ``features`` dict, ``lines`` list, ...).
A stage's output dict carries its results plus what later steps need; keys starting with ``_``
(decoded pixels, forwarded features) are private and never serialised.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, TypeVar

import kserve
from kserve.errors import InvalidInput
from kserve.protocol.infer_type import InferRequest, InferResponse
from modelplane_api.parameters import StageParameters, parse_parameters
from PIL import Image

from modelplane_inference.errors import ClientError
from modelplane_inference.errors import StageInputError as StageInputError  # stages import it here
from modelplane_inference.runtime.backends import Backend
from modelplane_inference.serving import protocol
from modelplane_inference.serving.metrics import REQUEST_DURATION, REQUEST_ERRORS, REQUESTS
from modelplane_inference.stages.images import DEFAULT_MAX_PIXELS, decode_image

log = logging.getLogger(__name__)
Item = dict[str, Any]
BackendFactory = Callable[[], Backend]
T = TypeVar("T")


# The request's own fault: KServe's protocol errors and the tower's 4xx family (errors.py).
CLIENT_ERRORS = (InvalidInput, ClientError)


def public(item: Item) -> Item:
    """The JSON-safe view of a stage output: private ``_`` keys dropped."""
    return {k: v for k, v in item.items() if not k.startswith("_")}


class InstrumentedModel(kserve.Model):  # type: ignore[misc]
    """A KServe model whose every call is counted and timed under its name (stages, pipelines,
    raw repository models alike)."""

    async def __call__(
        self, body: Any, headers: dict[str, str] | None = None, verb: Any = None
    ) -> Any:
        """KServe's call, timed and counted; client faults become 400 naming the problem."""
        return await instrumented(self.name, super().__call__(body, headers))


class WireModel(InstrumentedModel):
    """The wire side a stage and a pipeline share: a v2 request (V1 where ``speaks_v1``) read
    into a batch of item dicts, ``run`` on each, the public part of each answer as JSON
    ``result``. Subclasses set the inputs and implement ``run``."""

    wire_inputs: ClassVar[tuple[str, ...]] = ("image",)
    json_inputs: ClassVar[frozenset[str]] = frozenset({"features", "lines", "boxes"})
    first_input_required: ClassVar[bool] = True
    # KServe's V1 is what an InferenceGraph router posts from step to step (stages only).
    speaks_v1: ClassVar[bool] = True

    async def run(self, item: Item) -> Item:
        """Process one item in-process (a stage's own work; a pipeline's steps)."""
        raise NotImplementedError

    async def preprocess(
        self, payload: Any, headers: dict[str, str] | None = None
    ) -> protocol.Batch:
        if isinstance(payload, dict) and self.speaks_v1:
            return protocol.v1_batch(payload)
        if not isinstance(payload, InferRequest):
            raise InvalidInput("use the Open Inference Protocol v2: POST /v2/models/<name>/infer")
        return protocol.batch_of_columns(payload, self.columns_of(payload))

    def columns_of(self, payload: InferRequest) -> dict[str, list[Any]]:
        """The request's items by input name, in ``wire_inputs`` order; the first one is
        required when ``first_input_required``, the others optional."""
        columns: dict[str, list[Any]] = {}
        for index, name in enumerate(self.wire_inputs):
            reader = protocol.json_items if name in self.json_inputs else protocol.bytes_items
            values = reader(payload, name, required=index == 0 and self.first_input_required)
            if values is not None:
                columns[name] = values
        return columns

    async def predict(
        self,
        payload: protocol.Batch,
        headers: dict[str, str] | None = None,
        response_headers: dict[str, str] | None = None,
    ) -> protocol.Batch:
        if len(payload) == 1:  # the usual request: no task and gather for one item
            return payload.like([await self.run(payload[0])])
        return payload.like(list(await asyncio.gather(*(self.run(item) for item in payload))))

    async def postprocess(
        self,
        result: protocol.Batch,
        headers: dict[str, str] | None = None,
        response_headers: dict[str, str] | None = None,
    ) -> InferResponse | dict[str, Any]:
        if result.v1_inputs is not None:
            return protocol.v1_response(result, [public(r) for r in result])
        return protocol.json_response(self.name, [public(r) for r in result], result)


class Stage(WireModel):
    """Base of every stage; subclasses set ``stage``, ``wire_inputs`` and implement ``run``."""

    stage: ClassVar[str] = ""
    needs_model: ClassVar[bool] = True

    def __init__(
        self,
        name: str,
        params: StageParameters | Mapping[str, str] | None = None,
        backend: BackendFactory | None = None,
    ) -> None:
        """``params``: the typed set (``DeploymentSpec.stage_params``), or ``--param`` strings,
        which the contract converts and checks (``SpecError`` for a value the stage cannot take)."""
        super().__init__(name)
        self.stage_params = (
            params
            if isinstance(params, StageParameters)
            else parse_parameters(self.stage, params or {})
        )
        self._backend_factory = backend
        self._backend: Backend | None = None
        self.max_pixels = self.stage_params.max_pixels or DEFAULT_MAX_PIXELS

    @property
    def backend(self) -> Backend:
        if self._backend is None:
            raise RuntimeError(f"stage {self.name} has no model backend")
        return self._backend

    def load(self) -> bool:
        """Create the backend (loads the ONNX session) and the stage's own resources."""
        if self._backend_factory is not None and self.uses_model():
            self._backend = self._backend_factory()
        self.setup()
        self.ready = True
        return True

    def uses_model(self) -> bool:
        """Whether this configuration calls a model (the Tesseract recognizer does not)."""
        return self.needs_model

    def setup(self) -> None:
        """Hook: read labels and settings once the backend exists."""

    def stop(self) -> None:
        if self._backend is not None:
            self._backend.close()
        super().stop()


async def instrumented(name: str, call: Any) -> Any:
    """Await a model call with request count, latency and error metrics under ``name``."""
    REQUESTS.labels(model=name).inc()
    started = time.perf_counter()
    try:
        return await call
    except CLIENT_ERRORS as exc:
        REQUEST_ERRORS.labels(model=name, reason="invalid_input").inc()
        log.info("rejected request", extra={"model": name, "error": str(exc)})
        raise  # answered by errors.answer (serving/kserve_server.py), KServe's own by KServe
    except Exception:
        REQUEST_ERRORS.labels(model=name, reason="internal").inc()
        raise
    finally:
        REQUEST_DURATION.labels(model=name).observe(time.perf_counter() - started)


async def off_loop(fn: Callable[..., T], *args: Any) -> T:
    """Run CPU-bound pre/post-processing in the server's thread pool: Pillow, OpenCV and numpy
    release the GIL, so concurrent requests are decoded in parallel and reach the batcher
    together instead of one by one behind a blocked event loop."""
    return await asyncio.get_running_loop().run_in_executor(None, functools.partial(fn, *args))


def image_of(item: Item, max_pixels: int, size_hint: tuple[int, int] | None = None) -> Image.Image:
    """The item's decoded image, decoded once per item and kept under ``_pil``; with a
    ``size_hint`` (see ``decode_image``) under its own key, so a full-resolution consumer (OCR)
    never gets a reduced one."""
    key = "_pil" if size_hint is None else f"_pil_{size_hint[0]}x{size_hint[1]}"
    if key not in item:
        if "image" not in item:
            raise StageInputError("missing input 'image' (encoded JPEG/PNG bytes)")
        item[key] = decode_image(item["image"], max_pixels, size_hint)
    image: Image.Image = item[key]
    return image
