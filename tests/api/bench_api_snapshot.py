"""Benchmark: a snapshot of a large cloud over loopback, then reading it back (run by hand, not by pytest).

    python tests/api/bench_api_snapshot.py [--hosts 500] [--vms 19000] [--target-seconds 60]

Starts the test management server on 127.0.0.1 with that many hosts and running VMs, takes the snapshot the
way `csdiag api-snapshot` does (signed, paged by 500), reads its facts back, and prints time and peak RSS for
each half. Exits 1 when the whole run exceeds the target, so CI can use it as a smoke benchmark.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cloudstack_fake import API_KEY, SECRET_KEY, ZONE_UUID, FakeManagementServer, ServerState  # noqa: E402
from diagnostics.api import facts_from_snapshot  # noqa: E402
from diagnostics.api.client import ApiClient  # noqa: E402
from diagnostics.api.collect import Collector, Target  # noqa: E402
from diagnostics.api.credentials import ApiCredentials  # noqa: E402
from diagnostics.api.snapshot import write_snapshot  # noqa: E402


def big_state(hosts: int, vms: int) -> ServerState:
    state = ServerState()
    template_host = state.data["listHosts"]["host"][0]
    state.data["listHosts"]["host"] = [
        dict(template_host, id=f"00000000-0000-4000-8000-{h:012d}", name=f"kvm{h:04d}") for h in range(hosts)]
    template_vm = state.data["listVirtualMachines"]["virtualmachine"][0]
    state.data["listVirtualMachines"]["virtualmachine"] += [
        dict(template_vm, id=f"11111111-0000-4000-8000-{v:012d}", name=f"vm{v}", instancename=f"i-5-{v}-VM",
             hostid=f"00000000-0000-4000-8000-{v % hosts:012d}", hostname=f"kvm{v % hosts:04d}", zoneid=ZONE_UUID)
        for v in range(vms)]
    return state


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hosts", type=int, default=500)
    parser.add_argument("--vms", type=int, default=19000)
    parser.add_argument("--target-seconds", type=float, default=60.0)
    args = parser.parse_args()
    server = FakeManagementServer(big_state(args.hosts, args.vms))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            started = time.perf_counter()
            client = ApiClient(ApiCredentials(server.url, API_KEY, SECRET_KEY), timeout_s=60)
            result = Collector(client).collect(Target(vm="web01", offering="Large"))
            now = datetime.now(timezone.utc)
            folder = write_snapshot(Path(tmp) / "snap", result, server.url, "bench", Target(), now, now)
            collected = time.perf_counter() - started
            rss_collect = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            size = sum(p.stat().st_size for p in folder.iterdir())
            started = time.perf_counter()
            facts, warnings = facts_from_snapshot(folder)
            read = time.perf_counter() - started
            rss_read = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    finally:
        server.shutdown()
        server.server_close()
    print(f"{args.hosts} hosts, {args.vms} VMs: {len(result.calls)} calls, snapshot {size / 1e6:.1f} MB; "
          f"collect+write {collected:.1f}s (peak RSS {rss_collect:.0f} MiB); "
          f"read {len(facts)} facts in {read:.2f}s (peak RSS {rss_read:.0f} MiB)")
    for line in warnings:
        print(f"warning: {line}")
    return 0 if collected + read <= args.target_seconds else 1


if __name__ == "__main__":
    sys.exit(main())
