"""lm-sensors `sensors` (text) and `sensors -j` (JSON) -> SensorReading facts, temperatures only.

    >>> out = parse_sensors('''coretemp-isa-0001
    ... Adapter: ISA adapter
    ... Package id 1:  +91.0°C  (high = +84.0°C, crit = +94.0°C)''')
    >>> r = out.readings[0]
    >>> (r.chip, r.label, r.temp_c, r.high_c, r.crit_c)
    ('coretemp-isa-0001', 'Package id 1', 91.0, 84.0, 94.0)

Text form: a chip name line, `Adapter:`, then `label:  +62.0°C  (high = ..., crit = ...)` lines; the limits
are optional (k10temp `Tctl` has none), the degree sign is `°` in UTF-8 and a space under `LANG=C` on old
releases (or a replacement character when a Latin-1 `°` was decoded as UTF-8). "No sensors found!" (a VM)
gives no readings, with `no_sensors` set.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pyparsing as pp

from diagnostics.model.host_facts import SensorReading

# "+62.0°C", "+91.0 C" (LANG=C), "+54.8\ufffdC" (Latin-1 degree sign decoded as UTF-8)
_TEMP = pp.Regex(r"(?P<num>[+-]?\d+(?:\.\d+)?) ?(?:°|\ufffd)?C(?![A-Za-z])").set_parse_action(lambda t: float(t["num"]))
_LIMIT_NAME = pp.Regex(r"crit hyst|crit low|emerg hyst|low|high|crit|hyst|emerg|min|max|lcrit|sensor|alarm")
_LIMIT = pp.Group(_LIMIT_NAME("name") + pp.Suppress("=") + (_TEMP | pp.Regex(r"[^,)]+"))("value"))
_LIMITS = pp.Suppress("(") + pp.DelimitedList(_LIMIT)("limits") + pp.Suppress(")")
_LABEL = pp.Regex(r"[^:]+?(?=:)")("label") + pp.Suppress(":")
_READING = _LABEL + _TEMP("temp") + pp.Optional(_LIMITS) + pp.Optional(pp.Regex(r".*"))("tail") + pp.StringEnd()
_CHIP = pp.Regex(r"[A-Za-z0-9_]+(?:-[A-Za-z0-9_]+)*-(?:isa|pci|i2c|acpi|virtual|platform|spi|hid|mdio|scsi|sdio|\*)-[0-9a-f]+\b")


@dataclass(slots=True)
class Reading:
    chip: str
    adapter: str | None
    label: str
    temp_c: float
    high_c: float | None
    crit_c: float | None
    line: int
    text: str


@dataclass(slots=True)
class SensorsOutput:
    readings: list[Reading] = field(default_factory=list)
    no_sensors: bool = False
    json: bool = False


def parse_sensors(text: str) -> SensorsOutput:
    """Text or JSON: JSON is recognised by its first non-blank character."""
    if text.lstrip().startswith("{"):
        return parse_sensors_json(text)
    out = SensorsOutput(no_sensors="No sensors found!" in text)
    chip: str | None = None
    adapter: str | None = None
    for lineno, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped:
            chip, adapter = None, None
            continue
        if ":" not in stripped:
            try:
                chip = _CHIP.parse_string(stripped, parse_all=True)[0]
                adapter = None
            except pp.ParseException:
                if chip is None and " " not in stripped:  # a driver named outside the usual bus pattern
                    chip = stripped
            continue
        if stripped.startswith("Adapter:"):
            adapter = stripped.split(":", 1)[1].strip()
            continue
        if chip is None or line[:1].isspace():  # continuation lines carry only limits
            continue
        try:
            parsed = _READING.parse_string(stripped, parse_all=True)
        except pp.ParseException:
            continue
        limits = {g["name"]: g["value"] for g in parsed.get("limits", [])}
        out.readings.append(
            Reading(
                chip=chip,
                adapter=adapter,
                label=parsed["label"].strip(),
                temp_c=parsed["temp"],
                high_c=_float(limits.get("high", limits.get("max"))),
                crit_c=_float(limits.get("crit")),
                line=lineno,
                text=line,
            )
        )
    return out


def _float(value: object) -> float | None:
    return value if isinstance(value, float) else None


def parse_sensors_json(text: str) -> SensorsOutput:
    """`sensors -j`: {chip: {"Adapter": ..., label: {"temp1_input": 62.0, "temp1_max": 80.0, "temp1_crit": 100.0}}}."""
    out = SensorsOutput(json=True)
    try:
        data = json.loads(text)
    except ValueError:
        return out
    if not isinstance(data, dict):
        return out
    lines = text.splitlines()
    cursor = 0
    for chip, body in data.items():
        if not isinstance(body, dict):
            continue
        cursor = _find_line(lines, f'"{chip}"', cursor)
        adapter = body.get("Adapter") if isinstance(body.get("Adapter"), str) else None
        for label, values in body.items():
            if not isinstance(values, dict):
                continue
            temp = _json_temp(values, "_input")
            if temp is None:
                continue
            cursor = _find_line(lines, f'"{label}"', cursor)
            out.readings.append(
                Reading(
                    chip=chip,
                    adapter=adapter,
                    label=label,
                    temp_c=temp,
                    high_c=_json_temp(values, "_max"),
                    crit_c=_json_temp(values, "_crit"),
                    line=cursor + 1,
                    text=lines[cursor] if cursor < len(lines) else "",
                )
            )
    return out


def _json_temp(values: dict[str, object], suffix: str) -> float | None:
    for key, value in values.items():
        if key.startswith("temp") and key.endswith(suffix) and isinstance(value, (int, float)):
            return float(value)
    return None


def _find_line(lines: list[str], needle: str, start: int) -> int:
    for index in range(start, len(lines)):
        if needle in lines[index]:
            return index
    return start


def sensors_facts(out: SensorsOutput, *, path: str = "<text>", host: str | None = None) -> list[SensorReading]:
    """`above_high`/`above_crit` mean at or above the limit the chip itself reports."""
    return [
        SensorReading(
            path=path,
            line=r.line,
            text=r.text,
            host_name=host,
            chip=r.chip,
            adapter=r.adapter,
            label=r.label,
            temp_c=r.temp_c,
            high_c=r.high_c,
            crit_c=r.crit_c,
            above_high=r.high_c is not None and r.temp_c >= r.high_c,
            above_crit=r.crit_c is not None and r.temp_c >= r.crit_c,
        )
        for r in out.readings
    ]
