"""Start the real app (studyapp.app.run_gui) and close its window at one chosen moment.

    python tests/app/close_driver.py MOMENT DATA_DIR [MODELS_DIR]

Used by tests/app/test_clean_exit.py in a subprocess, so that an abort at exit (SIGABRT from a
QThread destroyed while running) shows as the process's exit code. Each moment is reached by a
condition polled on the GUI thread, never by a fixed wait; a moment that is never reached within
DEADLINE_S exits 3, so the test cannot pass without having closed at that moment. What happened is
printed as `event: ...` lines for the test to check.
"""
from __future__ import annotations

import os
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from studyapp import app as A, config as cfg  # noqa: E402
from studyapp.ui import worker  # noqa: E402

DEADLINE_S = 240


def say(text: str) -> None:
    print(f"event: {text}", flush=True)


def running(label_part: str) -> bool:
    return any(label_part in t.label and not t.done for t in list(worker._live))


def main() -> int:
    moment, data = sys.argv[1], sys.argv[2]
    flags = {"data_dir": data}
    if len(sys.argv) > 3:
        flags["models_dir"] = sys.argv[3]
    config = cfg.load_config(flags, env={})
    start_tab = {"compare-loading": "compare", "compare-answering": "compare", "reward-training": "rlhf",
                 "ppo-cancelling": "ppo"}.get(moment)
    if start_tab:   # the learner left the app on this tab last time: it opens there
        from studyapp.store import Settings, open_profile
        store = open_profile(config.data_path, backup_on_start=False).store
        Settings(store).set("last_tab", start_tab)
        store.close(backup=False)

    app = A._make_app(sys.argv[:1])
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication
    from studyapp.ui.main_window import MainWindow

    started = time.monotonic()
    state = {"step": 0}

    def window() -> MainWindow | None:
        return next((w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)), None)

    def close(why: str) -> None:
        say(f"closing {why}")
        window().close()

    def poll() -> None:
        win = window()
        if time.monotonic() - started > DEADLINE_S:
            say(f"moment {moment} never came")
            os._exit(3)
        if win is None or not win.isVisible():
            return
        if moment == "first-event":
            close("at the first turn of the event loop")
        elif moment == "compare-loading" and running("Loading the"):
            close("while the compare tab loads its models")
        elif moment == "compare-answering" and running("answering"):
            close("while a model generates")
        elif moment == "reward-training":
            tab = win.tab_widgets["rlhf"]
            if state["step"] == 0:
                tab.training.train()
                state["step"] = 1
            elif state["step"] == 1 and tab.training.train_progress.maximum() > 0:   # a training step reported
                close("while the reward model trains")
        elif moment == "ppo-cancelling":
            tab = win.tab_widgets["ppo"]
            if state["step"] == 0:
                tab.settings.steps.setValue(200)
                tab.settings.batch.setValue(4)
                tab.start()
                say(f"ppo started: {tab.task is not None}")
                state["step"] = 1
            elif state["step"] == 1 and tab.live is not None and len(tab.live) >= 1:
                tab.cancel()
                close("while a PPO run is cancelling")
                state["step"] = 2
        elif moment == "stubborn-worker" and state["step"] == 0:
            def stubborn(*, cancel):
                cancel.wait()
                time.sleep(0.5)   # winds down slowly, as a training step would
                say("stubborn task returned")

            worker.run_in_background(stubborn, label="Stubborn", on_cancelled=lambda: say("stubborn cancelled"))
            state["step"] = 1
        elif moment == "stubborn-worker" and state["step"] == 1 and running("Stubborn"):
            close("while a slow-to-stop task runs")
            state["step"] = 2

    timer = QTimer(app, interval=10, timeout=poll)
    timer.start()
    code = A.run_gui(config)
    say(f"run_gui returned {code}")
    return code


if __name__ == "__main__":
    sys.exit(main())
