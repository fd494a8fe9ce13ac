"""Model repositories for the serving tests, in Triton layout.

- The OCR models are the real PP-OCRv4 ONNX files shipped in the ``rapidocr-onnxruntime`` wheel.
- ``quality-gate``, ``damage-severity``, ``breed`` and ``premium`` are small but real ONNX
  graphs built here with ``onnx.helper`` to the repository contract (same tensor names, shapes
  and dtypes as the trained models), each computing a documented rule, so protocol and
  pipeline tests know what the answer must be from the input they built. When
  ``make models`` has produced ``models/repository``, the end-to-end tests use that instead.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import rapidocr_onnxruntime
from google.protobuf import text_format
from modelplane_models import registry
from modelplane_models.ocr import ctc_argmax_suffix, fp16_map_suffix
from onnx import TensorProto, helper, numpy_helper
from tritonclient.grpc import model_config_pb2 as pb

WHEEL_MODELS = Path(rapidocr_onnxruntime.__file__).parent / "models"
GATE_SIZE = 128
BREED_SIZE = 64
BREEDS = ["irish-setter", "border-collie", "blue-heeler"]  # red, green, blue dominant
REGIONS = ["seoul", "busan", "jeju"]
GATE_REASONS = ["blurred", "not-a-car", "partial"]
# Tiny gate rule: sharpness = mean |horizontal pixel difference|; blurred below 0.02.
# distance = |mean brightness - 0.5| * 4; not-a-car above 1.0 (very dark or very bright frames).
SHARPNESS_MIN = 0.02
DISTANCE_MAX = 1.0
# Tiny premium rule (KRW/year): BASE[breed] + 20000 * age + 1000 * weight + 5000 * male
#                               - 3000 * neutered + REGION_ADD[region].
PREMIUM_BASE = [300000.0, 250000.0, 280000.0]
REGION_ADD = [50000.0, 20000.0, 0.0]

DTYPES = {
    "FP32": pb.TYPE_FP32,
    "FP16": pb.TYPE_FP16,
    "INT32": pb.TYPE_INT32,
    "INT64": pb.TYPE_INT64,
    "BOOL": pb.TYPE_BOOL,
}


def write_config(
    folder: Path,
    name: str,
    max_batch: int,
    inputs: list[tuple[str, str, list[int]]],
    outputs: list[tuple[str, str, list[int]]],
    preferred: list[int] | None = None,
    delay_us: int = 2000,
) -> None:
    """config.pbtxt written with Triton's own protobuf schema, as the models package does."""
    cfg = pb.ModelConfig(name=name, platform="onnxruntime_onnx", max_batch_size=max_batch)
    for tensors, field in ((inputs, cfg.input), (outputs, cfg.output)):
        for tname, dtype, dims in tensors:
            field.add(name=tname, data_type=DTYPES[dtype], dims=dims)
    if max_batch > 0:
        cfg.dynamic_batching.preferred_batch_size.extend(preferred or [])
        cfg.dynamic_batching.max_queue_delay_microseconds = delay_us
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.pbtxt").write_text(text_format.MessageToString(cfg))


def _save(model: onnx.ModelProto, folder: Path) -> None:
    model.opset_import[0].version = 18
    model.ir_version = 9
    onnx.checker.check_model(model)
    (folder / "1").mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(folder / "1" / "model.onnx"))


def add_ocr(repo: Path) -> None:
    """The wheel's graphs with their original BGR [-1, 1] input, and the published outputs
    (FP16 map; CTC indices and scores), so every answer fits KServe's 8 MiB as in a cluster."""
    det, rec = repo / "text-detection", repo / "text-recognition"
    for folder, file in ((det, "ch_PP-OCRv4_det_infer.onnx"), (rec, "ch_PP-OCRv4_rec_infer.onnx")):
        (folder / "1").mkdir(parents=True, exist_ok=True)
        model = onnx.load(str(WHEEL_MODELS / file))
        if folder == rec:
            model, _ = ctc_argmax_suffix(model)
        else:
            model = fp16_map_suffix(model)
        onnx.save(model, str(folder / "1" / "model.onnx"))
    session = ort.InferenceSession(str(rec / "1" / "model.onnx"))
    characters = session.get_modelmeta().custom_metadata_map["character"]
    (rec / "labels.txt").write_text(characters.removesuffix("\n") + "\n", encoding="utf-8")
    # The wheel's files are not wrapped to the repository contract (RGB in [0, 1]): say how
    # they want their pixels, as a model folder may.
    raw = {"input": {"channel_order": "BGR", "mean": [0.5] * 3, "std": [0.5] * 3}}
    (det / "modelplane.json").write_text(json.dumps(raw))
    (rec / "modelplane.json").write_text(json.dumps({**raw, "pad_value": 0.0}))
    det_out = ort.InferenceSession(str(det / "1" / "model.onnx")).get_outputs()[0].name
    write_config(
        det,
        "text-detection",
        4,
        [("x", "FP32", [3, -1, -1])],
        [(det_out, "FP16", [1, -1, -1])],
        [2, 4],
        5000,
    )
    write_config(
        rec,
        "text-recognition",
        32,
        [("x", "FP32", [3, 48, -1])],
        [("indices", "INT32", [-1]), ("scores", "FP32", [-1])],
        [8, 16, 32],
        2000,
    )


