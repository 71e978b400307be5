"""`import studyapp.store` stays cheap and Qt-free; sqlite_utils loads only when a profile opens."""

from __future__ import annotations

import subprocess
import sys


def test_import_loads_neither_qt_nor_sqlite_utils():
    code = ("import sys, studyapp.store; "
            "print(sorted(m for m in ('sqlite_utils', 'numpy', 'PySide6') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
