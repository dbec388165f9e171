"""Generated torture pastes: every decoration a ticket, chat, paste site or blog adds, hard wraps at 60..200.

The property: decorating log lines and then repairing the paste gives back exactly the original lines. The only
inputs excluded (`assume`) are the ones no reader could undo, documented where they are excluded: a wrap that
leaves a line exactly as long as a wrapped one in front of a line that is not a record, a wrapped piece that itself
looks like a record, frame, prompt or quote, a wrap that fell on three spaces or more, and a width shown by fewer
than two wrapped lines or only by lines that lost spaces at the cut.
"""

from __future__ import annotations

import re

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from diagnostics.logs.header import HEADER_RE
from diagnostics.logs.paste import (
    _FENCE_RE,
    _PROMPT_RE,
    QUOTE_RE,
    PasteRepairs,
    _Decoder,
    detect_paste,
    repair_paste,
)

WORDS = st.sampled_from(
    "VM instance host capacity offering memory cpu Unable to start scale due job-1201 i-2-42-VM 4096 2000 "
    "Seq 3-4114882684533080146: Sending { Cmd , MgmtId: 191528580652610, via: 3(kvm03), Ver: v1 "
    "[Starting] -> state=Running id=42 uuid=9c0e4a11-2b3c-4d5e-8f90-a1b2c3d4e5f6 (4.00 GB) 4294967296 "
    "'admin' \"memory\": {\"cpu\": 2} libvirt internal error: qemu-kvm: failed ... déc. 日志 ошибка".split()
)
HEX8 = st.text("0123456789abcdef", min_size=8, max_size=8)


@st.composite
def header(draw):
    ts = f"20{draw(st.integers(15, 26)):02d}-{draw(st.integers(1, 12)):02d}-{draw(st.integers(1, 28)):02d}" \
         f"{draw(st.sampled_from([' ', 'T']))}{draw(st.integers(0, 23)):02d}:{draw(st.integers(0, 59)):02d}:" \
         f"{draw(st.integers(0, 59)):02d},{draw(st.integers(0, 999)):03d}"
    level = draw(st.sampled_from(["DEBUG", "INFO ", "WARN ", "ERROR"]))
    logger = draw(st.sampled_from(["c.c.v.VirtualMachineManagerImpl", "c.c.c.CapacityManagerImpl", "cloud.agent.Agent",
                                   "kvm.resource.LibvirtComputingResource", "o.a.c.f.j.i.AsyncJobManagerImpl"]))
    ctx = draw(HEX8)
    thread = draw(st.sampled_from([
        f"(Work-Job-Executor-3:[ctx-{ctx}, job-1201/job-1202]) (logid:{ctx}) ",
        f"(Work-Job-Executor-17:ctx-{ctx} job-61/job-62) (logid:{ctx}) ",
        "(Job-Executor-11:job-1076) ",
        "(agentRequest-Handler-5:null) ",
    ]))
    message = " ".join(draw(st.lists(WORDS, min_size=1, max_size=30)))
    return f"{ts} {level} [{logger}] {thread}{message}"


@st.composite
def trace(draw):
    lines = [f"com.cloud.utils.exception.CloudRuntimeException: {' '.join(draw(st.lists(WORDS, min_size=1, max_size=12)))}"]
    for i in range(draw(st.integers(1, 4))):
        lines.append(f"\tat com.cloud.vm.VirtualMachineManagerImpl.orchestrateStart(VirtualMachineManagerImpl.java:{1000 + i})")
    if draw(st.booleans()):
        lines += ["Caused by: org.libvirt.LibvirtException: internal error: process exited", "\t... 12 more"]
    return lines


@st.composite
def log_excerpt(draw):
    records = []
    for _ in range(draw(st.integers(1, 6))):
        record = [draw(header())]
        if draw(st.integers(0, 2)) == 0:
            record += draw(trace())
        records.append(record)
    return records


def hard_wrap(line: str, width: int) -> list[str]:
    """Fixed-width fold as a ticket system does it; the paste then trims the spaces a piece ends with."""
    return [line[i:i + width].rstrip(" ") for i in range(0, len(line), width)] or [""]


def _looks_like_something(piece: str) -> bool:
    """A wrapped piece that a reader must take for what it looks like (a record, frame, prompt, quote, fence)."""
    d = _Decoder(PasteRepairs()).decode(piece)
    return (d.kind != "other" or d.text != piece or not piece.strip() or _PROMPT_RE.match(piece) is not None
            or QUOTE_RE.match(piece) is not None or _FENCE_RE.match(piece) is not None or piece.strip() == "`")


