"""A read-only profile file: opened with a warning, writes refused with a clear message, and the
CLI says so in one line (issue 12, items 4 and 9).

Root can write to any file, so when the suite runs as root the child process drops to the
'nobody' user first; the profile file stays root's, mode 0444.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

from studyapp.store import LessonProgress, open_profile
from tests.support import REPO

CHILD = textwrap.dedent("""
    import sys
    from pathlib import Path
    from studyapp.store import LessonProgress, StorageError, open_profile
    opened = open_profile(Path(sys.argv[1]), backup_on_start=False)
    for message in opened.messages:
        print("MESSAGE", message)
    print("READ", sorted(LessonProgress(opened.store).sections_read("a")))
    try:
        LessonProgress(opened.store).mark_section_read("a", "new")
        print("WROTE")
    except StorageError as error:
        print("REFUSED", error.cause)
""")


@pytest.fixture
def read_only_profile(clock):
    folder = Path(tempfile.mkdtemp(prefix="studyapp-ro-"))   # reachable by 'nobody', unlike tmp_path
    try:
        store = open_profile(folder, clock=clock).store
        LessonProgress(store).mark_section_read("a", "kept")
        store.close(backup=False)
        os.chmod(folder, 0o777)
        os.chmod(folder / "profile.sqlite3", 0o444)
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


AS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
AS_NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]


def _nobody_can_import_studyapp() -> bool:
    """As root the child runs as 'nobody', which must be able to read this checkout and its venv:
    a clone inside a private folder (mktemp -d makes mode 0700) cannot be imported by anyone else."""
    if not AS_ROOT:
        return True
    if not shutil.which("setpriv"):
        return False
    done = subprocess.run([*AS_NOBODY, sys.executable, "-c", "import studyapp.store"], capture_output=True,
                          env={**os.environ, "PYTHONPATH": str(REPO)}, cwd="/tmp", timeout=120)
    return done.returncode == 0


needs_permissions = pytest.mark.skipif(
    not hasattr(os, "geteuid") or not _nobody_can_import_studyapp(),
    reason="needs POSIX permissions (as root: setpriv, and a checkout and venv that 'nobody' can read)")


def _run(args: list[str]) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO), "QT_QPA_PLATFORM": "offscreen", "HOME": "/tmp"}
    prefix = AS_NOBODY if AS_ROOT else []
    return subprocess.run([*prefix, sys.executable, *args], capture_output=True, text=True,
                          env=env, timeout=120, cwd="/tmp")


@needs_permissions
def test_read_only_profile_opens_with_a_warning_and_refuses_writes_clearly(read_only_profile):
    done = _run(["-c", CHILD, str(read_only_profile)])
    lines = done.stdout.splitlines()
    assert done.returncode == 0, done.stderr
    assert any(line.startswith("MESSAGE") and "cannot be written" in line
               and str(read_only_profile / "profile.sqlite3") in line for line in lines)
    assert "READ ['kept']" in lines                       # the learner can still look
    assert "REFUSED the file is read-only" in lines


@needs_permissions
def test_cli_on_a_read_only_profile_prints_one_clear_line(read_only_profile, tmp_path):
    cards = Path(tempfile.mkdtemp(prefix="studyapp-csv-")) / "c.csv"
    cards.write_text("front,back\nQ,A\n", encoding="utf-8")
    os.chmod(cards.parent, 0o755)
    os.chmod(cards, 0o644)
    try:
        done = _run(["-m", "studyapp.cli", "--data-dir", str(read_only_profile), "cards", "import",
                     str(cards)])
    finally:
        shutil.rmtree(cards.parent, ignore_errors=True)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "cannot be written" in done.stderr              # what opening found
    assert f"could not save to {read_only_profile / 'profile.sqlite3'}: the file is read-only" \
        in done.stderr
