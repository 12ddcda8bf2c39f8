"""Printed results are in µs; swimsim's own sources cite public documents, not private notes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import CliRunner

from traces import write_run_dir
from traces.synthetic import sized_run

ROOT = Path(__file__).resolve().parents[2]
NOT_US = re.compile(r"\d\s*(ms|ns)\b|\b(ms|ns)/|\b(ms|ns)\)")


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("units") / "r"
    write_run_dir(sized_run(60), d)
    return d


@pytest.mark.parametrize("argv", [["critical-path", "RUN", "--md"], ["overhead", "RUN"], ["overhead", "RUN", "--md"],
                                  ["stats", "RUN"], ["placement", "RUN"], ["graph", "qkv_proj_rope"]])
def test_printed_results_are_in_us(cli: CliRunner, run_dir: Path, argv: list[str]) -> None:
    rc, out, _ = cli([str(run_dir) if a == "RUN" else a for a in argv])
    assert rc == 0
    bad = [ln for ln in out.splitlines() if NOT_US.search(ln)]
    assert bad == []
    if argv[0] == "critical-path":
        assert re.search(r"makespan=\d+\.\d\d us CPM=\d+\.\d\d us", out)
        assert "µs" in (run_dir / "critical_path_report.md").read_text()


def _own_sources() -> list[Path]:
    dirs = [ROOT / "sim" / "app", ROOT / "traces", ROOT / "sim" / "ir", ROOT / "sim" / "util"]
    return [p for d in dirs for p in sorted(d.rglob("*.py")) if p != ROOT / "traces" / "plot.py"]


def test_sources_cite_no_private_notes_and_no_development_history() -> None:
    private = re.compile(r"(hardware|runtime|formats|dsl-surface)\.md")
    history = re.compile(r"\bsessions?\b", re.I)
    hits = [f"{p.relative_to(ROOT)}:{i}" for p in _own_sources()
            for i, ln in enumerate(p.read_text().splitlines(), 1) if private.search(ln) or history.search(ln)]
    assert len(_own_sources()) > 40
    assert hits == []


def test_model_md_sections_cited_exist() -> None:
    sections = set(re.findall(r"^#+ (\d+(?:\.\d+)?)\.? ", (ROOT / "docs" / "model.md").read_text(), re.M))
    cited = {(p, s) for p in _own_sources() for s in re.findall(r"docs/model\.md §(\d+(?:\.\d+)?)", p.read_text())}
    assert cited, "no citation of docs/model.md found"
    assert sorted((str(p.relative_to(ROOT)), s) for p, s in cited if s not in sections) == []
