"""The tables of ``docs/benchmarks.md``, regenerated from ``bench/results/*.json``.

Only the part between the ``bench:begin``/``bench:end`` markers is rewritten; the prose around
it (method, profiles, what changed) is kept. A section without a results file says so.

The quality sections on real data (``QUALITY``) are written by hand after the block: their
"before" columns come from other runs and their prose reads the answers, which no results file
holds. Each names the figures of its results file that its text must carry, and
``quality_drift`` lists those it does not (tests/bench/test_report.py), so a rerun of a quality
bench and the text cannot part.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from bench.common import ratio, read_result

BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"
TITLE = "# Benchmarks\n\n"


def _row(cells: list[Any]) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    return [_row(header), _row(["---"] * len(header)), *(_row(r) for r in rows)]


def serving(results: Path) -> list[str]:
    data = read_result("serving", results)
    if data is None:
        return ["_serving: not measured (run `make bench`)._"]
    rows = []
    for target, points in data["targets"].items():
        for conc, p in points.items():
            d = p["direct"]
            cpu = p.get("cpu_ms_per_request", {})
            for proto in ("grpc", "http", "floor"):
                if proto not in p:
                    continue
                s = p[proto]
                r = p.get(
                    f"{proto}_vs_direct",
                    {
                        "p50": ratio(s["p50_ms"], d["p50_ms"]),
                        "p99": ratio(s["p99_ms"], d["p99_ms"]),
                        "throughput": ratio(s["throughput_rps"], d["throughput_rps"]),
                    },
                )
                rows.append(
                    [
                        target, conc, "gRPC floor" if proto == "floor" else proto, s["n"],
                        f"{s['p50_ms']} / {d['p50_ms']}", f"**{r['p50']}**",
                        f"{s['p99_ms']} / {d['p99_ms']}", r["p99"],
                        f"{s['throughput_rps']} / {d['throughput_rps']}", f"**{r['throughput']}**",
                        f"{cpu.get(proto, '?')} / {cpu.get('direct', '?')}",
                    ]
                )  # fmt: skip
    header = [
        "target", "conc.", "protocol", "n", "p50 ms served / direct", "p50 ratio",
        "p99 ms served / direct", "p99 ratio", "req/s served / direct", "throughput ratio",
        "CPU ms/request served / direct",
    ]  # fmt: skip
    lines = [f"Measured {data['machine']['date']} on {_machine(data)}.", ""]
    return lines + _table(header, rows)


DOC_PATHS = {
    "direct_1": "modelplane stages in-process, conc. 1",
    "grpc_1": "`modelplane serve` gRPC, conc. 1",
    "http_1": "`modelplane serve` REST (binary), conc. 1",
    "grpc_4": "`modelplane serve` gRPC, conc. 4",
}


def documents(results: Path) -> list[str]:
    data = read_result("documents", results)
    if data is None or "vs_rapidocr" not in data:
        return ["_documents: not measured._"]
    split = data["split_ms"]
    total = sum(split.values())
    rows = [[k, v, f"{100 * v / total:.0f}%"] for k, v in split.items()]
    lines = ["Where the time of one document goes (in-process, one at a time):", ""]
    lines += _table(["step", "ms / document", "share"], rows)
    lines += ["", "Against the plain `RapidOCR()` call (one engine, its defaults), same documents:"]
    r = data["rapidocr"]
    rows = [["`RapidOCR()` (no platform)", r["n"], r["p50_ms"], r["p99_ms"], r["throughput_rps"],
             1.0, 1.0]]  # fmt: skip
    for key, label in DOC_PATHS.items():
        if key in data:
            p, v = data[key], data["vs_rapidocr"][key]
            rows.append([label, p["n"], p["p50_ms"], p["p99_ms"], p["throughput_rps"],
                         f"**{v['p50']}**", f"**{v['throughput']}**"])  # fmt: skip
    header = ["path", "n", "p50 ms", "p99 ms", "documents/s", "p50 vs RapidOCR",
              "documents/s vs RapidOCR"]  # fmt: skip
    return [*lines, "", *_table(header, rows)]


def goals(results: Path) -> list[str]:
    """Each goal of issue 13 as one ratio, with its baseline and n (all from the same run)."""
    serve, docs, batch = (read_result(n, results) for n in ("serving", "documents", "batching"))
    rows: list[list[Any]] = []
    if docs is not None and "vs_rapidocr" in docs:
        r, v = docs["rapidocr"], docs["vs_rapidocr"]
        for key, what, field, target in (
            ("grpc_1", "documents p50, gRPC conc. 1", "p50", "<= 1.00"),
            ("http_1", "documents p50, REST conc. 1", "p50", "<= 1.00"),
            ("grpc_4", "documents/s, gRPC conc. 4", "throughput", ">= 1.3"),
        ):
            if key in docs:
                p = docs[key]
                rows.append([what, f"**{v[key][field]}**", target, "-", "`RapidOCR()`",
                             f"{p['n']} / {r['n']}", f"{p['p50_ms']}/{p['p99_ms']}",
                             f"{r['p50_ms']}/{r['p99_ms']}"])  # fmt: skip
    for target, points in (serve or {}).get("targets", {}).items():
        for conc, field, want in (("1", "p50", "<= 1.3"), ("16", "throughput", ">= 0.8")):
            if conc not in points:
                continue
            p, d = points[conc], points[conc]["direct"]
            for proto in ("grpc", "http"):
                what = f"{target} {'p50' if field == 'p50' else 'req/s'}, {proto} conc. {conc}"
                s = p[proto]
                bound = p.get("floor_bound", {}).get(field, "-") if proto == "grpc" else "-"
                rows.append([what, f"**{p[f'{proto}_vs_direct'][field]}**", want, bound,
                             "in-process",
                             f"{s['n']} / {d['n']}", f"{s['p50_ms']}/{s['p99_ms']}",
                             f"{d['p50_ms']}/{d['p99_ms']}"])  # fmt: skip
    for target, points in (batch or {}).get("targets", {}).items():
        for conc, p in points.items():
            if not isinstance(p, dict) or "adaptive_vs_fixed" not in p:
                continue
            field = "p50" if conc == "1" else "throughput"
            rows.append([f"{target} adaptive batcher {field}, conc. {conc}",
                         f"**{p['adaptive_vs_fixed'][field]}**", "p50 < 1 / req/s > 1",
                         "-", "Triton fixed delay", f"{p['adaptive']['n']} / {p['fixed']['n']}",
                         f"{p['adaptive']['p50_ms']}/{p['adaptive']['p99_ms']}",
                         f"{p['fixed']['p50_ms']}/{p['fixed']['p99_ms']}"])  # fmt: skip
    if not rows:
        return ["_goals: not measured._"]
    header = ["goal", "ratio", "target", "best possible (gRPC floor)", "baseline",
              "n (ours / baseline)",
              "p50/p99 ms ours", "p50/p99 ms baseline"]  # fmt: skip
    return _table(header, rows)


def preprocess(results: Path) -> list[str]:
    data = read_result("preprocess", results)
    if data is None:
        return ["_preprocessing: not measured._"]
    rows = [
        [m, "x".join(map(str, p["input"])), p["full_ms"], p["draft_ms"], f"**{p['speedup']}**",
         ", ".join(f"{k} {v:.1%}" for k, v in p["output_drift"].items())]
        for m, p in data["models"].items()
    ]  # fmt: skip
    header = ["model", "input", "full decode ms/image", "draft decode ms/image", "speed-up",
              "max output change (relative)"]  # fmt: skip
    return _table(header, rows)


def batching(results: Path) -> list[str]:
    data = read_result("batching", results)
    if data is None:
        return ["_batching: not measured._"]
    rows = []
    for target, points in data["targets"].items():
        for conc, p in points.items():
            if not isinstance(p, dict) or "adaptive" not in p:
                continue
            a, f, o = p["adaptive"], p["fixed"], p["off"]
            rows.append([target, conc, a["n"],
                         f"{a['p50_ms']} / {f['p50_ms']} / {o['p50_ms']}",
                         f"{a['p99_ms']} / {f['p99_ms']} / {o['p99_ms']}",
                         f"{a['throughput_rps']} / {f['throughput_rps']} / {o['throughput_rps']}",
                         f"**{p['adaptive_vs_fixed']['throughput']}**",
                         f"**{p['adaptive_vs_off']['throughput']}**"])  # fmt: skip
    header = ["target", "conc.", "n", "p50 ms adaptive / fixed / off",
              "p99 ms adaptive / fixed / off", "req/s adaptive / fixed / off",
              "req/s vs fixed", "req/s vs off"]  # fmt: skip
    return _table(header, rows)


def operator(results: Path) -> list[str]:
    data = read_result("operator", results)
    if data is None:
        return ["_operator: not measured._"]
    lat, bulk = data["latency"], data["bulk"]
    n, wall = bulk["n"], bulk["wall_s"]
    # Runs before 2026-11-26 stopped the clock at the last InferenceService; later ones also
    # count the statuses and events the operator writes after it (``*_settled_*``).
    cpu = bulk.get("operator_cpu_settled_s", bulk.get("operator_cpu_s"))
    per_cr = bulk.get("operator_cpu_ms_per_cr")
    if per_cr is None and cpu is not None:
        per_cr = round(cpu / n * 1e3, 1)
    emulator = bulk.get("emulator_cpu_settled_s", bulk.get("emulator_cpu_s"))
    settled = bulk.get("settled_s", wall)
    busy = f"{emulator / settled:.0%}" if emulator is not None and settled else "?"
    bound = ""
    if emulator is not None and settled and emulator >= 0.9 * settled:
        bound = " (the emulator bounds the wall time)"
    calls = bulk.get("api_calls_per_cr")
    served = sum(bulk.get("api_calls", {}).values())
    per_request = f"; {emulator / served * 1e3:.2f} ms per request served" if served else ""
    rows = [
        ["create -> InferenceService p50 / p99", f"{lat['p50_ms']} / {lat['p99_ms']} ms",
         f"{lat['n']} ModelDeployments, one at a time"],
        [f"reconcile {n} at once (wall)", f"{wall} s",
         f"API floor {bulk['api_floor_s']} s (ratio **{bulk['ratio_to_api_floor']}**)"],
        [f"operator CPU to reconcile {n}", f"{cpu if cpu is not None else '?'} s "
         f"(**{per_cr if per_cr is not None else '?'} ms per ModelDeployment**)",
         f"user+system time of the operator process, first create to its last API request "
         f"({settled} s{f', busy {cpu / settled:.0%}' if cpu is not None and settled else ''})"
         f"{f'; {calls} API calls per ModelDeployment' if calls else ''}"],
        ["emulator CPU in the same window", f"{emulator if emulator is not None else '?'} s",
         f"kmock + the 16 clients, one process (one core at most): busy {busy} of the "
         f"{settled} s{bound}{per_request}"],
        ["operator RSS peak / idle", f"{bulk['operator_rss_peak_mib']} MiB",
         f"idle {bulk['operator_rss_idle_mib']} MiB"],
    ]  # fmt: skip
    return _table(["figure", "value", "baseline"], rows)


def gpu(results: Path) -> list[str]:
    data = read_result("gpu", results)
    if data is None:
        return ["_GPU: not measured — no GPU on the machine that ran `make bench`; see below._"]
    rows = []
    for model, points in data["models"].items():
        for batch, p in points.items():
            rows.append(
                [
                    model, batch,
                    f"{p['trt_fp16']['p50_ms']} / {p['ort_cuda']['p50_ms']}",
                    f"**{p['speedup']}**",
                    f"{p['trt_fp16']['items_per_s']} / {p['ort_cuda']['items_per_s']}",
                    f"{p['trt_fp16']['gpu_mib']} / {p['ort_cuda']['gpu_mib']}",
                ]
            )  # fmt: skip
    header = ["model", "batch", "p50 ms TRT fp16 / ORT CUDA", "speedup",
              "items/s TRT / ORT", "GPU MiB TRT / ORT"]  # fmt: skip
    measured = f"Measured {data['machine']['date']} on {data['machine']['gpu']}."
    return [measured, "", *_table(header, rows)]


def _machine(data: dict[str, Any]) -> str:
    m = data["machine"]
    return f"{m['cores']} cores ({m['cpu']}), Python {m['python']}, plan {data['plan']}"


def tables(results: Path) -> str:
    from bench import triton  # its module reads this one's table helper

    parts = [
        ("Goals of issue 13 (ratios from one run, interleaved rounds)", goals),
        ("Serving overhead: `modelplane serve` vs ONNX Runtime in-process", serving),
        ("Document pipeline", documents),
        ("Preprocessing before/after: full vs draft JPEG decode (1280x960 photos)", preprocess),
        ("Dynamic batching: adaptive vs Triton's fixed queue delay vs off (gRPC)", batching),
        ("Through a real Triton: `modelplane serve --predictors triton` (issue 23)", triton.report),
        ("Operator against kmock", operator),
        ("GPU: TensorRT fp16 vs ONNX Runtime CUDA", gpu),
    ]
    lines = [BEGIN, ""]
    for title, fn in parts:
        lines += [f"### {title}", "", *fn(results), ""]
    lines.append(END)
    return "\n".join(lines)


def write(results: Path, path: Path) -> None:
    """Replace the generated block of ``path`` (created with a title if missing)."""
    text = path.read_text(encoding="utf-8") if path.is_file() else TITLE + BEGIN + "\n" + END + "\n"
    if BEGIN not in text or END not in text:
        text = text.rstrip("\n") + "\n\n" + BEGIN + "\n" + END + "\n"
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(head + tables(results) + tail, encoding="utf-8")


def _confusion(classes: list[str]) -> list[str]:
    """The confusion table's rows as the text prints them: truth (n), then the answers, the
    right one in bold."""
    rows = []
    for i, name in enumerate(classes):
        cells = [f"{{gate.confusion.{i}.{j}}}" for j in range(len(classes))]
        cells[i] = f"**{cells[i]}**"
        rows.append(f"| {name} ({{gate.n.{name}}}) | " + " | ".join(cells) + " |")
    return rows


GATE = ["accept", "blurred", "not-a-car", "partial", "too-damaged"]
SROIE, PHOTOS = "summary.sroie", "summary.photos"


def _receipt_fields() -> list[str]:
    """The held-out receipts' date and total figures, against SROIE's labels and the audited
    ones, as the text writes them (``right/n (rate)`` in bold)."""
    fields = ("date", "total", "total_wrong", "total_audited", "total_wrong_audited")
    return [
        f"**{{{SROIE}.served.{f}.right}}/{{{SROIE}.served.{f}.n}} ({{{SROIE}.served.{f}.rate}})**"
        for f in fields
    ]


# heading of a hand-written section -> (its results file, the figures its text must carry:
# ``{dotted.path}`` or ``{dotted.path:.3f}``, rounded half up as the text writes them)
QUALITY: dict[str, tuple[str, list[str]]] = {
    "### Real text": (
        "korean_routing",
        [
            "({routing.recall:.3f})",
            "**{routing.precision:.3f}** ({routing.latin_routed} routed)",
            "{routing.latin_kept} Latin lines",
            "{korean.develop.hangul_tokens} words ({korean.develop.images} images)",
            "**{korean.develop.served} / {korean.develop.tesseract_alone}** | "
            "{korean.develop.rapidocr}",
            "{korean.heldout.hangul_tokens} words ({korean.heldout.images} images)",
            "**{korean.heldout.served} / {korean.heldout.tesseract_alone}** | "
            "{korean.heldout.rapidocr}",
            *(
                f"{{orientation_word_recall.{page}.{turn}}}"
                for page in range(3)
                for turn in (0, 90, 180, 270)
            ),
            "{scanned_pdf.words} words",
            "**{scanned_pdf.word_recall}**",
        ],
    ),
    "### Phone photos of printed pages": (
        "page_photos-heldout",
        [
            "| {summary.all.served.n} photos | **{summary.all.served.word_recall}** | "
            "{summary.all.rapidocr.word_recall} |",
            "**{summary.all.served.cer}** | {summary.all.rapidocr.cer} |",
            *(
                f"{{summary.{g}.served.word_recall}} / {{summary.{g}.served.cer}} | "
                f"{{summary.{g}.rapidocr.word_recall}} / {{summary.{g}.rapidocr.cer}}"
                for g in ("sideways", "upright")
            ),
        ],
    ),
    "### Real photos": (
        "vision_quality",
        [
            "**{gate.class_accuracy:.3f}**",
            "**{gate.estimable_accuracy:.3f}**",
            *(f"| {{gate.n.{c}}} |" for c in GATE),
            *(f"**{{gate.recall.{c}:.3f}}**" for c in GATE),
            *_confusion(GATE),
            "{severity.n.0} / {severity.n.1} / {severity.n.2}",
            "**{severity.f1.0:.3f} / {severity.f1.1:.3f} / {severity.f1.2:.3f}**",
            "macro-F1 **{severity.macro_f1:.3f}**, accuracy {severity.accuracy:.3f}",
        ],
    ),
    "### Document types on real paper": (
        "document_types-heldout",
        [
            "run of {run.started}",
            "| {summary.claim_form.n} | **{summary.claim_form.type.right}/{summary.claim_form.n}**",
            "name {summary.claim_form.name.right}/{summary.claim_form.name.n}",
            "policy number {summary.claim_form.policy_number.right}/"
            "{summary.claim_form.policy_number.n}",
            "total {summary.claim_form.total.right}/{summary.claim_form.total.n} (wrong "
            "{summary.claim_form.total_wrong.right})",
            "line items {summary.claim_form.line_items.right}/{summary.claim_form.line_items.n}",
            "fields answered on the blank form: {summary.claim_form.blank_forms.fields_answered}",
            "| {summary.receipt.n} | **{summary.receipt.type.right}/{summary.receipt.type.n} "
            "({summary.receipt.type.rate})**",
            "date {summary.receipt.date.right}/{summary.receipt.date.n}",
            "invoice number {summary.receipt.document_number.right}/"
            "{summary.receipt.document_number.n}",
            "total {summary.receipt.total.right}/{summary.receipt.total.n} (wrong non-null "
            "{summary.receipt.total_wrong.right}/{summary.receipt.total_wrong.n})",
            "| {summary.medical_receipt.n} | **{summary.medical_receipt.type.right}/"
            "{summary.medical_receipt.type.n} ({summary.medical_receipt.type.rate})**",
            "date {summary.medical_receipt.date.right}/{summary.medical_receipt.date.n}",
            "total {summary.medical_receipt.total.right}/{summary.medical_receipt.total.n} (wrong "
            "non-null {summary.medical_receipt.total_wrong.right}/"
            "{summary.medical_receipt.total_wrong.n})",
            "receipt number {summary.medical_receipt.document_number.right}/"
            "{summary.medical_receipt.document_number.n}",
            "pharmacy's name {summary.medical_receipt.institution.right}/"
            "{summary.medical_receipt.institution.n}",
            "line items {summary.medical_receipt.line_items.right}/"
            "{summary.medical_receipt.line_items.n}",
        ],
    ),
    "### Issue 21 at a glance": (
        "documents_quality-heldout",
        [
            f"**{{{SROIE}.served.word_recall:.3f}}** (n {{{SROIE}.served.n}} receipts) | "
            f"{{{SROIE}.rapidocr.word_recall:.3f}}",
            *_receipt_fields(),
            f"CER **{{{PHOTOS}.served.cer}}**, words **{{{PHOTOS}.served.word_recall:.3f}}** "
            f"(n {{{PHOTOS}.served.n}} photos) | {{{PHOTOS}.rapidocr.cer}}, "
            f"{{{PHOTOS}.rapidocr.word_recall:.3f}}",
        ],
    ),
    "### Real paper": (
        "documents_quality-heldout",
        [
            f"| {{{SROIE}.served.n}} (",
            f"**{{{SROIE}.served.word_recall:.3f}}** | {{{SROIE}.rapidocr.word_recall:.3f}}",
            f"{{{SROIE}.served.cer:.3f}} | {{{SROIE}.rapidocr.cer:.3f}}",
            *_receipt_fields(),
            f"**{{{SROIE}.served.type.right}}/{{{SROIE}.served.type.n}}**",
            f"{{{SROIE}.served.institution.right}}/{{{SROIE}.served.institution.n}}",
            f"| {{{PHOTOS}.served.n}} |",
            f"{{{PHOTOS}.served.cer}} (`auto`) | {{{PHOTOS}.rapidocr.cer}}",
            f"{{{PHOTOS}.served.word_recall:.3f}} | {{{PHOTOS}.rapidocr.word_recall:.3f}}",
            "{capture.auto.cer} / {capture.flatten.cer} / {capture.none.cer}",
        ],
    ),
}
FIELD = re.compile(r"\{([^{}:]+)(?::\.(\d+)f)?\}")


def _figure(data: Any, path: str, places: str | None) -> str:
    """One figure of a results file by its dotted path (list items by index)."""
    for part in path.split("."):
        data = data[int(part)] if isinstance(data, list) else data[part]
    if places is None:
        return str(data)
    step = Decimal(1).scaleb(-int(places))
    return str(Decimal(repr(data)).quantize(step, rounding=ROUND_HALF_UP))


def _fill(template: str, data: dict[str, Any]) -> str:
    """``template`` with each field replaced by its figure from ``data``."""
    return FIELD.sub(lambda field: _figure(data, field[1], field[2]), template)


def section(text: str, heading: str) -> str | None:
    """The section of ``text`` under the heading that starts with ``heading``, to the next
    heading of its level or above."""
    match = re.search(rf"^{re.escape(heading)}.*?(?=^##? |^### |\Z)", text, re.M | re.S)
    return match[0] if match else None


def quality_drift(results: Path, text: str) -> list[str]:
    """Each figure of a quality section that its text does not carry as its results file
    has it (a missing section, results file or figure counts)."""
    missing = []
    for heading, (name, figures) in QUALITY.items():
        data, body = read_result(name, results), section(text, heading)
        if data is None or body is None:
            missing.append(f"{heading}: no {'results' if data is None else 'section'}")
            continue
        for template in figures:
            try:
                wanted = _fill(template, data)
            except (KeyError, IndexError, TypeError):
                missing.append(f"{heading}: {template!r} not in {name}.json")
                continue
            if wanted not in body:
                missing.append(f"{heading}: {wanted!r} ({name}.json)")
    return missing
