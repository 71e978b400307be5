"""Issue 12's fault injection at suite size: a few kills, flips and seconds each.

bench/store_faults.py runs the same scenarios (tests/store/faults.py) at the issue's sizes:
20 kills during backups and during imports, 40 bit flips, two processes for a minute.
"""
from __future__ import annotations

import signal

import pytest

from . import faults

needs_sigkill = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")


@needs_sigkill
def test_kill_9_during_backups_loses_nothing_and_leaves_no_fake_backup(data_dir):
    result = faults.kill_during_backups(data_dir, trials=3)
    assert result["committed"] >= 3


@needs_sigkill
def test_kill_9_during_imports_leaves_each_file_all_in_or_all_out(data_dir, tmp_path):
    result = faults.kill_during_imports(data_dir, tmp_path / "csv", trials=3, size=300)
    assert result["imports_committed"] >= 3


def test_random_bit_flips_never_end_in_a_damaged_or_emptier_profile(tmp_path):
    result = faults.bit_flips(tmp_path, flips=6, seed=12)
    assert result["flips"] == 6


def test_two_processes_reviewing_and_backing_up_lose_nothing(data_dir):
    result = faults.two_processes(data_dir, seconds=4, cards_each=400)
    assert result["reviews"] >= 20 and result["backups"] >= 2
