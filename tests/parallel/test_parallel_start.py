"""The workers' fork server is started early only when the inputs are large enough to be shared."""

from __future__ import annotations

import os

from conftest import SAMPLES
from diagnostics.parallel import pool


def test_small_inputs_stdin_and_one_job_start_nothing(tmp_path):
    small = tmp_path / "management-server.log"
    small.write_bytes(b"x" * 1024)
    assert not pool._enough_to_share([str(small), "-", SAMPLES], 2)
    big = tmp_path / "big" / "management-server.log"
    big.parent.mkdir()
    with open(big, "wb") as f:
        f.truncate(pool.POOL_MIN_BYTES)
    assert not pool._enough_to_share([str(big.parent)], 1)
    assert pool._enough_to_share([str(big.parent)], 2) and pool._enough_to_share([str(small), str(big)], None) == (
        pool.default_jobs() > 1)
    assert not pool._enough_to_share([str(tmp_path / "missing")], 2)


def test_prestart_leaves_a_running_fork_server_the_pool_then_uses(tmp_path):
    from multiprocessing import forkserver

    big = tmp_path / "management-server.log"
    with open(big, "wb") as f:
        f.truncate(pool.POOL_MIN_BYTES + 1)
    pool.prestart([str(big)], 2)
    if "forkserver" in pool.multiprocessing.get_all_start_methods():
        pid = forkserver._forkserver._forkserver_pid
        assert pid is not None and os.waitpid(pid, os.WNOHANG) == (0, 0)
