"""`--format html` / `-o report.html`: one self-contained file, rendered by a real headless Chromium."""

from __future__ import annotations

import html.parser
import os
import shutil
import subprocess

import pytest

from cli_helpers import SAMPLES, run_process

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (installed by .ci/run)")


def chromium(tmp_path, *args):
    """Headless Chromium with everything that could reach the network switched off."""
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--disable-dev-shm-usage", f"--user-data-dir={tmp_path / 'profile'}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


class _Resources(html.parser.HTMLParser):
    """Every attribute that could make a browser fetch something."""

    def __init__(self):
        super().__init__()
        self.fetching, self.tags = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        for name, value in attrs:
            if name in ("src", "srcset", "poster", "data", "action", "formaction") or (tag == "link" and name == "href"):
                self.fetching.append((tag, name, value))
            if name == "style" and value and "url(" in value:
                self.fetching.append((tag, name, value))


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    folder = tmp_path_factory.mktemp("html")
    target = folder / "report.html"
    proc = run_process("analyze", os.path.join(SAMPLES, "libvirt-memory-start"), "--tz", "UTC", "-o", str(target))
    assert proc.returncode == 2, proc.stderr
    return target


def test_the_file_is_self_contained(report):
    text = report.read_text()
    parser = _Resources()
    parser.feed(text)
    assert parser.fetching == []
    assert "script" not in parser.tags and "url(" not in text and "@import" not in text
    assert "Content-Security-Policy" in text and "default-src 'none'" in text
    assert text.count("<svg") == 1 and "<details>" in text


@needs_chromium
def test_chromium_renders_the_root_cause_timeline_and_evidence(report, tmp_path):
    proc = chromium(tmp_path, "--dump-dom", report.as_uri())
    dom = proc.stdout
    assert proc.returncode == 0 and "</html>" in dom, proc.stderr[-2000:]
    assert 'class="cause root-cause"' in dom and "could not allocate the guest memory" in dom  # the root cause
    assert "start FAILED" in dom and 'class="failed-marker"' in dom  # the failing step, marked in the timeline
    assert ">kvm01</text>" in dom and ">kvm02</text>" in dom  # one lane per host
    assert "kvm01/agent.log:378" in dom and "<details>" in dom  # evidence as path:line with the raw line inside
    assert "Missing evidence" in dom and "Inputs" in dom
    shot = tmp_path / "shot.png"
    proc = chromium(tmp_path, "--window-size=1280,1000", f"--screenshot={shot}", report.as_uri())
    assert shot.exists() and shot.stat().st_size > 20_000, proc.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@needs_chromium
def test_hostile_text_from_the_inputs_stays_text(tmp_path):
    """A log line carrying markup is shown, never run: no element from the input reaches the DOM."""
    logs = tmp_path / "in"
    logs.mkdir()
    (logs / "management-server.log").write_text(
        '2025-03-10 16:20:31,560 INFO  [c.c.v.VirtualMachineManagerImpl] (Work-Job-Executor-2:[ctx-6d7e8f90, job-1400/job-1401]) '
        '(logid:6d7e8f90) Unable to start VM on Host {"id":4,"name":"kvm01"} due to <img src=x onerror=alert(1)><b id="pwn">x</b>\n')
    target = tmp_path / "r.html"
    proc = run_process("analyze", str(logs), "--tz", "UTC", "-f", "html", "-o", str(target))
    assert proc.returncode in (0, 1, 2), proc.stderr
    dom = chromium(tmp_path, "--dump-dom", target.as_uri()).stdout
    assert '<b id="pwn">' not in dom and "<img" not in dom  # no element made from the input
    assert '&lt;b id="pwn"&gt;' in dom and "&lt;img src=x" in dom  # but the text is there, visible


def test_format_follows_the_extension_and_html_is_redacted(tmp_path):
    logs = tmp_path / "in"
    logs.mkdir()
    (logs / "management-server.log").write_text(
        "2025-03-10 16:19:58,000 DEBUG [c.c.a.ApiServlet] (qtp1850777594-40:[ctx-c3d4e5f6]) (logid:c3d4e5f6) ===START===  "
        "10.20.0.15 -- GET  command=scaleVirtualMachine&id=5b0c9f1e&serviceofferingid=9&sessionkey=S3cr3tS3ss10nK3y&response=json\n"
        "2025-03-10 16:19:58,200 INFO  [c.c.a.ApiServer] (qtp1850777594-40:[ctx-c3d4e5f6]) (logid:c3d4e5f6) "
        "Unable to scale the vm: Dynamically scaling virtual machines is disabled for this zone, please contact your admin "
        "sessionkey=S3cr3tS3ss10nK3y\n")
    target = tmp_path / "out.html"
    proc = run_process("analyze", str(logs), "--tz", "UTC", "-o", str(target))
    text = target.read_text()
    assert text.startswith("<!DOCTYPE html>") and "S3cr3tS3ss10nK3y" not in text, proc.stderr


def test_the_host_lane_of_the_timeline_holds_the_evidence_of_that_hosts_agent_log():
    """kvm01/agent.log:378 is the root cause: kvm01's lane must carry it, not say "no evidence from this host"."""
    import json as _json

    from diagnostics.report.html_report import render_html

    doc = _json.loads(run_process("analyze", "samples/libvirt-memory-start", "--tz", "UTC", "-f", "json").stdout)
    page = render_html(doc)
    lanes = page.split(">kvm01</text>")[1].split("</text>")[0]  # what follows the kvm01 lane label

    assert "no evidence from this host" not in lanes
    assert page.count("no evidence from this host among the inputs") == 1  # kvm02: no file of it among the inputs