DECORATIONS = st.fixed_dictionaries({
    "prefix": st.sampled_from(["", "mgmt01 ", "kvm03: ", "[mgmt01] ", "- ", "* ", "management-server.log:"]),
    "bold": st.booleans(),
    "backticks": st.booleans(),
    "blank_between": st.booleans(),
    "width": st.one_of(st.none(), st.integers(60, 200)),
    "per_line": st.sampled_from(["", "quote", "numbers", "numbers-pipe", "table"]),
    "fence": st.sampled_from(["", "```", "~~~", "{code}", "{noformat}"]),
    "prose": st.sampled_from(["", "Here is what the management server says when I scale the VM:",
                              "Voici le journal du serveur de gestion :", "管理服务器日志如下："]),
})


def decorate(records: list[list[str]], deco: dict) -> tuple[list[str], bool]:
    """(pasted lines, whether the wrap is ambiguous for a reader)."""
    width = deco["width"] if deco["per_line"] != "table" else None
    physical: list[str] = []
    ambiguous = False
    full_pieces: set[str] = set()
    for r_index, record in enumerate(records):
        if deco["blank_between"] and r_index:
            physical.append("")
        for l_index, line in enumerate(record):
            text = line
            if l_index == 0:
                if deco["bold"]:
                    level = text.split()[2]
                    text = text.replace(f" {level} ", f" **{level}** ", 1)
                if deco["backticks"]:
                    text = f"`{text}`"
                text = deco["prefix"] + text
            if width is None:
                physical.append(text)
                continue
            pieces = hard_wrap(text, width)
            nxt_is_start = l_index + 1 >= len(record) or record[l_index + 1].startswith(("\tat", "Caused by", "\t..."))
            for i, piece in enumerate(pieces):
                if i > 0 and _looks_like_something(piece):
                    ambiguous = True
                if i < len(pieces) - 1:
                    if len(piece) < width - 2:
                        ambiguous = True  # the wrap fell on three spaces or more: nothing says how many
                    full_pieces.add(piece)
            if len(pieces[-1]) >= width - 2 and not (nxt_is_start and l_index + 1 < len(record)):
                ambiguous = True  # a line as long as a wrapped one, with no record start after it
            physical += pieces
    if width is not None and (len(full_pieces) < 2 or not any(len(piece) == width for piece in full_pieces)):
        ambiguous = True  # one wrapped line does not show a width, nor do lines that all lost spaces at the cut
    out: list[str] = []
    if deco["prose"]:
        out += [deco["prose"], ""]
    if deco["fence"]:
        out.append(deco["fence"])
    out += physical
    if deco["fence"]:
        out.append("{code}" if deco["fence"] == "{code}" else deco["fence"])
    if deco["prose"]:
        out += ["", "Any idea what is wrong?"]
    if deco["per_line"] == "quote":
        out = ["> " + line if line else ">" for line in out]
    elif deco["per_line"] in ("numbers", "numbers-pipe"):
        sep = ": " if deco["per_line"] == "numbers" else " | "
        out = [f"{n}{sep}{line}".rstrip() for n, line in enumerate(out, start=1)]
    elif deco["per_line"] == "table":
        out = ["| time and message |", "|---|"] + [f"| {line} |" if line else "" for line in physical]
        if deco["prose"]:
            out = [deco["prose"], ""] + out
    return out, ambiguous


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records=log_excerpt(), deco=DECORATIONS)
def test_decorating_then_repairing_returns_the_original_lines(records, deco):
    pasted, ambiguous = decorate(records, deco)
    assume(not ambiguous)
    original = [line for record in records for line in record]
    is_paste, width = detect_paste(pasted)
    repairs = PasteRepairs()
    assert list(repair_paste(pasted, width, repairs)) == original
    visible = [k for k, v in deco.items() if v and k != "blank_between"]
    if visible:
        assert is_paste, deco
        assert repairs.describe()  # whatever was done is said
    if deco["width"] and deco["per_line"] != "table" and repairs.joined:
        assert f"hard-wrapped at {deco['width']}" in " ".join(repairs.describe())


@settings(max_examples=150, deadline=None)
@given(records=log_excerpt(), width=st.integers(60, 200))
def test_every_record_line_comes_out_starting_with_its_timestamp(records, width):
    """Whatever the wrap, what comes out of a host-prefixed, quoted paste parses with the header grammar."""
    pasted, ambiguous = decorate(records, {"prefix": "mgmt01 ", "bold": False, "backticks": False, "blank_between": False,
                                           "width": width, "per_line": "quote", "fence": "", "prose": ""})
    assume(not ambiguous)
    out = list(repair_paste(pasted, detect_paste(pasted)[1], repairs := PasteRepairs()))
    headers = [line for line in out if HEADER_RE.match(line) and re.match(r"\d{4}-", line)]
    assert len(headers) == len(records)
    assert set(repairs.origins.values()) == {"mgmt01"}
