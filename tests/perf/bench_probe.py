"""Benchmark: wall time of `run_probe` against real sshd instances on loopback (run as root).

    python tests/perf/bench_probe.py [--hosts 20] [--repeat 3]

Figures: 1 host with the full allow-list; N hosts (N sshd on 127.0.0.2..N+1) at --parallel 8 (the default)
and at --parallel N; the throughput of one large stdout stream through the drain loop; peak RSS.
Each figure is taken twice: as root, whose login shell is bash (sshd makes bash source ~/.bashrc for
every command, which is what a real host does too), and as a throwaway user whose shell is /bin/sh
(created with useradd, removed at the end), which shows the probe's own cost.
Only loopback addresses; every sshd started here is stopped by its own Popen handle.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import resource
import shutil
import pwd
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "probe"))

from sshd_server import SSHD, SshdFactory, keygen, prepare_privsep_dir  # noqa: E402

from diagnostics.probe import CommandSpec, ProbeOptions, run_probe  # noqa: E402


def timed(hosts: list[str], options: ProbeOptions, repeat: int) -> tuple[float, list[str]]:
    walls, statuses = [], []
    for index in range(repeat):
        out = options.out / f"run{len(hosts)}-{options.parallel}-{index}"
        started = time.perf_counter()
        results = run_probe(hosts, dataclasses.replace(options, out=out))
        walls.append(time.perf_counter() - started)
        statuses = [result.status for result in results]
    return statistics.median(walls), statuses


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=20, help="sshd instances for the parallel run (max 200)")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    if os.geteuid() != 0 or not os.path.exists(SSHD):
        print("needs root and /usr/sbin/sshd (openssh-server)", file=sys.stderr)
        return 3
    hosts_wanted = max(1, min(args.hosts, 200))
    prepare_privsep_dir()
    root = Path(tempfile.mkdtemp(prefix="csdiag-bench-probe-"))
    root.chmod(0o755)
    client_key = keygen(root / "clientkey")
    authorized = root / "authorized_keys"
    authorized.write_text(client_key.with_suffix(".pub").read_text())
    authorized.chmod(0o644)
    factory = SshdFactory(root, authorized)
    bench_user = f"csdiagb{os.getpid() % 100000}"
    subprocess.run(["useradd", "-m", "-d", str(root / "home"), "-s", "/bin/sh", bench_user], check=True, timeout=20)
    subprocess.run(["usermod", "-p", "*", bench_user], check=True, timeout=20)
    try:
        servers = [factory.start(f"127.0.0.{2 + index}") for index in range(hosts_wanted)]
        known_hosts = root / "known_hosts"
        known_hosts.write_text("".join(server.known_hosts_line() for server in servers))
        options = ProbeOptions(
            identity=client_key, known_hosts=known_hosts, use_agent=False, out=root / "out",
            agent_properties_path=str(root / "agent.properties"), agent_log_path=str(root / "agent.log"),
        )
        (root / "agent.properties").write_text("port=8250\nkeystore.passphrase=x\n")
        (root / "agent.log").write_text("")
        targets = [server.target for server in servers]

        for user in ("root", bench_user):
            shell = pwd.getpwnam(user).pw_shell
            user_options = dataclasses.replace(options, user=user)
            one, statuses = timed(targets[:1], user_options, args.repeat)
            print(f"[{user}, login shell {shell}] 1 host, full allow-list: {one:.2f} s median of {args.repeat}  ({statuses[0]})")
            for parallel in sorted({8, hosts_wanted}):
                wall, statuses = timed(targets, dataclasses.replace(user_options, parallel=parallel), args.repeat)
                collected = statuses.count("ok") + statuses.count("partial")
                print(f"[{user}, login shell {shell}] {hosts_wanted} hosts, --parallel {parallel}: {wall:.2f} s median of {args.repeat}  ({collected}/{hosts_wanted} collected)")

        size = 200 * 1024 * 1024
        big = CommandSpec(name="big", script=f"head -c {size} /dev/zero", output="big.bin", timeout=120, byte_cap=size)
        wall, statuses = timed(targets[:1], dataclasses.replace(options, user=bench_user, commands=(big,)), 1)
        print(f"one {size // (1024 * 1024)} MiB stdout stream: {wall:.2f} s, {size / wall / 1e6:.0f} MB/s through the drain loop")
        print(f"peak RSS of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    finally:
        factory.stop_all()
        subprocess.run(["userdel", "-r", bench_user], capture_output=True, timeout=20)
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
