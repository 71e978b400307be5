"""`studyapp cards` says what opening the profile did, and storage failures in one line each.

Issue 12 item 9: the CLI restored or set aside a damaged profile without a word, and printed raw
tracebacks on a full disk.
"""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from studyapp.cli import main
from studyapp.store import open_profile
from tests.store.helpers import damage_middle, fill_profile
from tests.support import REPO


def test_cli_prints_the_restore_it_made(tmp_path, monkeypatch, capsys, clock):
    home = tmp_path / "home"
    fill_profile(home, clock)
    store = open_profile(home, clock=clock).store
    store.backup_now()
    store.close(backup=False)
    damage_middle(home / "profile.sqlite3")
    monkeypatch.setenv("STUDYAPP_HOME", str(home))
    assert main(["cards", "stats"]) == 0
    err = capsys.readouterr().err
    assert "studyapp cards: Your profile database" in err and "restored from the backup" in err
    assert "profile.damaged-" in err


FULL_DISK = textwrap.dedent("""
    import resource, runpy, signal, sys
    # No file may grow past 200 KB: the import's writes run out of room, as on a full disk.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000))
    sys.argv = ["studyapp", "cards", "import", sys.argv[1]]
    runpy.run_module("studyapp.cli", run_name="__main__")
""")


@pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_FSIZE stands in for a full disk")
def test_cli_import_on_a_full_disk_is_one_clear_message_and_changes_nothing(tmp_path, clock):
    home = tmp_path / "home"
    open_profile(home, clock=clock).store.close()
    big = tmp_path / "big.csv"
    big.write_text("front,back\n" + "".join(f"Question {i} {'x' * 200},Answer {i}\n"
                                            for i in range(3000)), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(REPO), "STUDYAPP_HOME": str(home)}
    done = subprocess.run([sys.executable, "-c", FULL_DISK, str(big)], capture_output=True,
                          text=True, env=env, timeout=300)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert f"could not save to {home / 'profile.sqlite3'}: the disk" in done.stderr
    assert "Nothing was changed" in done.stderr
    opened = open_profile(home, clock=clock)
    count = opened.store.db.execute("SELECT count(*) FROM card WHERE origin = 'import'").fetchone()[0]
    opened.store.close()
    assert count == 0
