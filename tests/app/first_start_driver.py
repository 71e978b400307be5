"""Start the real app (studyapp.app.run_gui) on an empty data folder and stop it in the middle of
the work a first start leaves until after its first frame (the shipped decks' sync).

    python tests/app/first_start_driver.py MOMENT DATA_DIR

MOMENT:
  close-while-adding  the sync is held before it writes; the window is closed then (the learner
                      quits at once). The run must end with exit code 0.
  kill-while-adding   the sync is held half-way through its transaction, some cards written; the
                      parent (tests/app/test_startup_first.py) kills the process with SIGKILL on
                      the `event: cards half added` line (a crash, a power cut).

Used from a subprocess, so that an abort at exit shows as the exit code. Each moment is reached by
a condition, never a fixed wait; one not reached within DEADLINE_S exits 3. What happened is
printed as `event: ...` lines.
"""
from __future__ import annotations

import os
import sys
import threading
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from studyapp import app as A, config as cfg  # noqa: E402
from studyapp.srs import cards as srs_cards  # noqa: E402
from studyapp.ui import main_window  # noqa: E402

DEADLINE_S = 240


def say(text: str) -> None:
    print(f"event: {text}", flush=True)


def main() -> int:
    moment, data = sys.argv[1], sys.argv[2]
    config = cfg.load_config({"data_dir": data}, env={})
    held = threading.Event()

    if moment == "close-while-adding":
        real = main_window._sync_shipped_decks

        def sync_held(*args, cancel):
            held.set()
            say("deck sync held before writing")
            cancel.wait()   # until the closing window cancels it
            return real(*args, cancel=cancel)

        main_window._sync_shipped_decks = sync_held
    elif moment == "kill-while-adding":
        real_insert = srs_cards.Cards._insert
        written = {"n": 0}

        def insert_then_hold(self, *args, **kwargs):
            card_id = real_insert(self, *args, **kwargs)
            written["n"] += 1
            if written["n"] == 5:   # inside sync_decks' one transaction, not committed yet
                say("cards half added")
                threading.Event().wait()   # until the parent kills the process
            return card_id

        srs_cards.Cards._insert = insert_then_hold
    else:
        print(f"unknown moment {moment}", file=sys.stderr)
        return 2

    app = A._make_app(sys.argv[:1])
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    started = time.monotonic()

    def poll() -> None:
        if time.monotonic() - started > DEADLINE_S:
            say(f"moment {moment} never came")
            os._exit(3)
        window = next((w for w in QApplication.topLevelWidgets() if isinstance(w, main_window.MainWindow)), None)
        if window is not None and window.isVisible() and held.is_set():
            say("closing while the shipped decks are being added")
            window.close()

    timer = QTimer(app, interval=10, timeout=poll)
    timer.start()
    code = A.run_gui(config)
    say(f"run_gui returned {code}")
    return code


if __name__ == "__main__":
    sys.exit(main())
