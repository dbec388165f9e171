"""`python -m diagnostics.host`: real process, real files, exit codes and one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys


def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "diagnostics.host", *args], input=stdin, capture_output=True,
                          text=True, timeout=60, env={"NO_COLOR": "1", "PATH": "/usr/bin:/bin"})


def test_prints_one_json_fact_per_line(formats):
    done = run(str(formats / "numactl_2node_node0_exhausted.txt"), "--host", "kvm03")
    assert done.returncode == 0 and done.stderr == ""
    nodes = [json.loads(line) for line in done.stdout.splitlines()]
    assert [(n["kind"], n["node"], n["free"], n["host_name"]) for n in nodes] == [
        ("numa_node", 0, 1024 * 1024**2, "kvm03"), ("numa_node", 1, 90112 * 1024**2, "kvm03")]


def test_stdin_paste():
    line = "[ 9605.331020] INFO: task qemu-kvm:8812 blocked for more than 122 seconds.\n"
    done = run("-", stdin=line)
    (event,) = [json.loads(x) for x in done.stdout.splitlines()]
    assert (event["event"], event["pid"], event["path"]) == ("hung_task", 8812, "<stdin>")
    assert done.returncode == 0


def test_bad_inputs_exit_3_with_one_line_each(tmp_path, real):
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"\x00\x01\x02" * 100)
    done = run(str(junk), str(tmp_path / "missing.txt"), str(real / "uptime.txt"))
    assert done.returncode == 3
    assert "Traceback" not in done.stderr
    errors = done.stderr.strip().splitlines()
    assert len(errors) == 2 and str(junk) in errors[0] and "missing.txt" in errors[1]
    assert json.loads(done.stdout)["kind"] == "host_uptime"  # the good file is still read
