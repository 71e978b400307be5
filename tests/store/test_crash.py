"""A writer killed with SIGKILL mid-stream loses nothing it reported as committed.

The child process writes in a loop and prints each id only after its transaction committed; the
parent kills it at an arbitrary moment (usually inside a later transaction), reopens the profile
and checks that every printed id is there and the file passes integrity_check.
"""

from __future__ import annotations

import signal
import textwrap

import pytest

from studyapp.store import LessonProgress, Settings, open_profile

from tests.support import kill_midway

from .helpers import integrity

CHILD = textwrap.dedent("""
    import sys
    from pathlib import Path
    from studyapp.store import LessonProgress, Settings, open_profile

    store = open_profile(Path(sys.argv[1])).store
    start = int(sys.argv[2])
    for i in range(start, start + 100000):
        with store.transaction():
            LessonProgress(store).mark_section_read("crash", f"s{i:07d}")
            Settings(store).set("padding", "x" * (i % 5000))  # vary the pages each commit touches
        print(i, flush=True)
""")



@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
def test_sigkill_mid_write_loses_no_committed_write(data_dir):
    reported: list[int] = []
    for round_, kill_after in enumerate((40, 150, 7)):
        reported += kill_midway(CHILD, [str(data_dir), str(round_ * 1000000)], kill_after)

        result = open_profile(data_dir)
        assert result.messages == [] and result.set_aside == []
        stored = LessonProgress(result.store).sections_read("crash")
        result.store.close(backup=False)
        missing = {f"s{i:07d}" for i in reported} - stored
        assert not missing, f"committed but lost after SIGKILL: {sorted(missing)[:5]}"
        assert integrity(data_dir / "profile.sqlite3") == ["ok"]
