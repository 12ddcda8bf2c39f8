"""The validation case file: the bundled one loads with the declared fit/validation split, and a
schema error is one line naming the file, the case id and the field."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from sim.app.backtest_cases import DEFAULT_CASES, load_cases
from sim.util.errors import UserError

FIT = {"pr648-qkv-standalone", "pr648-hca-layer", "pr641-compressor128", "pr641-hca-layer", "pr641-csa-layer",
       "pr445-expert-routed"}


def _raw() -> dict:
    return json.loads(DEFAULT_CASES.read_text())


def test_bundled_cases_load_with_the_declared_split() -> None:
    cf, shown = load_cases()
    assert shown == "validation_cases.json"
    assert len(cf.cases) == 15
    assert {c.id for c in cf.cases if c.set == "fit"} == FIT
    assert sum(c.set == "validation" for c in cf.cases) == 9
    by_pr: dict[int | None, set[str]] = {}
    for c in cf.cases:
        by_pr.setdefault(c.pr, set()).add(c.set)
    assert all(len(s) == 1 for s in by_pr.values())  # no PR on both sides
    bench = next(c for c in cf.cases if c.id == "pr829-hca-bench")
    assert bench.env == {"PYPTO_BENCH": "1"} and bench.capture_level == 0
    assert next(c for c in cf.cases if c.id == "pr630-hc-post").family == "hc_post"


def _error(tmp_path: Path, raw: object) -> str:
    p = tmp_path / "cases.json"
    p.write_text(json.dumps(raw) if not isinstance(raw, str) else raw)
    with pytest.raises(UserError) as ei:
        load_cases(p)
    msg = str(ei.value)
    assert "\n" not in msg
    return msg


@pytest.mark.parametrize(("field", "value", "expect"), [
    ("capture_level", 7, "case pr630-hc-post: capture_level: Input should be less than or equal to 4"),
    ("set", "train", "case pr630-hc-post: set: Input should be 'fit' or 'validation'"),
    ("before_commit", "abc123", "case pr630-hc-post: before_commit: String should match pattern"),
    ("repository", "pypto-lib", "case pr630-hc-post: repository: String should match pattern"),
    ("entry_file", "/abs/hc_post.py", "case pr630-hc-post: entry_file: '/abs/hc_post.py': expected a relative"),
    ("args", "-p a2a3", "case pr630-hc-post: args: Input should be a valid list"),
])
def test_schema_error_names_file_case_and_field(tmp_path: Path, field: str, value: object, expect: str) -> None:
    raw = _raw()
    case = next(c for c in raw["cases"] if c["id"] == "pr630-hc-post")
    case[field] = value
    msg = _error(tmp_path, raw)
    assert msg.startswith(f"{tmp_path / 'cases.json'}: {expect}")


def test_a_case_file_in_the_published_form_loads(tmp_path: Path) -> None:
    """No ``set`` (a case is then validation), fields swimsim does not read, times in ms."""
    raw = _raw()
    for c in raw["cases"]:
        del c["set"]
        c["surprise"] = {"any": 1}
    raw["cases"][2]["measured"]["wall"]["unit"] = "ms"
    raw["cases"][2]["measured"]["wall"]["before"] = 0.624
    raw["cases"][2]["measured"]["wall"]["furlongs"] = 3
    raw["cases"][3]["measured"]["wall"]["unit"] = "furlongs"
    p = tmp_path / "cases.json"
    p.write_text(json.dumps(raw))
    cf, _ = load_cases(p)
    assert all(c.set == "validation" for c in cf.cases)
    wall = cf.cases[2].measured["wall"]
    assert (wall.unit, wall.before) == ("us", pytest.approx(624.0))
    assert cf.cases[3].measured["wall"].unit == "furlongs"  # kept: that metric is then not computed


def test_the_published_case_file_loads() -> None:
    published = Path(__file__).resolve().parents[3] / "shared" / "data" / "validation_cases.json"
    if not published.exists():
        pytest.skip("the published case file is outside this checkout")
    cf, _ = load_cases(published)
    assert len(cf.cases) == 15 and {c.id for c in cf.cases} == {c.id for c in load_cases()[0].cases}


def test_entry_file_required_and_duplicate_id(tmp_path: Path) -> None:
    raw = _raw()
    del raw["cases"][1]["entry_file"]
    assert ": case pr648-hca-layer: (case): entry_file: expected entry_file" in _error(tmp_path, raw)
    raw = _raw()
    raw["cases"][1]["entry_file_before"] = "old/a.py"
    raw["cases"][1]["entry_file_after"] = "new/b.py"
    del raw["cases"][1]["entry_file"]
    p = tmp_path / "moved.json"
    p.write_text(json.dumps(raw))
    c = load_cases(p)[0].cases[1]
    assert (c.file_before, c.file_after, c.family) == ("old/a.py", "new/b.py", "b")
    raw = _raw()
    raw["cases"].append(copy.deepcopy(raw["cases"][0]))
    assert _error(tmp_path, raw).endswith(": case pr648-qkv-standalone: id: appears twice")


def test_bad_json_and_missing_file(tmp_path: Path) -> None:
    assert _error(tmp_path, '{"cases": [').startswith(f"{tmp_path / 'cases.json'}:1: not valid JSON")
    with pytest.raises(UserError, match="nope.json: cannot read"):
        load_cases(tmp_path / "nope.json")