def add_gate(repo: Path) -> None:
    x = helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 3, GATE_SIZE, GATE_SIZE])
    outs = [
        helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["N", 3]),
        helper.make_tensor_value_info("distance", TensorProto.FLOAT, ["N", 1]),
        helper.make_tensor_value_info("sharpness", TensorProto.FLOAT, ["N", 1]),
        helper.make_tensor_value_info("reasons", TensorProto.BOOL, ["N", 3]),
        helper.make_tensor_value_info("estimable", TensorProto.BOOL, ["N", 1]),
    ]
    c = {
        k: numpy_helper.from_array(np.array(v), k)
        for k, v in {
            "s0": [0],
            "s1": [1],
            "end": [GATE_SIZE],
            "endm1": [GATE_SIZE - 1],
            "ax3": [3],
            "ax23": [2, 3],
            "ax123": [1, 2, 3],
            "half": np.float32(0.5),
            "four": np.float32(4.0),
            "smin": np.float32(SHARPNESS_MIN),
            "dmax": np.float32(DISTANCE_MAX),
            "no": np.zeros((1, 1), dtype=bool),
            "noshape": [-1, 1],
        }.items()
    }
    nodes = [
        helper.make_node("ReduceMean", ["image", "ax23"], ["embedding"], keepdims=0),
        helper.make_node("Slice", ["image", "s1", "end", "ax3"], ["right"]),
        helper.make_node("Slice", ["image", "s0", "endm1", "ax3"], ["left"]),
        helper.make_node("Sub", ["right", "left"], ["diff"]),
        helper.make_node("Abs", ["diff"], ["adiff"]),
        helper.make_node("ReduceMean", ["adiff", "ax123"], ["sharp1"], keepdims=0),
        helper.make_node("Reshape", ["sharp1", "noshape"], ["sharpness"]),
        helper.make_node("ReduceMean", ["image", "ax123"], ["bright"], keepdims=0),
        helper.make_node("Sub", ["bright", "half"], ["centred"]),
        helper.make_node("Abs", ["centred"], ["acentred"]),
        helper.make_node("Mul", ["acentred", "four"], ["dist1"]),
        helper.make_node("Reshape", ["dist1", "noshape"], ["distance"]),
        helper.make_node("Less", ["sharpness", "smin"], ["blurred"]),
        helper.make_node("Greater", ["distance", "dmax"], ["notcar"]),
        helper.make_node("And", ["blurred", "no"], ["partial0"]),
        helper.make_node("Concat", ["blurred", "notcar", "partial0"], ["reasons"], axis=1),
        helper.make_node("Or", ["blurred", "notcar"], ["rejected"]),
        helper.make_node("Not", ["rejected"], ["estimable"]),
    ]
    graph = helper.make_graph(nodes, "quality-gate", [x], outs, list(c.values()))
    folder = repo / "quality-gate"
    _save(helper.make_model(graph), folder)
    (folder / "labels.txt").write_text("\n".join(GATE_REASONS) + "\n")
    write_config(
        folder,
        "quality-gate",
        16,
        [("image", "FP32", [3, GATE_SIZE, GATE_SIZE])],
        [
            ("embedding", "FP32", [3]),
            ("distance", "FP32", [1]),
            ("sharpness", "FP32", [1]),
            ("reasons", "BOOL", [3]),
            ("estimable", "BOOL", [1]),
        ],
        [8, 16],
        2000,
    )


