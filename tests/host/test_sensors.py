"""sensors: coretemp/k10temp text, LANG=C and Latin-1 degree signs, JSON, and a VM without sensors."""

from __future__ import annotations

import pytest

from diagnostics.host import facts_from_file
from diagnostics.host.sensors import parse_sensors, sensors_facts


def readings(path):
    return sensors_facts(parse_sensors(path.read_text()), path=str(path))


def test_real_vm_has_no_sensors(real):
    out = parse_sensors((real / "sensors.txt").read_text())
    assert out.no_sensors and out.readings == []
    assert parse_sensors((real / "sensors_-j.txt").read_text()).readings == []


def test_hot_second_socket(formats):
    facts = readings(formats / "sensors_coretemp_2socket_hot.txt")
    assert [(f.chip, f.label, f.temp_c) for f in facts] == [
        ("coretemp-isa-0000", "Package id 0", 62.0),
        ("coretemp-isa-0000", "Core 0", 58.0),
        ("coretemp-isa-0000", "Core 1", 61.0),
        ("coretemp-isa-0001", "Package id 1", 91.0),
        ("coretemp-isa-0001", "Core 0", 89.0),
        ("coretemp-isa-0001", "Core 1", 95.0),
    ]  # the power meter (W) is not a temperature
    hot = [f for f in facts if f.above_high]
    assert [f.label for f in hot] == ["Package id 1", "Core 0", "Core 1"]
    assert [f.label for f in facts if f.above_crit] == ["Core 1"]
    assert facts[3].high_c == 84.0 and facts[3].crit_c == 94.0 and facts[3].adapter == "ISA adapter"
    assert facts[3].line == 9


def test_k10temp_without_limits_is_never_above(formats):
    facts = readings(formats / "sensors_k10temp_epyc.txt")
    assert [(f.label, f.temp_c, f.high_c, f.above_high) for f in facts] == [
        ("Tctl", 54.8, None, False), ("Tccd1", 48.2, None, False), ("Tccd2", 50.0, None, False)
    ]


def test_lang_c_and_physical_id(formats):
    facts = readings(formats / "sensors_el6_lang-c_physical-id.txt")
    assert facts[0].label == "Physical id 0" and facts[0].temp_c == 86.0 and facts[0].above_high


def test_latin1_degree_sign_decoded_with_replacement(tmp_path):
    raw = "coretemp-isa-0000\nAdapter: ISA adapter\nCore 0:  +99.0\xb0C  (high = +80.0\xb0C, crit = +100.0\xb0C)\n"
    path = tmp_path / "kvm05" / "sensors"
    path.parent.mkdir()
    path.write_bytes(raw.encode("latin-1"))
    facts, errors = facts_from_file(str(path))
    assert [(f.label, f.temp_c, f.high_c, f.above_high, f.host_name) for f in facts] == [
        ("Core 0", 99.0, 80.0, True, "kvm05")
    ]
    assert len(errors) == 1 and str(path) in errors[0] and "UTF-8" in errors[0]


def test_json_form(formats):
    facts = readings(formats / "sensors_-j_coretemp.json")
    assert [(f.chip, f.label, f.temp_c, f.high_c, f.crit_c) for f in facts] == [
        ("coretemp-isa-0000", "Package id 0", 62.0, 80.0, 100.0),
        ("coretemp-isa-0000", "Core 0", 58.0, 80.0, 100.0),
        ("coretemp-isa-0001", "Package id 1", 97.0, 84.0, 94.0),
        ("k10temp-pci-00c3", "Tctl", 54.75, None, None),
    ]
    assert facts[2].above_crit
    lines = (formats / "sensors_-j_coretemp.json").read_text().splitlines()
    assert [lines[f.line - 1].strip() for f in facts] == ['"Package id 0":{', '"Core 0":{', '"Package id 1":{', '"Tctl":{']


@pytest.mark.parametrize("broken", ["{", "[1, 2]", '{"chip": 5}', '{"c": {"Adapter": "x", "t": {"temp1_input": "hot"}}}'])
def test_broken_json_gives_no_readings(broken):
    assert parse_sensors(broken).readings == []


@pytest.mark.parametrize(
    ("line", "high", "crit"),
    [
        ("temp1:        +45.0°C  (high = +70.0°C, crit hyst = +65.0°C)", 70.0, None),
        ("temp1:        +27.8°C  (crit low = -10.0°C, crit = +105.0°C)", None, 105.0),
        ("temp1:        +38.0°C  (low  = +127.0°C, high = +127.0°C)  sensor = thermistor", 127.0, None),
        ("temp2:        +95.0°C  (high = +80.0°C, hyst = +75.0°C)  ALARM", 80.0, None),
        ("Composite:    +41.9°C  (low  = -273.1°C, high = +84.8°C)", 84.8, None),
    ],
)
def test_two_word_limit_names_and_trailers(line, high, crit):
    (r,) = parse_sensors(f"nct6775-isa-0290\nAdapter: ISA adapter\n{line}\n").readings
    assert (r.high_c, r.crit_c) == (high, crit)
