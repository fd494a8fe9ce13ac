"""The PP-OCRv4 text detector and recogniser, taken from the ``rapidocr-onnxruntime`` wheel.

Nothing is downloaded: the wheel ships both ONNX files and the recogniser's character
dictionary (ONNX metadata key ``character``). PaddleOCR models expect BGR input normalised to
[-1, 1]; to keep the platform's one image contract (RGB, [0, 1], normalisation inside the
graph) a three-node prefix (channel flip, ``x * 2 - 1``) is grafted in front of each graph,
and the result is checked against the untouched original before it is published.

The detector's map is cast to FP16, and the recogniser's graph gets a two-node suffix: it
returns, per time step, the best CTC class (``indices`` INT32 [N, T]) and its probability
(``scores`` FP32 [N, T]) instead of the softmax over all 6,625 classes. Greedy CTC decoding
needs nothing else, and a page's answer shrinks from megabytes (N x T x 6625 FP32) to
kilobytes: every answer fits a gRPC hop's default limit (KServe: 8 MiB).
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import yaml
from onnx import helper, numpy_helper

from . import export, log, repository
from .spec import ModelSpec

DETECTION, RECOGNITION = "text-detection", "text-recognition"
FILES = {DETECTION: "ch_PP-OCRv4_det_infer.onnx", RECOGNITION: "ch_PP-OCRv4_rec_infer.onnx"}
BATCHING = {DETECTION: (4, (2, 4)), RECOGNITION: (16, (8, 16))}
CTC_INDICES, CTC_SCORES = "indices", "scores"
_log = log.get("ocr")


def package_dir() -> Path:
    """``site-packages/rapidocr_onnxruntime`` without importing it (it would import OpenCV)."""
    spec = importlib.util.find_spec("rapidocr_onnxruntime")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("rapidocr-onnxruntime is not installed (modelplane[models])")
    return Path(next(iter(spec.submodule_search_locations)))


def rgb_unit_prefix(model: onnx.ModelProto) -> onnx.ModelProto:
    """Return ``model`` taking RGB in [0, 1] under the same input name (was BGR in [-1, 1])."""
    graph = model.graph
    original = graph.input[0].name
    inner = f"{original}_bgr_normalized"
    for node in graph.node:
        node.input[:] = [inner if name == original else name for name in node.input]
    graph.initializer.extend(
        [
            numpy_helper.from_array(np.array([2, 1, 0], np.int64), "modelplane_bgr_order"),
            numpy_helper.from_array(np.array(2.0, np.float32), "modelplane_two"),
            numpy_helper.from_array(np.array(1.0, np.float32), "modelplane_one"),
        ]
    )
    prefix = [
        helper.make_node("Gather", [original, "modelplane_bgr_order"], ["modelplane_bgr"], axis=1),
        helper.make_node("Mul", ["modelplane_bgr", "modelplane_two"], ["modelplane_scaled"]),
        helper.make_node("Sub", ["modelplane_scaled", "modelplane_one"], [inner]),
    ]
    nodes = [*prefix, *graph.node]
    del graph.node[:]
    graph.node.extend(nodes)
    onnx.checker.check_model(model)
    return model


def ctc_argmax_suffix(model: onnx.ModelProto) -> tuple[onnx.ModelProto, int]:
    """Return ``model`` answering (best class, its probability) per time step, and the number
    of CTC classes the softmax had. ArgMax and ReduceMax are plain ONNX ops that ORT and
    TensorRT both run; INT32 indices keep TensorRT away from INT64."""
    graph = model.graph
    softmax = graph.output[0]
    classes = softmax.type.tensor_type.shape.dim[-1].dim_value
    name = softmax.name
    graph.node.extend(
        [
            helper.make_node("ArgMax", [name], ["modelplane_argmax"], axis=-1, keepdims=0),
            helper.make_node(
                "Cast", ["modelplane_argmax"], [CTC_INDICES], to=onnx.TensorProto.INT32
            ),
            helper.make_node("ReduceMax", [name], [CTC_SCORES], axes=[-1], keepdims=0),
        ]
    )
    steps = ["batch", "steps"]
    del graph.output[:]
    graph.output.extend(
        [
            helper.make_tensor_value_info(CTC_INDICES, onnx.TensorProto.INT32, steps),
            helper.make_tensor_value_info(CTC_SCORES, onnx.TensorProto.FLOAT, steps),
        ]
    )
    onnx.checker.check_model(model)
    return model, classes


def fp16_map_suffix(model: onnx.ModelProto) -> onnx.ModelProto:
    """Return the detector answering its probability map in FP16 under the same name: half the
    bytes (a 2016 x 2016 page, the most ``max_side_len`` allows, is 8.1 MB, inside KServe's
    8 MiB gRPC limit), and a probability in [0, 1] loses under 5e-4 -- nothing next to the DB
    thresholds (0.3, 0.5)."""
    graph = model.graph
    output = graph.output[0]
    inner = f"{output.name}_fp32"
    for node in graph.node:
        node.output[:] = [inner if name == output.name else name for name in node.output]
    graph.node.append(helper.make_node("Cast", [inner], [output.name], to=onnx.TensorProto.FLOAT16))
    output.type.tensor_type.elem_type = onnx.TensorProto.FLOAT16
    onnx.checker.check_model(model)
    return model


def characters(model: onnx.ModelProto) -> list[str]:
    """The recogniser's dictionary (ONNX metadata ``character``), split as rapidocr splits it.

    CTC class ``i`` of the output is: 0 the blank, ``1..len`` entry ``i - 1`` of this list, and
    ``len + 1`` a space, exactly as rapidocr's ``CTCLabelDecode`` extends it.
    """
    meta = {p.key: p.value for p in model.metadata_props}
    dictionary: str = meta["character"]
    return dictionary.splitlines()


def original_outputs(original: Path, rgb: np.ndarray) -> list[np.ndarray]:
    """The wheel's untouched graph on RGB [0, 1] pixels (fed as it wants them: BGR [-1, 1]),
    reduced as the published graph reduces it: the detector's map as is, the recogniser's
    softmax to (argmax, max) per time step."""
    bgr = np.ascontiguousarray(rgb[:, ::-1] * 2.0 - 1.0)
    out = np.asarray(next(iter(export.run_onnx(original, {"x": bgr}).values())))
    if out.ndim == 3:  # recogniser: [N, T, classes]
        return [out.argmax(axis=-1).astype(np.int32), out.max(axis=-1)]
    return [out.astype(np.float16)]


def _check_graft(original: Path, grafted: Path, shape: tuple[int, ...]) -> float:
    """Grafted(RGB [0,1]) must equal original(BGR [-1,1]) on the same random image."""
    rgb = np.random.default_rng(0).random(shape, dtype=np.float32)
    want = original_outputs(original, rgb)
    got = list(export.run_onnx(grafted, {"x": rgb}).values())
    diff = max(
        float(np.abs(np.asarray(w, np.float64) - np.asarray(g, np.float64)).max())
        for w, g in zip(want, got, strict=True)
    )
    if diff > 1e-3:  # one FP16 step near 1.0 is 4.9e-4
        raise export.ParityError(f"{grafted}: grafted graph changes outputs by {diff:.3g}")
    return diff


@dataclass(frozen=True)
class OcrParams:
    """The wheel's file and version are the inputs of this build."""

    model: str
    wheel_version: str


