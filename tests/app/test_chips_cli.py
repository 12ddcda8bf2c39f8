"""`swimsim chips` through sim.app.cli.main."""

from __future__ import annotations

import json
import tomllib

import pytest

import hwmodels
from sim.app.cli import main


def test_list(capsys) -> None:  # noqa: ANN001
    assert main(["chips"]) == 0
    out = capsys.readouterr().out
    for name in ("910B1", "910B2", "910B3", "910B4", "910C"):
        assert name in out


def test_list_marks_the_preset_run_uses_and_its_base(capsys) -> None:  # noqa: ANN001
    """The "(default)" mark sits on the preset `run`/`reproduce` load without --chip, and a calibrated
    preset names the preset it is built on."""
    assert main(["chips"]) == 0
    lines = {ln.split()[0]: ln for ln in capsys.readouterr().out.splitlines()[1:]}
    used = hwmodels.recommended_preset()
    assert "(default" in lines[used]
    assert [n for n, ln in lines.items() if "(default" in ln] == [used]
    if used == "910C-calibrated":
        assert "910C with fitted values" in lines[used]
        assert "(default" not in lines["910C"]


def test_show_without_name_is_the_default_preset(capsys) -> None:  # noqa: ANN001
    assert main(["chips", "--show"]) == 0
    assert tomllib.loads(capsys.readouterr().out)["name"] == hwmodels.recommended_preset()


def test_show_toml_with_set(capsys) -> None:  # noqa: ANN001
    assert main(["chips", "910B3", "--show", "--set", "vector.op_fixed_ns=99"]) == 0
    data = tomllib.loads(capsys.readouterr().out)
    assert data["soc"]["clusters"] == 20 and data["vector"]["op_fixed_ns"] == 99.0
    # the prior of the fixed part of a submit call (0.154 µs, derived from the measured submit breakdown)
    assert data["runtime"]["orch_submit_us"] == 0.154


def test_show_json(capsys) -> None:  # noqa: ANN001
    assert main(["chips", "910B4", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["soc"]["l2_size_mib"] == 96.0


def test_calibratable(capsys) -> None:  # noqa: ANN001
    assert main(["chips", "--calibratable"]) == 0
    assert "vector.op_fixed_ns" in capsys.readouterr().out


@pytest.mark.parametrize("args,field", [
    (["--set", "soc.cube_freq_mhz=-5"], "cube_freq_mhz"),
    (["--set", "soc.clusters=0"], "clusters"),
    (["--set", "soc.nope=1"], "nope"),
    (["--set", "cube_freq_mhz=fast"], "cube_freq_mhz"),
    (["910Q", "--show"], "910Q"),
])
def test_bad_config_exit_2_one_line(args: list[str], field: str, capsys) -> None:  # noqa: ANN001
    assert main(["chips", *args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("swimsim: error: ") and field in err
