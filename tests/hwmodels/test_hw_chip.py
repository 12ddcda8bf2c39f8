"""Chip presets: load, dump (TOML/JSON) round trip, overrides, validation, field provenance."""

from __future__ import annotations

import json
import tomllib

import pytest

from hwmodels import ChipConfig, list_presets, load_chip
from hwmodels.chip import CALIBRATED_PRESET, PRESET_DIR, SECTIONS, calibratable_fields, chip_from_dict, preset_toml
from sim.util.errors import UserError


def test_presets_listed_and_default_is_910c() -> None:
    assert list_presets() == ["910B1", "910B2", "910B3", "910B4", "910C", "910C-calibrated"]
    c = load_chip()
    assert c.name == "910C" and c.soc.soc_version == "Ascend910_9391"
    assert (c.aic_count, c.aiv_count, c.num_cores) == (24, 48, 72)


@pytest.mark.parametrize("name,clusters,mhz,l2", [
    ("910B1", 24, 1850, 192), ("910B2", 24, 1800, 192), ("910B3", 20, 1800, 192), ("910B4", 20, 1500, 96),
    ("910C", 24, 1850, 192),
])
def test_preset_values(name: str, clusters: int, mhz: float, l2: float) -> None:
    c = load_chip(name)
    assert c.soc.clusters == clusters and c.aiv_count == 2 * clusters
    assert c.soc.cube_freq_mhz == mhz == c.soc.vec_freq_mhz
    assert c.soc.l2_size_mib == l2


@pytest.mark.parametrize("name", ["910B1", "910B2", "910B3", "910B4", "910C"])
def test_toml_and_json_round_trip(name: str, tmp_path) -> None:  # noqa: ANN001
    c = load_chip(name, ["vector.op_fixed_ns=123.5", "aiv_buffers.ub_safe_bytes=100000"])
    assert chip_from_dict(tomllib.loads(c.to_toml())) == c
    assert ChipConfig.model_validate(json.loads(c.to_json())) == c
    for suffix in (".toml", ".json"):
        p = tmp_path / f"chip{suffix}"
        c.write(p)
        assert load_chip(path=p) == c


def test_preset_toml_writes_the_calibrated_preset_byte_for_byte() -> None:
    text = (PRESET_DIR / f"{CALIBRATED_PRESET}.toml").read_text()
    header = [line[2:] for line in text.splitlines() if line.startswith("# ")]
    assert preset_toml(tomllib.loads(text), header) == text


def test_preset_toml_layout() -> None:
    data = {"name": "\u00b5s\t", "s": {"a": [1, [2, 3]], "b": 0.1}, "provenance": {"s.b": 'say "x"'}}
    text = preset_toml(data, ["head"], {"s.a": "unit: bytes", "name": "the name"})
    assert text == ('# head\n# the name\nname = "\\u00b5s\\t"\n\n[s]\n# unit: bytes\na = [1, [2, 3]]\nb = 0.1\n'
                    '\n[provenance]\n"s.b" = "say \\"x\\""\n')
    assert tomllib.loads(text) == data


def test_overrides_dotted_plain_bool_list() -> None:
    c = load_chip("910B3", ["soc.cube_freq_mhz=1700", "clusters=10", "runtime.pmu_mode=true",
                            "aic_buffers.fb_bytes=[1,2,3,4]"])
    assert c.soc.cube_freq_mhz == 1700.0 and c.aic_count == 10 and c.aiv_count == 20
    assert c.runtime.pmu_mode is True and c.aic_buffers.fb_bytes == [1, 2, 3, 4]
    assert c.name == "910B3"


@pytest.mark.parametrize("override,field", [
    ("soc.cube_freq_mhz=-1850", "cube_freq_mhz"),
    ("vec_freq_mhz=0", "vec_freq_mhz"),
    ("soc.clusters=0", "clusters"),
    ("cube_freq_mhz=fast", "cube_freq_mhz"),
    ("cube_freq_mhz=1.85GHz", "cube_freq_mhz"),
    ("soc.clusters=2.5", "clusters"),
    ("soc.bogus=1", "bogus"),
    ("bogus=1", "bogus"),
    ("nosuchsection.x=1", "nosuchsection"),
    ("runtime.pmu_mode=maybe", "pmu_mode"),
    ("l2.overfetch_core_fraction=2", "overfetch_core_fraction"),
    ("runtime.cold_first_task_extra_min_us=9", "cold_first_task_extra_min_us"),
])
def test_bad_override_one_line_naming_field(override: str, field: str) -> None:
    with pytest.raises(UserError) as ei:
        load_chip(None, [override])
    msg = str(ei.value)
    assert "\n" not in msg and field in msg


def test_bad_file_names_field(tmp_path) -> None:  # noqa: ANN001
    p = tmp_path / "bad.toml"
    p.write_text('name = "x"\n[soc]\nclusters = -3\n')
    with pytest.raises(UserError, match=r"soc\.clusters"):
        load_chip(path=p)
    p.write_text('name = "x"\n[soc]\nwidth = 3\n')
    with pytest.raises(UserError, match=r"soc\.width"):
        load_chip(path=p)
    p.write_text("[soc\n")
    with pytest.raises(UserError, match="TOML"):
        load_chip(path=p)
    with pytest.raises(UserError, match="presets"):
        load_chip("910Z")


def test_every_field_has_unit_status_source() -> None:
    for sec_name, sec in SECTIONS.items():
        for fname, finfo in sec.model_fields.items():
            d = finfo.description or ""
            assert d.startswith("unit: ") and " | status: " in d and " | source: " in d, f"{sec_name}.{fname}"


def test_calibratable_fields() -> None:
    cal = calibratable_fields()
    for must in ("vector.op_fixed_ns", "dma.mte2_request_ns", "dma.mte3_request_ns",
                 "l2.hit_read_latency_cycles", "l2.miss_extra_latency_cycles", "core.cross_pipe_sync_cycles",
                 "core.cross_core_flag_cycles", "core.scalar_access_cycles", "core.kernel_prologue_ns",
                 "dma.atomic_rate_factor", "soc.hbm_bw_gbps"):
        assert must in cal
    assert "cube.mad_head_cycles" not in cal  # FIT, not a placeholder
    for dotted in cal:
        sec, _, f = dotted.partition(".")
        assert "status: CALIBRATE" in SECTIONS[sec].model_fields[f].description


def test_aliases_and_conversions() -> None:
    c = load_chip("Ascend910B4")
    assert c.name == "910B4" and c.l2_capacity_bytes == 96 * 1024 * 1024
    assert c.cycles_to_ns(1500) == pytest.approx(1000.0)