def add_breed(repo: Path) -> None:
    add_colour_classifier(repo, "breed", BREED_SIZE, BREEDS)


def add_severity(repo: Path) -> None:
    """``damage-severity`` with the breed model's colour rule: red, green, blue dominant name
    minor, moderate, severe."""
    add_colour_classifier(repo, "damage-severity", GATE_SIZE, ["minor", "moderate", "severe"])


def add_colour_classifier(repo: Path, name: str, size: int, labels: list[str]) -> None:
    """An image classifier over three labels: softmax of 10 x the mean of each RGB channel."""
    x = helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 3, size, size])
    y = helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", len(labels)])
    weights = numpy_helper.from_array((np.eye(3, dtype=np.float32) * 10.0), "w")
    axes = numpy_helper.from_array(np.array([2, 3]), "ax")
    nodes = [
        helper.make_node("ReduceMean", ["image", "ax"], ["colour"], keepdims=0),
        helper.make_node("MatMul", ["colour", "w"], ["logits"]),
        helper.make_node("Softmax", ["logits"], ["probabilities"], axis=1),
    ]
    folder = repo / name
    _save(helper.make_model(helper.make_graph(nodes, name, [x], [y], [weights, axes])), folder)
    (folder / "labels.txt").write_text("\n".join(labels) + "\n")
    write_config(
        folder,
        name,
        16,
        [("image", "FP32", [3, size, size])],
        [("probabilities", "FP32", [len(labels)])],
        [8, 16],
        2000,
    )


def add_premium(repo: Path) -> None:
    names = [
        ("breed", TensorProto.INT64),
        ("age_years", TensorProto.FLOAT),
        ("weight_kg", TensorProto.FLOAT),
        ("sex", TensorProto.INT64),
        ("neutered", TensorProto.INT64),
        ("region", TensorProto.INT64),
    ]
    inputs = [helper.make_tensor_value_info(n, t, ["N", 1]) for n, t in names]
    out = helper.make_tensor_value_info("premium", TensorProto.FLOAT, ["N", 1])
    consts = [
        numpy_helper.from_array(np.array(v, dtype=np.float32), k)
        for k, v in {
            "base": PREMIUM_BASE,
            "radd": REGION_ADD,
            "k_age": 20000.0,
            "k_w": 1000.0,
            "k_sex": 5000.0,
            "k_neut": -3000.0,
        }.items()
    ]
    nodes = [
        helper.make_node("Gather", ["base", "breed"], ["b"]),
        helper.make_node("Gather", ["radd", "region"], ["r"]),
        helper.make_node("Cast", ["sex"], ["sexf"], to=TensorProto.FLOAT),
        helper.make_node("Cast", ["neutered"], ["neutf"], to=TensorProto.FLOAT),
        helper.make_node("Mul", ["age_years", "k_age"], ["a"]),
        helper.make_node("Mul", ["weight_kg", "k_w"], ["w"]),
        helper.make_node("Mul", ["sexf", "k_sex"], ["s"]),
        helper.make_node("Mul", ["neutf", "k_neut"], ["n"]),
        helper.make_node("Sum", ["b", "r", "a", "w", "s", "n"], ["premium"]),
    ]
    folder = repo / "premium"
    _save(helper.make_model(helper.make_graph(nodes, "premium", inputs, [out], consts)), folder)
    (folder / "regions.txt").write_text("\n".join(REGIONS) + "\n")
    write_config(
        folder,
        "premium",
        64,
        [(n, "INT64" if t == TensorProto.INT64 else "FP32", [1]) for n, t in names],
        [("premium", "FP32", [1])],
        [],
        500,
    )


def expected_premium(
    breed: int, age: float, weight: float, male: bool, neutered: bool, region: int
) -> float:
    """The documented tiny-premium rule, written out independently of the graph."""
    return (
        PREMIUM_BASE[breed]
        + 20000 * age
        + 1000 * weight
        + 5000 * male
        - 3000 * neutered
        + REGION_ADD[region]
    )


def build_test_repository(repo: Path) -> Path:
    add_ocr(repo)
    add_gate(repo)
    add_severity(repo)
    add_breed(repo)
    add_premium(repo)
    return repo


def is_complete(repo: Path) -> bool:
    models = [builder.name for builder in registry.BUILDERS]
    return all(
        (repo / m / "config.pbtxt").is_file() and any((repo / m).glob("*/model.onnx"))
        for m in models
    )
