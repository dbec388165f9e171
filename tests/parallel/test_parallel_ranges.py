"""Byte ranges of one large log give exactly the serial facts and input summary, and --jobs/Dask use them.

Reads are made tiny (blocks.CHUNK) so a few MB hold dozens of cuts: traces, capacity-check blocks, host pings and
NIC changes straddle them on purpose.
"""

from __future__ import annotations

import dataclasses
import os
import random
from datetime import timezone

import pytest
from conftest import SAMPLE_DIRS, SAMPLES, comparable, make_log

import diagnostics.parallel.pool as pool
import diagnostics.parallel.ranges as ranges
from diagnostics.analysis import analyze_paths
from diagnostics.logs import blocks, stream
from diagnostics.logs.interest import interest_for
from diagnostics.logs.reader import LogStats, ReadOptions
from diagnostics.model import Fact

# Line shapes of samples/stale-capacity-start and samples/*/kvm01 (written from CloudStack's source, see samples/_generator)
_HEAD = "{ts} DEBUG [c.c.c.CapacityManagerImpl] (Work-Job-Executor-{t}:ctx-{c:08x} job-{j}/job-{k} ctx-{c:08x}) (logid:{c:08x}) "
_CHECK = [
    "Checking if host: {h} has enough capacity for requested CPU: 4000 and requested RAM: (8.00 GB) 8589934592 , "
    "cpuOverprovisioningFactor: 2.0",
    "Hosts's actual total CPU: 83200 and CPU after applying overprovisioning: 166400",
    "We need to allocate to the last host again, so checking if there is enough reserved capacity",
    "Reserved CPU: 4000 , Requested CPU: 4000",
    "Reserved RAM: (8.00 GB) 8589934592 , Requested RAM: (8.00 GB) 8589934592",
    "Host has enough CPU and RAM available",
]
_PING = "{ts} DEBUG [c.c.a.m.AgentManagerImpl] (AgentManager-Handler-{t}:[]) (logid:) Ping from Routing host {h}(kvm{h:02d})"
_START = ('{ts} DEBUG [cloud.agent.Agent] (AgentRequest-Handler-2:[]) (logid:6d7e8f90) Request:Seq 3-{s}:  {{ Cmd , '
          'MgmtId: 52239118651215, via: 3, Ver: v1, Flags: 100011, [{{"com.cloud.agent.api.StartCommand":{{"vm":{{"id":57,'
          '"name":"i-2-57-VM","state":"Starting","type":"User","cpus":6,"nics":[{{"deviceId":0,"mac":"{mac}"}},'
          '{{"deviceId":1,"mac":"02:00:4c:9a:00:11"}}]}},"hostIp":"10.30.1.11","wait":0}}}}] }}')
_TRACE = ("{ts} ERROR [c.c.v.VirtualMachineManagerImpl] (Work-Job-Executor-{t}:ctx-{c:08x} job-{j}/job-{k} ctx-{c:08x}) "
          "(logid:{c:08x}) Unable to orchestrate start VM instance\ncom.cloud.exception.InsufficientServerCapacityException: "
          "Unable to create a deployment for VM instance {{\"id\":57}}Scope=interface com.cloud.dc.DataCenter; id=1\n")


