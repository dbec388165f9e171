"""The default text report: the answer first and last, plain when not a terminal, every path:line whole."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time
import uuid

import pytest

from diagnostics.report.text_report import cite, extract_command

from cli_helpers import ROOT, SAMPLES, run_process

SAMPLE_NAMES = sorted(d for d in os.listdir(SAMPLES) if os.path.isfile(os.path.join(SAMPLES, d, "expected.json")))


@pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux (installed by .ci/run)")
def test_last_ten_lines_of_an_80x24_terminal_say_what_failed_why_and_what_to_run_next(tmp_path):
    """Acceptance of issue 13: a newcomer reading only the last screen knows what failed, why, and what to do."""
    socket = f"csdiag-test-{uuid.uuid4().hex[:8]}"
    done = tmp_path / "done"
    command = (f"cd {ROOT} && TERM=xterm-256color {sys.executable} -m diagnostics analyze samples/libvirt-memory-start --tz UTC; "
               f"touch {done}; sleep 60")
    tmux = ["tmux", "-L", socket, "-f", "/dev/null"]
    subprocess.run([*tmux, "new-session", "-d", "-x", "80", "-y", "24", command], check=True)
    try:
        deadline = time.monotonic() + 60
        while not done.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert done.exists(), "csdiag did not finish in the terminal"
        screen = subprocess.run([*tmux, "capture-pane", "-p"], capture_output=True, text=True, check=True).stdout
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True)
    rows = screen.rstrip("\n").split("\n")
    while rows and not rows[-1].strip():
        rows.pop()
    assert all(len(r) <= 80 for r in rows)
    last = "\n".join(rows[-10:])
    assert "i-2-57-VM" in last and "failed at start" in last  # what failed
    assert "why:" in last and "allocate the guest" in re.sub(r"\s*\n\s*", " ", last)  # why (wrapped by the terminal)
    assert "next: ssh kvm01 free -m" in last  # what to run next


def test_piped_report_is_plain_text_with_whole_lines_and_whole_citations():
    proc = run_process("analyze", "samples/libvirt-memory-start", "--tz", "UTC", "--verbose")
    assert proc.returncode == 2
    out = proc.stdout
    assert "\x1b[" not in out
    assert not set("╭╮╰╯│─━┃") & set(out), "no boxes when not a terminal"
    doc = json.loads(run_process("analyze", "samples/libvirt-memory-start", "--tz", "UTC", "-f", "json").stdout)
    lines = out.splitlines()
    cited = {f"{e['path']}:{e['line']}" for f in doc["findings"] if not f["benign"] for e in f["evidence"]}
    assert cited
    for c in cited:  # every evidence citation appears whole on one line (copyable, clickable)
        assert any(c in line for line in lines), c
    assert max(len(line) for line in lines) > 100, "long lines are not hard-wrapped at 80 columns"


def test_default_report_is_compact_and_verbose_shows_every_finding():
    short = run_process("analyze", "samples/libvirt-memory-start", "--tz", "UTC").stdout
    full = run_process("analyze", "samples/libvirt-memory-start", "--tz", "UTC", "--verbose").stdout
    assert len(short.splitlines()) <= 40 < len(full.splitlines())
    assert "--verbose" in short
    doc = json.loads(run_process("analyze", "samples/libvirt-memory-start", "--tz", "UTC", "-f", "json").stdout)
    for f in doc["findings"]:
        assert f["title"] in full
    # the answer first and last: the root cause is on the first screen and in the closing block
    first_screen = "\n".join(short.splitlines()[:8])
    assert "root cause:" in first_screen and "libvirt_memory" in first_screen
    assert short.rstrip().splitlines()[-1].startswith("   next: ")


@pytest.mark.parametrize("sample", SAMPLE_NAMES)
def test_no_unknown_inside_sentences_and_root_cause_said_once(sample):
    proc = run_process("analyze", os.path.join("samples", sample), "--tz", "UTC", "-f", "json")
    doc = json.loads(proc.stdout)
    sentences = [f["message"] for f in doc["findings"]]
    for inc in doc["incidents"]:
        rc = inc["root_cause"] or {}
        sentences += [rc.get("summary", "")] + [c["summary"] for c in inc["contributing"] + inc["symptoms"]]
        assert rc.get("summary") not in [c["summary"] for c in inc["contributing"]]
        assert not any(c["symptom_of"] for c in inc["contributing"])
    for s in sentences:
        assert not re.search(r"\bunknown\b", s, re.I), s
    text = run_process("analyze", os.path.join("samples", sample), "--tz", "UTC").stdout
    assert not re.search(r"\bunknown\b", text), text  # (the status word UNKNOWN is upper case)


def test_one_vm_naming_instance_name_with_uuid_once():
    text = run_process("analyze", "samples/libvirt-memory-start", "--tz", "UTC").stdout
    uuid_ = "6fa0d9d6-f21a-4d9d-bc59-e01636a1a137"
    assert text.count(uuid_) == 1 and "i-2-57-VM (uuid " + uuid_ in text


def test_evidence_inside_an_archive_is_cited_so_that_it_opens(tmp_path):
    member = "files/kvm01/agent.log"
    src = tmp_path / "src" / member
    src.parent.mkdir(parents=True)
    src.write_text("a\nb\nthe line\n")
    archive = tmp_path / "case.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(src, arcname=member)
    display = f"{archive}:{member}"  # how bundles name their members
    assert cite(display, 3) == f"{archive}!{member}:3"
    command = extract_command(display)
    out = tmp_path / "out"
    out.mkdir()
    subprocess.run(command, shell=True, cwd=out, check=True)
    assert (out / member).read_text().splitlines()[2] == "the line"
    assert cite("samples/x/agent.log", 7) == "samples/x/agent.log:7" and extract_command("samples/x/agent.log") is None


def test_help_is_not_cut():
    proc = run_process("analyze", "--help", env={"COLUMNS": "80"})
    assert proc.returncode == 0 and "…" not in proc.stdout
    assert "fnmatch" in proc.stdout.replace("\n", " ")


def _every_command():
    import typer

    from diagnostics.cli import app

    def walk(command, path):
        yield path
        for name, sub in sorted(getattr(command, "commands", {}).items()):
            yield from walk(sub, [*path, name])

    return list(walk(typer.main.get_command(app), []))


def _help_in_terminal(argv, columns):
    """`csdiag ARGV --help` on a real pseudo-terminal COLUMNS wide: what an operator's terminal shows."""
    import fcntl
    import pty
    import struct
    import termios

    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "FORCE_COLOR", "NO_COLOR")}
    env["TERM"] = "xterm"
    proc = subprocess.Popen([sys.executable, "-m", "diagnostics", *argv, "--help"], cwd=ROOT, env=env,
                            stdin=terminal, stdout=terminal, stderr=terminal, close_fds=True)
    os.close(terminal)
    chunks = []
    try:
        while True:
            try:
                data = os.read(controller, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
    finally:
        os.close(controller)
        proc.wait(timeout=60)
    return proc.returncode, re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", b"".join(chunks).decode("utf-8", "replace"))


@pytest.mark.parametrize("argv", _every_command(), ids=lambda argv: " ".join(argv) or "csdiag")
def test_no_help_text_is_cut(argv):
    """Boxed help on an 80-column terminal, plain help when piped or narrower: never a word cut with "…"."""
    rc, boxed = _help_in_terminal(argv, 80)
    assert rc == 0 and "─" in boxed and "…" not in boxed, [line for line in boxed.splitlines() if "…" in line]
    rc, narrow = _help_in_terminal(argv, 50)
    assert rc == 0 and "─" not in narrow and "…" not in narrow
    piped = run_process(*argv, "--help")
    assert piped.returncode == 0 and "─" not in piped.stdout and "…" not in piped.stdout
    assert "Usage: csdiag" in piped.stdout


@pytest.mark.parametrize("sample", SAMPLE_NAMES)
def test_missing_evidence_never_asks_for_an_agent_log_that_is_among_the_inputs(sample):
    """An agent.log in a host's folder is that host's agent.log, even when some of its records read as management
    server ones (its input side is then `mixed`): asking the operator to probe for it contradicts the evidence cited."""
    doc = json.loads(run_process("analyze", f"samples/{sample}", "--tz", "UTC", "-f", "json").stdout)
    given = {item["path"].split("/")[-2] for item in doc["inputs"]
             if item.get("kind") == "log" and os.path.basename(item["path"]).startswith("agent.log")}
    asked = {line.split("host ")[1].split(" ")[0] for incident in doc["incidents"]
             for line in incident["missing_evidence"] if line.startswith("no agent.log from host")}
    assert not given & asked, (given, asked)
