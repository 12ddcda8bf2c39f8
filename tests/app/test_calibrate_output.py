"""`swimsim calibrate` writes its chip file into the current directory (or -o), never into the
installed presets, and says how to use it."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from conftest import CliRunner

import hwmodels
from hwmodels.chip import PRESET_DIR


def _preset_hashes() -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(PRESET_DIR.iterdir()) if p.is_file()}


def test_calibrate_writes_into_cwd_and_leaves_the_presets_alone(cli: CliRunner, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    before = _preset_hashes()
    monkeypatch.chdir(tmp_path)
    rc, out, err = cli(["calibrate", "--max-evals", "1", "--runs", "1"])
    assert rc == 0, err
    assert _preset_hashes() == before
    written = tmp_path / "910C-calibrated.toml"
    assert [p.name for p in tmp_path.iterdir()] == [written.name]
    assert hwmodels.load_chip(path=written).soc.soc_version == hwmodels.load_chip("910C").soc.soc_version
    assert "swimsim reproduce --chip-file 910C-calibrated.toml" in out
    assert "swimsim run KERNEL --chip-file 910C-calibrated.toml" in out
    assert out.rstrip("\n").splitlines()[-1] == "wrote 910C-calibrated.toml"


def test_calibrate_profile_writes_into_cwd_and_says_how_to_use_it(cli: CliRunner, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    before = _preset_hashes()
    monkeypatch.chdir(tmp_path)
    rc, out, err = cli(["calibrate", "--profile", "runtime.orch_swimlane_record_us=3", "--max-evals", "1",
                        "--runs", "1"])
    assert rc == 0, err
    assert _preset_hashes() == before
    d = Path("out/calibration_profile")
    assert sorted(p.name for p in (tmp_path / d).iterdir()) == ["profile.json", "profile.png",
                                                                "profile_orch_swimlane_record_us_3.toml"]
    assert f"swimsim reproduce --band {d}" in out
    assert out.rstrip("\n").splitlines()[-1] == (f"wrote {d / 'profile.json'}, {d / 'profile.png'}, "
                                                 f"{d / 'profile_orch_swimlane_record_us_3.toml'}")


def test_calibrate_set_holds_a_switch_in_every_simulation_and_in_the_preset(cli: CliRunner, tmp_path: Path,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """--set holds a field that is not free: the fit simulates that structure (its objective differs from
    the default structure's at the same start) and the written preset keeps the field; a free parameter
    given to --set is a one-line error, exit 2, nothing written."""
    monkeypatch.chdir(tmp_path)
    rc, plain, err = cli(["calibrate", "--max-evals", "1", "--runs", "1", "-o", "plain.toml"])
    assert rc == 0, err
    rc, held, err = cli(["calibrate", "--max-evals", "1", "--runs", "1", "--set", "vector.factor_binary=4",
                         "-o", "held.toml"])
    assert rc == 0, err
    assert "held fixed (--set): vector.factor_binary=4" in held

    def objective(text: str) -> str:
        return next(line for line in text.splitlines() if line.startswith("objective "))

    assert objective(plain) != objective(held)
    assert hwmodels.load_chip(path=tmp_path / "held.toml").vector.factor_binary == 4
    assert hwmodels.load_chip(path=tmp_path / "plain.toml").vector.factor_binary == 1
    rc, out, err = cli(["calibrate", "--max-evals", "1", "--set", "vector.op_fixed_ns=50", "-o", "free.toml"])
    assert rc == 2 and out == "" and "--set vector.op_fixed_ns=50: vector.op_fixed_ns is a free parameter" in err
    assert len(err.strip().splitlines()) == 1 and not (tmp_path / "free.toml").exists()