def mixed_log(path: str, size: int, seed: int) -> None:
    """A busy management server (tests/perf/make_log.py) with, spread through it: capacity-check blocks whose lines
    lie far apart (some never closed), stack traces of up to 3000 lines, hosts that start pinging late, and
    StartCommands of one VM whose NIC MAC changes."""
    make_log(path + ".base", size, seed)
    rnd = random.Random(seed)
    with open(path + ".base", encoding="utf-8") as f:
        base = f.read().splitlines(keepends=True)
    os.unlink(path + ".base")
    out: list[str] = []
    open_checks: dict[int, int] = {}  # thread -> next line of its block
    macs = ["02:00:4c:9a:00:01", "02:00:4c:9a:00:02"]
    for n, line in enumerate(base):
        out.append(line)
        if not line[:2] == "20" or n % 7:
            continue
        ts = line[:23]
        roll = rnd.random()
        if roll < 0.03:
            t = rnd.randrange(40)
            step = open_checks.get(t, 0)
            c = 0xA0000000 + t
            out.append(_HEAD.format(ts=ts, t=t, c=c, j=t, k=t + 1) + _CHECK[step].format(h=rnd.randrange(1, 9)) + "\n")
            step = (step + 1) % len(_CHECK) if rnd.random() < 0.9 else 0  # sometimes a new check before the outcome
            open_checks[t] = step
        elif roll < 0.035:
            frames = rnd.choice((5, 200, 3000))
            out.append(_TRACE.format(ts=ts, t=rnd.randrange(40), c=rnd.getrandbits(32), j=1, k=2))
            out.extend(f"\tat com.cloud.vm.VirtualMachineManagerImpl.orchestrateStart(VirtualMachineManagerImpl.java:{i})\n"
                       for i in range(frames))
        elif roll < 0.045:
            host = rnd.randrange(1, 60) if n > len(base) // 3 else rnd.randrange(1, 20)  # new hosts join later
            out.append(_PING.format(ts=ts, t=rnd.randrange(10), h=host) + "\n")
        elif roll < 0.047:
            out.append(_START.format(ts=ts, s=rnd.getrandbits(40), mac=rnd.choice(macs)) + "\n")
    with open(path, "w", encoding="utf-8") as f:
        f.writelines(out)


@pytest.fixture
def tiny_reads(monkeypatch):
    """Reads of 64 KiB instead of 4 MiB, in the serial run and in the ranges alike."""
    monkeypatch.setattr(blocks, "CHUNK", 64 << 10)
    monkeypatch.setattr(stream, "CHUNK", 64 << 10)
    return 64 << 10


def _serial(path: str, opts: ReadOptions) -> tuple[dict, list[Fact]]:
    stats = LogStats(ranges.display_name(path))
    facts = list(stream.stream_facts(path, opts, stats, interest=opts.interest))
    return stats.to_dict(), facts


def _opts(rules=()) -> ReadOptions:
    return ReadOptions(tz=timezone.utc, tz_name="UTC", interest=interest_for(rules))


@pytest.fixture(scope="module")
def mixed(tmp_path_factory) -> str:
    path = str(tmp_path_factory.mktemp("ranges") / "management-server.log")
    mixed_log(path, 5 << 20, seed=11)
    return path


def test_ranges_cut_at_record_starts_and_give_the_serial_facts_and_summary(mixed, tiny_reads):
    opts = _opts()
    serial_stats, serial_facts = _serial(mixed, opts)
    planned = ranges.plan(mixed, tiny_reads)
    assert len(planned) > 60  # one cut per read: traces and capacity blocks straddle many of them
    with open(mixed, "rb") as f:
        data = f.read()
    for rng in planned[1:]:
        assert data[rng.start - 1:rng.start] == b"\n" and data[rng.start:rng.start + 2] == b"20"  # a header line
    stats, facts = ranges.read_whole(mixed, opts, tiny_reads)
    assert stats.to_dict() == serial_stats
    assert facts == serial_facts
    kinds = {type(f).__name__ for f in serial_facts}
    assert {"CapacityCheck", "HostIdentity", "NicChange"} <= kinds  # the state-dependent kinds really occur


def test_a_later_range_ships_records_that_depend_on_earlier_ranges_not_their_text(mixed, tiny_reads):
    planned = ranges.plan(mixed, 8 * tiny_reads)
    part = ranges.read_range(mixed, _opts(), planned[2])
    assert part.replays and part.provisional  # capacity lines, first pings per host, NIC changes
    assert len(part.replays) < len(part.facts) + 200
    assert part.state is None and ranges.read_range(mixed, _opts(), planned[0]).state is not None


