"""OCR pre- and post-processing around the PP-OCRv4 detector (DBNet) and recognizer (CTC).

The numerical parts are rapidocr's own classes (``DBPostProcess`` for the DB probability map,
``CTCLabelDecode`` for the CTC argmax decode), so boxes and text match what the upstream pipeline
produces from the same model outputs. What is ours is the tensor layout around the model runner:
detection resizing to multiples of 32, perspective crops, width-bucketed recognition batches (so
concurrent documents can share a batch), and reading order.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
from modelplane_api.parameters import TextDetectionParameters
from rapidocr_onnxruntime.ch_ppocr_det.utils import DBPostProcess
from rapidocr_onnxruntime.ch_ppocr_rec.utils import CTCLabelDecode

Box = np.ndarray  # 4x2 float32: top-left, top-right, bottom-right, bottom-left


@dataclass(frozen=True)
class Normalization:
    """How a model expects pixels: channel order and (x/255 - mean) / std per channel.

    The default is the repository contract: RGB in [0, 1], normalisation inside the graph, so a
    transformer that cannot read the model folder still feeds the models right. A model that
    wants otherwise says so in its ``modelplane.json``; the unwrapped PP-OCR files want BGR with
    mean = std = 0.5 and zero padding (``"input": {"channel_order": "BGR", ...}``).
    """

    mean: tuple[float, float, float] = (0.0, 0.0, 0.0)
    std: tuple[float, float, float] = (1.0, 1.0, 1.0)
    bgr: bool = False
    pad: float = 0.5  # recognition padding in the model's input space: grey, as PP-OCR pads

    @classmethod
    def from_extra(cls, extra: dict[str, Any]) -> Normalization:
        spec = extra.get("input", {})
        return cls(
            mean=tuple(spec.get("mean", cls.mean)),
            std=tuple(spec.get("std", cls.std)),
            bgr=str(spec.get("channel_order", "RGB")).upper() == "BGR",
            pad=float(extra.get("pad_value", cls.pad)),
        )

    def apply(self, bgr_hwc: np.ndarray) -> np.ndarray:
        """uint8 HWC BGR -> float32 CHW normalised, in the model's channel order."""
        pixels = bgr_hwc if self.bgr else bgr_hwc[:, :, ::-1]
        out = (pixels.astype(np.float32) / 255.0 - np.array(self.mean, np.float32)) / np.array(
            self.std, np.float32
        )
        return np.ascontiguousarray(out.transpose(2, 0, 1))


@dataclass(frozen=True)
class DetectionSettings:
    """DB detection knobs, rapidocr's defaults; each can be set with ``spec.parameters``
    (``TextDetectionParameters``)."""

    limit_side_len: int = 736
    max_side_len: int = 2000
    thresh: float = 0.3
    box_thresh: float = 0.5
    unclip_ratio: float = 1.6
    use_dilation: bool = True

    @classmethod
    def from_params(
        cls, params: TextDetectionParameters, extra: dict[str, Any] | None = None
    ) -> DetectionSettings:
        """The deployment's typed parameters win over the model folder's ``modelplane.json``,
        then rapidocr's defaults."""
        extra, base = extra or {}, cls()

        def pick(given: Any, key: str, default: Any) -> Any:
            return given if given is not None else type(default)(extra.get(key, default))

        dilation = params.use_dilation
        return cls(
            limit_side_len=pick(params.limit_side_len, "limit_side_len", base.limit_side_len),
            max_side_len=pick(params.max_side_len, "max_side_len", base.max_side_len),
            thresh=pick(params.thresh, "thresh", base.thresh),
            box_thresh=pick(params.box_thresh, "box_thresh", base.box_thresh),
            unclip_ratio=pick(params.unclip_ratio, "unclip_ratio", base.unclip_ratio),
            use_dilation=dilation
            if dilation is not None
            else str(extra.get("use_dilation", True)).lower() == "true",
        )


def detection_input(
    bgr: np.ndarray, settings: DetectionSettings, norm: Normalization
) -> np.ndarray:
    """[1, 3, H, W] with H, W multiples of 32: short side up to ``limit_side_len``, long side
    capped at ``max_side_len`` (rapidocr's ``limit_type: min`` rule)."""
    h, w = bgr.shape[:2]
    ratio = settings.limit_side_len / min(h, w) if min(h, w) < settings.limit_side_len else 1.0
    ratio = min(ratio, settings.max_side_len / max(h, w))
    rh = max(32, round(h * ratio / 32) * 32)
    rw = max(32, round(w * ratio / 32) * 32)
    resized = cv2.resize(bgr, (rw, rh))
    return norm.apply(resized)[np.newaxis]


def _order_clockwise(pts: np.ndarray) -> np.ndarray:
    """tl, tr, br, bl (the order the crop and the response use): the corners in clockwise
    order around the centre, starting at the top-left one (least x + y).

    Not "the two leftmost points are the left side" (rapidocr's ``get_mini_boxes``): a line
    running down a sideways page and tilted by more than its thickness over its length (3
    degrees over a 1400 px line 50 px thick) has one end of each long side among its two
    leftmost points, so that rule took a long side for the top: the line was cropped as a
    wide box, a quarter turned (or mirrored, by the tilt's direction) - unreadable, and
    counted as a wide line by the sideways check, so the page was not turned."""
    centre = pts.mean(axis=0)
    angles = np.arctan2(pts[:, 1] - centre[1], pts[:, 0] - centre[0])  # y down: clockwise
    ring = pts[np.argsort(angles)]
    start = int(np.argmin(ring.sum(axis=1)))
    return np.roll(ring, -start, axis=0).astype(np.float32)


