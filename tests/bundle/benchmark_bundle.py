"""Benchmark: `bundle create` on a large management-server.log - throughput and peak memory.

Not a test (no timing assertions in unit tests); run by hand or in CI's perf job:

    python tests/bundle/benchmark_bundle.py --mb 200 [--pseudonymize]

It writes a realistic log (4.20+ layout, API query strings with keys every 20 records, Seq JSON bodies with
passwords, stack traces) into a temporary folder, bundles it in a child process and prints MB/s and the child's
peak RSS. Streaming means the RSS must stay flat as --mb grows (compare --mb 50 and --mb 400).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RECORDS = (
    "2025-03-10 15:{m:02d}:{s:02d},{ms:03d} DEBUG [c.c.a.ApiServlet] (qtp1850777594-40:[ctx-c3d4e5f6]) (logid:c3d4e5f6) ===START===  10.20.{a}.15 -- GET  command=listVirtualMachines&apiKey=K{n}abcdef0123456789&signature=S{n}%2BzZ9%3D&response=json\n",
    "2025-03-10 15:{m:02d}:{s:02d},{ms:03d} DEBUG [c.c.c.CapacityManagerImpl] (Work-Job-Executor-9:[ctx-1a2b3c4d, job-1310/job-1311, ctx-2b3c4d5e]) (logid:0f1e2d3c) Checking if host: Host {{\"id\":4,\"uuid\":\"0b6e\",\"name\":\"kvm{a:02d}\",\"type\":\"Routing\"}} has enough capacity for requested CPU: 16000 and requested RAM: (32.00 GB) 34359738368 , cpuOverprovisioningFactor: 2.0\n",
    "2025-03-10 15:{m:02d}:{s:02d},{ms:03d} DEBUG [c.c.a.t.Request] (AgentManager-Handler-5:[]) (logid:) Seq 4-72515492165812{n:05d}: Sending  {{ Cmd , MgmtId: 345049296663, via: 4(kvm{a:02d}), Ver: v1, Flags: 100011, [{{\"com.cloud.agent.api.StartCommand\":{{\"vm\":{{\"vncPassword\":\"P{n}\",\"passwordEnabled\":true}}}}}}] }}\n",
    "2025-03-10 15:{m:02d}:{s:02d},{ms:03d} ERROR [c.c.v.VmWorkJobDispatcher] (Work-Job-Executor-9:[ctx-1a2b3c4d, job-1310/job-1311]) (logid:0f1e2d3c) Unable to complete AsyncJob {{\"id\":1311}}, job origin: 1310\n"
    "com.cloud.exception.InsufficientServerCapacityException: Unable to create a deployment for VM instance {{\"id\":42}}Scope=interface com.cloud.dc.DataCenter; id=1\n"
    "\tat com.cloud.vm.VirtualMachineManagerImpl.orchestrateStart(VirtualMachineManagerImpl.java:1453)\n",
) + tuple(
    "2025-03-10 15:{m:02d}:{s:02d},{ms:03d} DEBUG [c.c.a.m.AgentManagerImpl] (AgentManager-Handler-12:[]) (logid:) Ping from Routing host 4(kvm{a:02d})\n"
    for _ in range(16)
)


def write_log(path: Path, megabytes: int) -> int:
    target = megabytes << 20
    written = n = 0
    with open(path, "w") as f:
        while written < target:
            block = []
            for template in RECORDS:
                n += 1
                block.append(template.format(m=(n // 60000) % 60, s=(n // 1000) % 60, ms=n % 1000, n=n, a=n % 7))
            text = "".join(block)
            f.write(text)
            written += len(text)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=200)
    parser.add_argument("--pseudonymize", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="csdiag-bundle-bench-") as tmp:
        log = Path(tmp) / "management-server.log"
        size = write_log(log, args.mb)
        code = (
            "import resource,sys\n"
            "from pathlib import Path\n"
            "from diagnostics.bundle import BundleOptions, create_bundle\n"
            f"r = create_bundle(BundleOptions(out=Path({tmp!r})/'b.tar.gz', paths=[{str(log)!r}], max_file_bytes=0, "
            f"reports=False, pseudonymize={args.pseudonymize}))\n"
            "import time\n"
            "from diagnostics.bundle.verify import verify_bundle\n"
            "t = time.perf_counter(); v = verify_bundle(str(r.path)); t = time.perf_counter() - t\n"
            "assert v.status == 'ok', v.problems\n"
            "print(sum(f['redactions'] for f in r.manifest['files']), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, t)\n"
        )
        start = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
        verify_s = float(out[2])
        elapsed = time.perf_counter() - start - verify_s
        redactions, rss_kib = int(out[0]), int(out[1])
        mode = "redact+pseudonymize" if args.pseudonymize else "redact"
        print(f"bundle create ({mode}): {size / 2**20:.0f} MiB in {elapsed:.1f} s = {size / 2**20 / elapsed:.1f} MiB/s, "
              f"{redactions} values redacted, peak RSS {rss_kib / 1024:.0f} MiB; verify {size / 2**20 / verify_s:.0f} MiB/s")


if __name__ == "__main__":
    main()
