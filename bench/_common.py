"""What every bench script shares: `run(main)` exits with main()'s status, and any exception
fails the bench loudly (traceback, a "bench FAILED" line, exit 1), so a crash never reads as a
result. Scripts run as `python bench/NAME.py`, which puts this folder on sys.path."""

from __future__ import annotations

import sys
import traceback
from typing import Callable


def run(main: Callable[[], int]) -> None:
    try:
        sys.exit(main())
    except Exception as exc:  # any crash fails the bench
        traceback.print_exc()
        print(f"bench FAILED: {exc!r}")
        sys.exit(1)
