"""ONNX export driven by a :class:`~modelplane_models.spec.ModelSpec`, checked by ONNX Runtime.

A model is only published if ONNX Runtime, the engine that stands in for Triton locally, gives
the same outputs as torch on a batch whose size differs from the export example (which proves
the batch axis is really dynamic).
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
import torch
from numpy.typing import NDArray

from .spec import ModelSpec

OPSET = 17


class ParityError(AssertionError):
    """ONNX Runtime and torch disagree beyond the tolerance: the export is not published."""


def export_onnx(
    module: torch.nn.Module, spec: ModelSpec, example: Mapping[str, torch.Tensor], path: Path
) -> None:
    """Export ``module`` with the spec's tensor names and dynamic axes to ``path``.

    The TorchScript exporter (``dynamo=False``) is used on purpose: it maps ``dynamic_axes``
    one-to-one onto the spec and needs no extra package; the graphs here are plain CNNs/MLPs.
    """
    module.eval()
    args = tuple(example[name] for name in spec.input_names)
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(
            module,
            args,
            buffer,  # type: ignore[arg-type]
            dynamo=False,
            opset_version=OPSET,
            input_names=spec.input_names,
            output_names=spec.output_names,
            dynamic_axes=spec.dynamic_axes(),
        )
    model = _declare_shapes(onnx.load_from_string(buffer.getvalue()), spec)
    onnx.checker.check_model(model, full_check=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(model.SerializeToString())


def _declare_shapes(model: onnx.ModelProto, spec: ModelSpec) -> onnx.ModelProto:
    """Write the spec's dims onto the graph's inputs/outputs (the exporter may leave a fixed
    dim symbolic), then let strict shape inference prove the graph agrees with them."""
    axes = spec.dynamic_axes()
    tensors = {t.name: t for t in (*spec.inputs, *spec.outputs)}
    for value in (*model.graph.input, *model.graph.output):
        if value.name not in tensors:
            continue
        shape = value.type.tensor_type.shape
        del shape.dim[:]
        for index, size in enumerate((0, *tensors[value.name].dims)):
            dim = shape.dim.add()
            if index in axes[value.name]:
                dim.dim_param = axes[value.name][index]
            else:
                dim.dim_value = size
    return onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True)


def run_onnx(path: Path, feeds: Mapping[str, NDArray[np.generic]]) -> dict[str, NDArray[Any]]:
    """Run an ONNX file on CPU with ONNX Runtime; outputs by name."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(names, dict(feeds)), strict=True))


def run_batched(
    path: Path, name: str, images: NDArray[np.uint8], batch: int = 32
) -> dict[str, NDArray[Any]]:
    """:func:`run_onnx` over uint8 images in batches, scaled to [0, 1] batch by batch (a
    held-out set at 224 px in float32 would not fit in memory at once)."""
    parts = [
        run_onnx(path, {name: images[i : i + batch].astype(np.float32) / np.float32(255.0)})
        for i in range(0, len(images), batch)
    ]
    return {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}


def run_torch(
    module: torch.nn.Module, spec: ModelSpec, feeds: Mapping[str, NDArray[np.generic]]
) -> dict[str, NDArray[Any]]:
    """Run the torch module on the same feeds; outputs named as in the spec."""
    module.eval()
    with torch.no_grad():
        result = module(*(torch.from_numpy(np.asarray(feeds[n])) for n in spec.input_names))
    outputs = result if isinstance(result, tuple) else (result,)
    return {n: o.numpy() for n, o in zip(spec.output_names, outputs, strict=True)}


def check_parity(
    module: torch.nn.Module,
    spec: ModelSpec,
    path: Path,
    feeds: Mapping[str, NDArray[np.generic]],
    atol: float = 1e-4,
    rtol: float = 1e-4,
) -> dict[str, float]:
    """Compare ONNX Runtime with torch output by output; raise :class:`ParityError` if off.

    Float outputs must match within ``atol + rtol*|torch|``; boolean outputs (decisions) must
    match exactly. Returns the worst absolute difference per output (0/1 for booleans).
    """
    expected, actual = run_torch(module, spec, feeds), run_onnx(path, feeds)
    report: dict[str, float] = {}
    for name in spec.output_names:
        want, got = np.asarray(expected[name]), np.asarray(actual[name])
        if want.shape != got.shape:
            raise ParityError(f"{spec.name}/{name}: shape {got.shape} != torch {want.shape}")
        if want.dtype == np.bool_:
            report[name] = float(np.any(want != got))
            if report[name]:
                raise ParityError(f"{spec.name}/{name}: boolean outputs differ")
            continue
        diff = np.abs(want.astype(np.float64) - got.astype(np.float64))
        report[name] = float(diff.max(initial=0.0))
        if np.any(diff > atol + rtol * np.abs(want)):
            raise ParityError(f"{spec.name}/{name}: max |onnx - torch| = {report[name]:.3g}")
    return report