def detection_boxes(
    prob_map: np.ndarray, height: int, width: int, settings: DetectionSettings
) -> list[tuple[Box, float]]:
    """Text boxes (in original pixels) and their scores from the DB map, in reading order."""
    post = DBPostProcess(
        thresh=settings.thresh,
        box_thresh=settings.box_thresh,
        max_candidates=1000,
        unclip_ratio=settings.unclip_ratio,
        use_dilation=settings.use_dilation,
    )
    # The published detector answers FP16 (half the bytes on the wire); OpenCV wants FP32.
    boxes, scores = post(prob_map.astype(np.float32, copy=False), (height, width))
    found: list[tuple[Box, float]] = []
    for box, score in zip(boxes, scores, strict=True):
        box = _order_clockwise(np.asarray(box, dtype=np.float32))
        box[:, 0] = np.clip(np.round(box[:, 0]), 0, width - 1)
        box[:, 1] = np.clip(np.round(box[:, 1]), 0, height - 1)
        if np.linalg.norm(box[0] - box[1]) <= 3 or np.linalg.norm(box[0] - box[3]) <= 3:
            continue
        found.append((box, float(score)))
    return reading_order(found)


def reading_order(items: list[tuple[Box, float]]) -> list[tuple[Box, float]]:
    """Top to bottom, then left to right for boxes on one visual line (half a line height)."""
    if not items:
        return []
    heights = [float(np.linalg.norm(b[0] - b[3])) for b, _ in items]
    tolerance = max(4.0, float(np.median(heights)) / 2)
    by_top = sorted(items, key=lambda it: float(it[0][:, 1].mean()))
    lines: list[list[tuple[Box, float]]] = []
    for item in by_top:
        centre = float(item[0][:, 1].mean())
        if lines and abs(centre - float(lines[-1][0][0][:, 1].mean())) <= tolerance:
            lines[-1].append(item)
        else:
            lines.append([item])
    return [it for line in lines for it in sorted(line, key=lambda it: float(it[0][0, 0]))]


def crop_box(image: np.ndarray, box: Box) -> np.ndarray:
    """Perspective-correct crop of one text box; tall crops are turned to read horizontally."""
    width = int(max(np.linalg.norm(box[0] - box[1]), np.linalg.norm(box[2] - box[3])))
    height = int(max(np.linalg.norm(box[0] - box[3]), np.linalg.norm(box[1] - box[2])))
    width, height = max(width, 1), max(height, 1)
    target = np.array([[0, 0], [width, 0], [width, height], [0, height]], dtype=np.float32)
    matrix = cv2.getPerspectiveTransform(box.astype(np.float32), target)
    crop = cv2.warpPerspective(
        image, matrix, (width, height), borderMode=cv2.BORDER_REPLICATE, flags=cv2.INTER_CUBIC
    )
    if crop.shape[0] / crop.shape[1] >= 1.5:
        crop = np.rot90(crop)
    return np.ascontiguousarray(crop)


def recognition_width(crops: list[np.ndarray], height: int, bucket: int) -> int:
    """Padded batch width: the widest crop at ``height``, rounded up to ``bucket`` pixels so
    crops of similar width from different requests land in the same batch shape."""
    widest = max(math.ceil(height * int(c.shape[1]) / int(c.shape[0])) for c in crops)
    return max(bucket, math.ceil(widest / bucket) * bucket)


def recognition_input(
    crops: list[np.ndarray], height: int, width: int, norm: Normalization
) -> np.ndarray:
    """[N, 3, height, width]: each crop resized to ``height`` keeping its ratio, zero-padded."""
    batch = np.full((len(crops), 3, height, width), norm.pad, dtype=np.float32)
    for i, crop in enumerate(crops):
        w = min(width, max(1, math.ceil(height * crop.shape[1] / crop.shape[0])))
        batch[i, :, :, :w] = norm.apply(cv2.resize(crop, (w, height)))
    return batch


class CTCDecoder:
    """Greedy CTC decode with the recognizer's character list (blank first, space last).

    Reads what the model answers: the published graph's best class and its probability per
    time step (``indices`` [N, T], ``scores`` [N, T]), or a plain PP-OCR graph's softmax
    [N, T, classes], reduced to the same here. rapidocr's ``CTCLabelDecode.decode`` does the
    collapsing, so texts and scores match the upstream pipeline's.
    """

    def __init__(self, characters: list[str]) -> None:
        self._decode = CTCLabelDecode(character=list(characters))

    def __call__(self, outputs: dict[str, np.ndarray]) -> list[tuple[str, float]]:
        indices, scores = ctc_best_path(outputs)
        decoded = self._decode.decode(indices, scores, is_remove_duplicate=True)
        return [(str(text), float(score)) for text, score in decoded]


def ctc_best_path(outputs: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(best class, its probability) per time step from a recognizer's outputs, by shape and
    dtype: an integer [N, T] and a float [N, T] tensor, or one float [N, T, classes]."""
    arrays = [np.asarray(v) for v in outputs.values()]
    if len(arrays) == 1 and arrays[0].ndim == 3:
        probs = arrays[0]
        return probs.argmax(axis=2), probs.max(axis=2)
    ints = [a for a in arrays if a.ndim == 2 and np.issubdtype(a.dtype, np.integer)]
    floats = [a for a in arrays if a.ndim == 2 and np.issubdtype(a.dtype, np.floating)]
    if len(ints) != 1 or len(floats) != 1:
        shapes = {k: (str(np.asarray(v).dtype), np.shape(v)) for k, v in outputs.items()}
        raise ValueError(
            f"recognizer outputs are neither (indices, scores) nor a softmax: {shapes}"
        )
    return ints[0], floats[0]
