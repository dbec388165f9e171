"""The drain loop against a real sshd: every byte of both streams arrives, deadlines hold without `timeout`."""

from __future__ import annotations

import io
import threading
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from diagnostics.probe.connect import open_session
from diagnostics.probe.execute import Cancelled, exec_bounded
from diagnostics.probe.options import ProbeOptions, parse_target

pytestmark = pytest.mark.sshd


@pytest.fixture(scope="module")
def session(sshd, client_key, tmp_path_factory):
    known_hosts = tmp_path_factory.mktemp("kh") / "known_hosts"
    known_hosts.write_text(sshd.known_hosts_line())
    options = ProbeOptions(identity=client_key, known_hosts=known_hosts, use_agent=False, connect_timeout=5)
    opened = open_session(parse_target(sshd.target, "root", 22), options, {"lock": threading.Lock()})
    yield opened
    opened.close()


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(out_size=st.integers(0, 3_000_000), err_size=st.integers(0, 3_000_000), rc=st.integers(0, 3))
def test_both_streams_arrive_whole_whatever_their_sizes(session, out_size, err_size, rc):
    script = f"head -c {out_size} /dev/urandom | od -An -v -tx1 | head -c {out_size} & head -c {err_size} /dev/zero | tr '\\0' e >&2; wait; exit {rc}"
    sink = io.BytesIO()

    outcome = exec_bounded(session.client.get_transport(), f"sh -c {script!r}", deadline_s=30, byte_cap=16 * 1024 * 1024, sink=sink)

    assert outcome.rc == rc and not outcome.deadline_hit and not outcome.truncated
    assert outcome.stdout_bytes == len(sink.getvalue()) == out_size
    assert outcome.stderr == b"e" * min(err_size, 64 * 1024)  # stderr is kept up to 64 KiB, the rest drained


def test_the_client_deadline_holds_even_without_a_remote_timeout(session):
    started = time.monotonic()

    outcome = exec_bounded(session.client.get_transport(), "sleep 30", deadline_s=1, byte_cap=1024, sink=None)

    assert outcome.deadline_hit and outcome.rc is None
    assert 0.9 <= time.monotonic() - started < 5


def test_cancelling_stops_a_running_command_promptly(session):
    cancel = threading.Event()
    threading.Timer(0.5, cancel.set).start()
    started = time.monotonic()

    with pytest.raises(Cancelled):
        exec_bounded(session.client.get_transport(), "sleep 30", deadline_s=60, byte_cap=1024, sink=None, cancel=cancel)

    assert time.monotonic() - started < 3