def test_pings_the_serial_filter_skips_are_dropped_with_their_record_count(mixed, tiny_reads):
    """Today the catalogue names `Ping from Routing host`, so every ping is a record for every run; without that
    literal the serial filter skips pings of hosts it knows, and a later range (which does not know them) must not
    count or extract them."""
    interest = interest_for(())
    interest = dataclasses.replace(interest, literals=tuple(lit for lit in interest.literals
                                                            if lit[0] != "Ping from Routing host"), _hit=None)
    opts = ReadOptions(tz=timezone.utc, tz_name="UTC", interest=interest)
    serial_stats, serial_facts = _serial(mixed, opts)
    parts = [ranges.read_range(mixed, opts, rng) for rng in ranges.plan(mixed, tiny_reads)]
    assert sum(not other for part in parts for _keys, other in part.provisional.values()) > 50
    stats, facts = ranges.merge(serial_stats["path"], parts, opts)
    assert (stats.to_dict(), facts) == (serial_stats, serial_facts)


@pytest.mark.parametrize("range_reads", [1, 3, 1000])
def test_any_range_size_gives_the_serial_result(mixed, tiny_reads, range_reads):
    opts = _opts()
    serial_stats, serial_facts = _serial(mixed, opts)
    stats, facts = ranges.read_whole(mixed, opts, range_reads * tiny_reads)
    assert (stats.to_dict(), facts) == (serial_stats, serial_facts)


def test_every_plain_sample_log_read_in_ranges_gives_the_serial_result(monkeypatch):
    monkeypatch.setattr(blocks, "CHUNK", 2048)
    monkeypatch.setattr(stream, "CHUNK", 2048)
    opts = _opts()
    checked = 0
    for sample in SAMPLE_DIRS:
        for root, _dirs, names in os.walk(os.path.join(SAMPLES, sample)):
            for name in names:
                path = os.path.join(root, name)
                if not ranges.eligible(path, opts):
                    continue
                planned = ranges.plan(path, 2048)
                stats, facts = ranges.read_whole(path, opts, 2048)
                assert (stats.to_dict(), facts) == _serial(path, opts), path
                checked += len(planned) > 1
    assert checked >= 5


def test_only_plain_uncompressed_logs_are_split(tmp_path, tiny_reads):
    opts = _opts()
    assert not ranges.eligible(os.path.join(SAMPLES, "rotated-gz", "management-server.log.2025-03-09.gz"), opts)
    assert not ranges.eligible(os.path.join(SAMPLES, "journald-wrapped", "journal.txt"), opts)
    assert not ranges.eligible(os.path.join(SAMPLES, "ticket-paste", "ticket.txt"), opts)
    assert not ranges.eligible("-", opts)
    small = tmp_path / "management-server.log"
    small.write_text("2025-03-10 00:00:00,091 DEBUG [c.c.a.m.AgentManagerImpl] (AgentManager-Handler-8:[]) (logid:) x\n")
    assert not ranges.eligible(str(small), opts)  # less than one read: nothing to split


def _analyze(paths, jobs):
    return analyze_paths(paths, tz=timezone.utc, tz_name="UTC", jobs=jobs)


def test_jobs_2_reads_one_large_log_in_ranges_and_gives_the_serial_document(tmp_path, monkeypatch):
    path = str(tmp_path / "management-server.log")
    mixed_log(path, 20 << 20, seed=5)
    monkeypatch.setattr(ranges, "MIN_RANGE_BYTES", 4 << 20)
    made = []
    real = pool.PoolRunner.__call__

    def spy(self, *args):
        made.append(self)
        return real(self, *args)

    monkeypatch.setattr(pool.PoolRunner, "__call__", spy)
    serial = _analyze([path], jobs=1)
    parallel_run = _analyze([path], jobs=2)
    assert made and made[0].ranges_read >= 3 and made[0].workers_started == 2
    assert comparable(parallel_run.document) == comparable(serial.document)
    assert [f.evidence for f in parallel_run.collected.facts] == [f.evidence for f in serial.collected.facts]
    assert serial.document["findings"] and serial.document["inputs"][0]["reader"] == "fast"


def test_a_file_that_shrank_after_the_plan_is_an_error_naming_it_never_a_short_read(tmp_path, tiny_reads):
    path = str(tmp_path / "management-server.log")
    mixed_log(path, 1 << 20, seed=3)
    planned = ranges.plan(path, tiny_reads)
    os.truncate(path, planned[3].start + 10)  # the file shrank (rotated away) between the plan and the read
    with pytest.raises(OSError, match="management-server.log: the file shrank"):
        ranges.read_range(path, _opts(), planned[5])
