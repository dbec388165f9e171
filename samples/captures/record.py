#!/usr/bin/env python3
"""Re-record the sample heartbeat captures on loopback (developer tool; needs root and tcpdump).

A small TLS "management server" listens on 127.0.0.1:<port>; a small TLS "agent" connects and sends
CloudStack-like framed pings (4-byte big-endian length + JSON body) every few seconds, and the server
answers each one. tcpdump records the port on `lo` meanwhile. Only loopback is ever used.

    python samples/captures/record.py                 # all scenarios into samples/captures/
    python samples/captures/record.py --only gap --out /tmp/x

The tests import this file to record a fresh capture, so keep its functions importable and side-effect free.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

HOST = "127.0.0.1"
HERE = Path(__file__).resolve().parent


def make_cert(directory: Path, name: str = "csdiag-sample-ms") -> tuple[Path, Path]:
    """A throw-away self-signed certificate made by the openssl CLI (2 days, P-256)."""
    cert, key = directory / f"{name}.crt", directory / f"{name}.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", f"/CN={name}", "-addext", f"subjectAltName=IP:{HOST}"],
        check=True, capture_output=True, timeout=30,
    )
    return cert, key


@contextmanager
def tcpdump(path: Path, port: int, snaplen: int = 0) -> Iterator[None]:
    """Record `tcp port <port>` on lo into `path` until the block ends (SIGINT, as a user would)."""
    cmd = ["tcpdump", "-i", "lo", "-U", "-n", "-w", str(path)]
    if snaplen:
        cmd += ["-s", str(snaplen)]
    cmd.append(f"tcp port {int(port)}")
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 10
        assert proc.stderr is not None
        line = proc.stderr.readline().decode(errors="replace")  # "tcpdump: listening on lo, ..."
        if "listening on" not in line or time.monotonic() > deadline:
            raise RuntimeError(f"tcpdump did not start: {line.strip()}")
        time.sleep(0.2)  # the filter is installed right after the banner
        yield
        time.sleep(0.3)  # let the last segments reach the capture
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def frame(body: dict) -> bytes:
    data = json.dumps(body, separators=(",", ":")).encode()
    return struct.pack("!I", len(data)) + data


def read_frame(conn: ssl.SSLSocket) -> bytes | None:
    head = _read_exact(conn, 4)
    if head is None:
        return None
    return _read_exact(conn, struct.unpack("!I", head)[0])


def _read_exact(conn: ssl.SSLSocket, n: int) -> bytes | None:
    buf = b""
    while len(buf) < n:
        chunk = conn.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


class ManagementServer:
    """Answers every framed ping with a PingAnswer; optionally aborts (RST) a connection after N pings."""

    def __init__(self, port: int, cert: Path, key: Path, *, max_tls: ssl.TLSVersion = ssl.TLSVersion.TLSv1_3,
                 abort_after: int | None = None) -> None:
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.maximum_version = max_tls
        self.ctx.load_cert_chain(cert, key)
        self.abort_after = abort_after
        self.sock = socket.create_server((HOST, port))
        self.sock.settimeout(0.2)
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                raw, _ = self.sock.accept()
            except (socket.timeout, OSError):
                continue
            threading.Thread(target=self._serve, args=(raw,), daemon=True).start()

    def _serve(self, raw: socket.socket) -> None:
        raw.settimeout(60)
        try:
            with self.ctx.wrap_socket(raw, server_side=True) as conn:
                answered = 0
                while (msg := read_frame(conn)) is not None:
                    seq = json.loads(msg).get("seq", 0)
                    conn.sendall(frame({"com.cloud.agent.api.PingAnswer": {"seq": seq, "result": True}}))
                    answered += 1
                    if self.abort_after is not None and answered >= self.abort_after:
                        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                        return  # closing with linger 0 sends RST
        except (OSError, ssl.SSLError, ValueError):
            pass  # the agent went away or failed the handshake: that is what some scenarios record

    def close(self) -> None:
        self.stopping.set()
        self.thread.join(2)
        self.sock.close()


class Agent:
    """A TLS client that pings like a CloudStack agent (PingRoutingCommand every `interval` seconds)."""

    def __init__(self, port: int, cafile: Path | None, *, max_tls: ssl.TLSVersion = ssl.TLSVersion.TLSv1_3) -> None:
        ctx = ssl.create_default_context(cafile=str(cafile) if cafile else None)
        ctx.maximum_version = max_tls
        raw = socket.create_connection((HOST, port), timeout=10)
        self.conn = ctx.wrap_socket(raw, server_hostname=HOST)  # takes over raw's descriptor
        self.seq = 0

    def ping(self) -> bool:
        self.seq += 1
        self.conn.sendall(frame({"com.cloud.agent.api.PingRoutingCommand": {"hostType": "Routing", "hostId": 4}, "seq": self.seq}))
        return read_frame(self.conn) is not None

    def pings(self, count: int, interval: float) -> None:
        for i in range(count):
            if i:
                time.sleep(interval)
            self.ping()

    def abort(self) -> None:
        """Close with SO_LINGER 0: the kernel sends RST, like an agent process killed mid-connection."""
        self.conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.conn.close()  # no close_notify: Python only sends one from unwrap()

    def close(self) -> None:
        self.conn.close()


def _scenario_healthy(port: int, cert: Path, key: Path, interval: float = 2.0) -> Callable[[], None]:
    server = ManagementServer(port, cert, key)
    agent = Agent(port, cert)
    agent.pings(8, interval)
    time.sleep(interval / 2)
    return lambda: (agent.close(), server.close())  # closed after the capture stops: the link stays up in it


def _scenario_gap(port: int, cert: Path, key: Path, interval: float = 2.0) -> Callable[[], None]:
    server = ManagementServer(port, cert, key)
    agent = Agent(port, cert)
    agent.pings(4, interval)
    time.sleep(interval * 4.5)  # 9 s at 2 s: > interval x 2.5, the silence a management server counts as "behind on ping"
    agent.pings(4, interval)
    time.sleep(interval / 2)
    return lambda: (agent.close(), server.close())


def _scenario_reset(port: int, cert: Path, key: Path, interval: float = 2.0) -> Callable[[], None]:
    server = ManagementServer(port, cert, key, max_tls=ssl.TLSVersion.TLSv1_2)
    agent = Agent(port, cert, max_tls=ssl.TLSVersion.TLSv1_2)
    agent.pings(4, interval)
    agent.abort()
    time.sleep(1.0)  # the agent's reconnect back-off
    again = Agent(port, cert, max_tls=ssl.TLSVersion.TLSv1_2)
    again.pings(4, interval)
    time.sleep(interval / 2)
    return lambda: (again.close(), server.close())


def _scenario_tls_failed(port: int, cert: Path, key: Path, interval: float = 2.0) -> Callable[[], None]:
    server = ManagementServer(port, cert, key)
    try:
        Agent(port, None)  # trusts the system CAs only: rejects the self-signed server certificate
    except ssl.SSLError:
        pass
    time.sleep(0.5)
    return server.close


SCENARIOS: dict[str, tuple[Callable[..., Callable[[], None]], str]] = {
    "healthy": (_scenario_healthy, "8 pings 2 s apart over TLS 1.3; the link is still up when the capture stops"),
    "gap": (_scenario_gap, "4 pings, 9 s of silence (> 2 s x 2.5), 4 pings; analyse with --ping-interval 2"),
    "reset-reconnect": (_scenario_reset, "TLS 1.2; 4 pings, the agent aborts (RST), reconnects 1 s later, 4 pings"),
    "tls-failed": (_scenario_tls_failed, "the agent rejects the server certificate during a TLS 1.3 handshake"),
}


def record(name: str, out: Path, port: int = 8250, interval: float = 2.0, snaplen: int = 0) -> Path:
    """Record one scenario into out/heartbeat-<name>.pcap and return its path."""
    scenario = SCENARIOS[name][0]
    target = out / f"heartbeat-{name}.pcap"
    with tempfile.TemporaryDirectory() as tmp:
        cert, key = make_cert(Path(tmp))
        with tcpdump(target, port, snaplen):
            cleanup = scenario(port, cert, key, interval)
        cleanup()
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE, help="directory for the pcaps (default: next to this script)")
    parser.add_argument("--port", type=int, default=8250)
    parser.add_argument("--only", choices=sorted(SCENARIOS), action="append", help="record only these scenarios")
    args = parser.parse_args(argv)
    if os.geteuid() != 0 or not shutil.which("tcpdump") or not shutil.which("openssl"):
        print("record.py: needs root, tcpdump and openssl", file=sys.stderr)
        return 3
    args.out.mkdir(parents=True, exist_ok=True)
    for name in args.only or list(SCENARIOS):
        path = record(name, args.out, args.port)
        print(f"{path}  {path.stat().st_size} bytes  ({SCENARIOS[name][1]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
