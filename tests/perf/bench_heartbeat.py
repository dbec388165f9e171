#!/usr/bin/env python3
"""Benchmark analyze_capture: packets/s and peak RSS on generated captures (not a unit test).

A raw pcap writer (scapy would need minutes for a million packets) writes `agents` heartbeat links that
ping every 60 s (ping, ACK, answer, ACK), with one in 10 frames of unrelated port-22 traffic, into a
temp directory. Each size is analysed in a fresh child process so that its peak RSS (getrusage) is its
own; a flat RSS from 100k to 1M packets shows the pass streams.

    python tests/perf/bench_heartbeat.py                     # 100k and 1M packets
    python tests/perf/bench_heartbeat.py --packets 200000    # one size
Target: >= 50k packets/s (wall clock), peak RSS independent of the capture size. Packets per CPU second
are printed too: on a shared machine they vary less than the wall-clock figure.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

T0 = 1_763_900_000
PING = b"\x17\x03\x03\x00\x40" + bytes(64)
ANSWER = b"\x17\x03\x03\x00\x50" + bytes(80)
ETH = b"\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00"
SERVER_IP = bytes([192, 0, 2, 5])


def _frame(src: bytes, dst: bytes, sport: int, dport: int, seq: int, ack: int, flags: int, payload: bytes = b"") -> bytes:
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40 + len(payload), 0, 0x4000, 64, 6, 0, src, dst)
    tcp = struct.pack("!HHIIHHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, (5 << 12) | flags, 64240, 0, 0)
    return ETH + ip + tcp + payload


def write_capture(path: Path, packets: int, agents: int = 200) -> int:
    """Write about `packets` frames; returns the exact number written."""
    rec = struct.Struct("<IIII")
    written = 0
    with open(path, "wb", buffering=1 << 20) as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))

        def put(ts: float, frame: bytes) -> None:
            nonlocal written
            sec = int(ts)
            out.write(rec.pack(sec, int((ts - sec) * 1e6), len(frame), len(frame)))
            out.write(frame)
            written += 1

        ips = [bytes([192, 0, 2, 100 + a % 100]) if a < 100 else bytes([198, 51, 100, a % 250]) for a in range(agents)]
        seqs = [[1000 * a, 900000 + 1000 * a] for a in range(agents)]
        for a in range(agents):  # every connection opens with a three-way handshake
            c, s = seqs[a]
            t = T0 + a * 0.001
            put(t, _frame(ips[a], SERVER_IP, 40000 + a, 8250, c, 0, 0x02))
            put(t + 0.0001, _frame(SERVER_IP, ips[a], 8250, 40000 + a, s, c + 1, 0x12))
            put(t + 0.0002, _frame(ips[a], SERVER_IP, 40000 + a, 8250, c + 1, s + 1, 0x10))
            seqs[a] = [c + 1, s + 1]
        cycle = 0
        while written < packets:
            base = T0 + 1 + cycle * 60
            for a in range(agents):
                c, s = seqs[a]
                t = base + a * 0.2
                put(t, _frame(ips[a], SERVER_IP, 40000 + a, 8250, c, s, 0x18, PING))
                c += len(PING)
                put(t + 0.0002, _frame(SERVER_IP, ips[a], 8250, 40000 + a, s, c, 0x10))
                put(t + 0.003, _frame(SERVER_IP, ips[a], 8250, 40000 + a, s, c, 0x18, ANSWER))
                s += len(ANSWER)
                put(t + 0.0032, _frame(ips[a], SERVER_IP, 40000 + a, 8250, c, s, 0x10))
                if a % 2 == 0:  # unrelated ssh traffic the analysis must skip
                    put(t + 0.004, _frame(ips[a], SERVER_IP, 50000, 22, cycle, 0, 0x10, bytes(48)))
                seqs[a] = [c, s]
            cycle += 1
    return written


def child(path: str) -> None:
    from diagnostics.heartbeat import analyze_capture

    start, cpu = time.perf_counter(), time.process_time()
    report = analyze_capture(path)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({
        "packets": report.packets, "seconds": elapsed, "packets_per_s": report.packets / elapsed,
        "packets_per_cpu_s": report.packets / cpu,
        "peak_rss_mib": peak_kib / 1024, "flows": len(report.flows), "severity": report.severity,
    }))


def main() -> int:
    parser = argparse.ArgumentParser(description="benchmark analyze_capture")
    parser.add_argument("--packets", type=int, action="append", help="capture size(s); default 100000 and 1000000")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return 0
    sizes = args.packets or [100_000, 1_000_000]
    rows = []
    with tempfile.TemporaryDirectory(prefix="csdiag-bench-") as tmp:
        for size in sizes:
            path = Path(tmp) / f"bench-{size}.pcap"
            t = time.perf_counter()
            written = write_capture(path, size)
            made = time.perf_counter() - t
            run = subprocess.run([sys.executable, __file__, "--child", str(path)], capture_output=True, text=True, timeout=1800)
            if run.returncode:
                print(run.stderr, file=sys.stderr)
                return 1
            row = json.loads(run.stdout)
            rows.append(row)
            print(
                f"{written:>9,} packets ({path.stat().st_size / 2**20:6.1f} MiB, written in {made:4.1f} s): "
                f"{row['packets_per_s']:>9,.0f} packets/s ({row['packets_per_cpu_s']:,.0f} per CPU second), {row['seconds']:6.2f} s, peak RSS {row['peak_rss_mib']:6.1f} MiB, "
                f"{row['flows']} flows, severity {row['severity']}"
            )
            os.unlink(path)
    slowest = min(r["packets_per_s"] for r in rows)
    print(f"target >= 50,000 packets/s: {'met' if slowest >= 50_000 else 'NOT met'} (slowest {slowest:,.0f})")
    if len(rows) > 1:
        growth = rows[-1]["peak_rss_mib"] - rows[0]["peak_rss_mib"]
        print(f"peak RSS growth from {rows[0]['packets']:,} to {rows[-1]['packets']:,} packets: {growth:+.1f} MiB")
    return 0 if slowest >= 50_000 else 1


if __name__ == "__main__":
    sys.exit(main())