def _rapidocr_config() -> dict[str, Any]:
    config: dict[str, Any] = yaml.safe_load((package_dir() / "config.yaml").read_text())
    return config


def _side_files(folder: Path, name: str, model: onnx.ModelProto, classes: int) -> dict[str, Any]:
    """``modelplane.json`` content (and, for the recogniser, ``labels.txt``)."""
    config = _rapidocr_config()
    if name == DETECTION:
        det = config["Det"]
        keys = (
            "limit_side_len",
            "limit_type",
            "thresh",
            "box_thresh",
            "max_candidates",
            "unclip_ratio",
            "use_dilation",
            "score_mode",
        )
        meta: dict[str, Any] = {
            "source": FILES[name],
            **{k: det[k] for k in keys},
            "size_multiple": 32,
        }
    else:
        labels = characters(model)
        if classes != len(labels) + 2:
            raise ValueError(f"{len(labels)} characters + blank + space != {classes} classes")
        repository.write_lines(folder / "labels.txt", labels)
        _, height, width = config["Rec"]["rec_img_shape"]
        meta = {
            "source": FILES[name],
            "input_height": height,
            "input_width": width,
            "pad_value": 0.5,
            "blank_index": 0,
            "space_index": classes - 1,
            "classes": classes,
            "outputs": {"indices": CTC_INDICES, "scores": CTC_SCORES},
        }
    meta["input"] = {"channel_order": "RGB", "mean": [0.0, 0.0, 0.0], "std": [1.0, 1.0, 1.0]}
    return meta


def build(folder: Path, params: OcrParams, data: Path | None) -> dict[str, Any]:
    """Graft the RGB prefix (and the recogniser's argmax suffix), verify both, write
    config.pbtxt from the graph, labels/settings."""
    if data is not None:
        raise ValueError(f"{params.model} is a pretrained PP-OCRv4 model (no --data)")
    source = package_dir() / "models" / FILES[params.model]
    max_batch, preferred = BATCHING[params.model]
    model = rgb_unit_prefix(onnx.load(str(source)))
    classes = 0
    if params.model == RECOGNITION:
        model, classes = ctc_argmax_suffix(model)
    else:
        model = fp16_map_suffix(model)
    spec = ModelSpec.from_onnx_model(
        model, params.model, max_batch, preferred_batch_sizes=preferred
    )
    target = repository.model_file(folder, spec)
    target.parent.mkdir(parents=True)
    onnx.save(model, str(target))
    is_det = params.model == DETECTION
    diff = _check_graft(source, target, (1, 3, 64, 96) if is_det else (2, 3, 48, 160))
    repository.write_config(folder, spec)
    meta = _side_files(folder, params.model, model, classes)
    repository.write_json(folder / repository.META_FILE, meta)
    log.event(_log, "copied", model=params.model, source=str(source), prefix_max_abs=diff)
    return {"prefix_parity_max_abs": diff, "source": FILES[params.model]}


def _wheel_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("rapidocr-onnxruntime")
    except PackageNotFoundError:
        return "missing"


BUILDERS = tuple(
    repository.Builder(
        name=name, sources=("ocr",), params=OcrParams(name, _wheel_version()), build=build
    )
    for name in (DETECTION, RECOGNITION)
)
