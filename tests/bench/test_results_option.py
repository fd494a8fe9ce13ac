"""``--results DIR`` on the quality benches: an experiment's run never writes the shared figures.

``bench/results/*.json`` hold the measured figures the docs quote (``tests/bench/test_report.py``
checks the prose against them), so a helper trying a parser rule writes elsewhere. ``--cards``
publishes the model cards from a run's figures and must never come from such a folder. These
tests run the real argument handling; those that go through a bench's ``main`` give it a run
that is cheap even if the check under test broke (a stored reading parsed again, ``--reuse``):
a broken refusal must never start a served run of the held-out pile inside ``make test``.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from serving.real_documents import documents

from bench import document_types, documents_quality, korean_routing, page_photos
from bench.common import RESULTS, add_results_option, read_result, results_folder

MAINS = (documents_quality.main, document_types.main, page_photos.main, korean_routing.main)


def chosen(argv: list[str], cards: bool = False) -> Path:
    parser = argparse.ArgumentParser()
    if cards:
        parser.add_argument("--cards", action="store_true")
    add_results_option(parser)
    return results_folder(parser, parser.parse_args(argv))


def test_the_shared_folder_unless_told_otherwise(tmp_path: Path) -> None:
    assert chosen([]) == RESULTS
    assert chosen(["--results", str(tmp_path)]) == tmp_path
    assert chosen(["--cards"], cards=True) == RESULTS  # the published figures: allowed


@pytest.mark.parametrize(
    ("argv", "cards"),
    [(["--results", "x.json"], False), (["--cards", "--results", "elsewhere"], True)],
    ids=["a json name (the option takes a folder, as bench.run's does)", "cards elsewhere"],
)
def test_refused_as_a_usage_error(argv: list[str], cards: bool) -> None:
    with pytest.raises(SystemExit) as refused:
        chosen(argv, cards)
    assert refused.value.code == 2


@pytest.mark.parametrize("main", MAINS, ids=lambda m: m.__module__)
def test_every_quality_bench_takes_the_option(
    main: Callable[[list[str]], object], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as helped:
        main(["--help"])
    assert helped.value.code == 0
    assert "--results DIR" in capsys.readouterr().out


def own_reading(folder: Path) -> str:
    """A reading of the develop pile's first receipt in ``folder``'s results file, for
    ``--reuse``: the committed served lines of sroie-003 filed under the first receipt's name
    without a hash (taken by name), so a run parses it again and serves nothing. The lines are
    another receipt's: only where a run reads and writes can be asserted, not its scores."""
    first = documents("develop", ("sroie",))[0]
    stored = Path(__file__).parents[1] / "serving" / "data" / "sroie_develop_lines.json"
    lines = json.loads(stored.read_text("utf-8"))["sroie-003"]
    entry = {"lines": lines, "rapidocr": {"words": [0, 1], "cer": [1, 1]}}
    own = {"pile": "develop", "summary": {}, "documents": {first.name: entry}}
    (folder / "documents_quality-develop.json").write_text(json.dumps(own), "utf-8")
    return first.name


CHEAP = ["--pile", "develop", "--source", "sroie", "--limit", "1", "--reuse"]  # serves nothing


def test_cards_refuse_an_experiment_folder_before_anything_runs(tmp_path: Path) -> None:
    """Through ``main`` on a run that would be cheap if the refusal broke (one stored reading
    parsed again, not the held-out pile served)."""
    own_reading(tmp_path)
    before = (tmp_path / "documents_quality-develop.json").read_bytes()
    with pytest.raises(SystemExit) as refused:
        documents_quality.main([*CHEAP, "--cards", "--results", str(tmp_path)])
    assert refused.value.code == 2
    assert (tmp_path / "documents_quality-develop.json").read_bytes() == before


def test_reuse_reads_the_experiment_file_else_the_shared_one(tmp_path: Path) -> None:
    shared = read_result("documents_quality-develop", RESULTS)
    assert shared is not None
    assert documents_quality.last_run("develop", tmp_path) == shared
    own = {"pile": "develop", "summary": {}, "documents": {}}
    (tmp_path / "documents_quality-develop.json").write_text(json.dumps(own), "utf-8")
    assert documents_quality.last_run("develop", tmp_path) == own


def test_a_reuse_run_writes_into_the_experiment_folder(tmp_path: Path) -> None:
    """End to end through ``main``: the experiment folder's reading is parsed again (nothing
    served) and the results file is written there, not to the shared folder."""
    name = own_reading(tmp_path)
    assert documents_quality.main([*CHEAP, "--results", str(tmp_path)]) == 0
    written = json.loads((tmp_path / "documents_quality-develop.json").read_text("utf-8"))
    assert written["run"]["served_now"] == 0 and written["run"]["reparsed"] == 1
    assert list(written["documents"]) == [name]
    assert written["documents"][name]["read"] == "stored lines reparsed"
    assert written["summary"]["sroie"]["served"]["n"] == 1
