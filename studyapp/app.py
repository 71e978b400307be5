"""Application start-up: open the profile, read the lessons, show the main window.

The first frame needs only the profile's plain connection and the lessons' cache: sqlite_utils
and Markdown load on a thread after it (issue 16).

Nothing heavy happens at import or before the window shows: torch and transformers load later,
on worker threads, when a tab first needs a model; only the tab the window opens on is built
(studyapp.ui.main_window). `python -c "import studyapp.app"` must not import torch (a test checks
it). However the event loop ends, every worker is cancelled and joined before the profile closes
and Qt goes away (MainWindow.shutdown), so quitting at any moment exits cleanly.
STUDYAPP_QUIT_AFTER_FIRST_PAINT=1 prints the time to the first full frame and the peak memory, then
quits (bench/startup.py and bench/frozen.sh time starts with it).
"""
from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from studyapp import config as cfg
from studyapp.content.lessons import Lesson, LessonError, load_lessons


@dataclass
class AppContext:
    config: cfg.Config
    store: object            # studyapp.store.Store
    lessons: list[Lesson]
    lesson_errors: list[LessonError]
    messages: list[str] = field(default_factory=list)

    @property
    def progress(self):
        from studyapp.store.progress import LessonProgress
        return LessonProgress(self.store)

    @property
    def settings(self):
        from studyapp.store.settings import Settings
        return Settings(self.store)


def build_context(config: cfg.Config) -> AppContext:
    """Open the profile and read the content. Raises StoreError when the data folder is unusable."""
    from studyapp.store import open_profile

    from datetime import timedelta

    # The start-up backup runs on a worker once the window shows (MainWindow), not before it.
    opened = open_profile(config.data_path, keep_backups=config.backup_keep, backup_on_start=False,
                          backup_interval=timedelta(minutes=config.backup_minutes))
    lessons, errors = load_lessons(*config.content_folders("lessons"), cache=config.lesson_cache_path)
    messages = list(config.warnings) + list(opened.messages)
    return AppContext(config, opened.store, lessons, errors, messages)


def _make_app(argv: list[str]):
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
        app = QApplication(argv)
        app.setApplicationName("studyapp")
        app.setOrganizationName("studyapp")
        app.setApplicationDisplayName("studyapp")
    return app


def create_window(ctx: AppContext):
    from studyapp.ui import theme
    from studyapp.ui.main_window import MainWindow

    # A theme given on the command line or in the environment wins over the one saved in the app.
    chosen = ctx.config.theme
    if ctx.config.source("theme") not in ("flag", "env"):
        chosen = ctx.settings.get("theme", chosen)
    theme.apply(_make_app(sys.argv[:1]), chosen)
    return MainWindow(ctx)


def _fatal(message: str) -> int:
    """A start-up failure the learner must see: a dialog when a screen is there, stderr always."""
    print(f"studyapp: {message}", file=sys.stderr)
    try:
        from PySide6.QtWidgets import QMessageBox
        _make_app(sys.argv[:1])
        if os.environ.get("QT_QPA_PLATFORM") != "offscreen":
            QMessageBox.critical(None, "studyapp cannot start", message)
    except Exception:  # noqa: BLE001 - the message is on stderr already
        pass
    return 2


def _warm_imports() -> None:
    from studyapp.content.markdown_render import render_markdown
    render_markdown("# warm")   # Markdown imports its extensions (and pygments) on first use


def _open_window(config: cfg.Config):
    """(app, ctx, window), or the exit code when the profile cannot be opened (said to the user)."""
    # Neither the profile's write library (sqlite_utils: click, dateutil, numpy, 0.19-0.32 s) nor
    # Markdown (0.1-0.2 s with its extensions) is needed for the first frame of an app that has
    # started before: the lessons come from their cache, and the window loads both on a thread
    # after its first paint (MainWindow._after_first_paint, issue 16).
    warm = None
    if not config.lesson_cache_path.exists():
        # A first start (or a cleared cache): parsing the lessons needs Markdown, so it loads on a
        # thread while Qt starts on this one. Creating the profile does not need sqlite_utils
        # (store.migrations.PlainDatabase): it loads after the first frame, as on every start.
        import threading
        warm = threading.Thread(target=_warm_imports, name="studyapp-imports")
        warm.start()
    from studyapp.store import StoreError

    app = _make_app(sys.argv[:1])
    if warm is not None:
        import studyapp.ui.main_window  # noqa: F401
        warm.join()
    try:
        ctx = build_context(config)
    except StoreError as exc:
        return _fatal(str(exc))
    return app, ctx, create_window(ctx)


def run_gui(config: cfg.Config) -> int:
    opened = _open_window(config)
    if isinstance(opened, int):
        return opened
    app, ctx, window = opened
    # However the loop ends (the window closed, app.quit(), the timing hook), every worker is
    # cancelled and joined before the profile closes and Qt goes away.
    app.aboutToQuit.connect(window.shutdown)
    if os.environ.get("STUDYAPP_QUIT_AFTER_FIRST_PAINT"):
        _quit_after_first_frame(app, window)   # bench/frozen.sh times a start to the first window
    window.show()
    window.show_messages(ctx.messages)
    code = app.exec()
    stuck = window.shutdown()
    from studyapp.ui.storage_errors import flush_at_exit
    flush_at_exit()   # kept writes that failed (full disk, lock): one more try, else said on stderr
    ctx.store.close()
    if stuck:   # a task that ignored cancelling: destroying its thread would abort the process
        print(f"studyapp: left while {', '.join(t.label for t in stuck)} still ran", file=sys.stderr)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


def _quit_after_first_frame(app, window) -> None:
    """The timing hook: print when the first full frame was shown and the peak memory, then quit."""
    from studyapp.ui import worker
    from studyapp.ui.first_frame import FirstFrame

    def settled(seconds: float, peak_mib: float) -> None:
        print(f"first full frame: {seconds:.3f} s, peak memory: {peak_mib:.0f} MiB", flush=True)
        app.quit()

    window._first_frame = FirstFrame(window, settled, busy=lambda: bool(worker._live))


def screenshot(config: cfg.Config, tab: str, out: Path, size: tuple[int, int] = (1280, 820),
               settle_s: float = 60.0) -> int:
    """Render the main window with one tab open, offscreen, into a PNG."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from studyapp.ui import worker
    from studyapp.ui.tabs import available_tabs

    names = [t.name for t in available_tabs()]
    if tab not in names:
        print(f"studyapp screenshot: unknown tab {tab!r}; choose one of: {', '.join(names)}", file=sys.stderr)
        return 2
    opened = _open_window(config)
    if isinstance(opened, int):
        return opened
    app, ctx, window = opened
    window.resize(*size)
    window.show_tab(tab)
    window.show()
    # Let tabs finish their background work (models loading, first generation) before the shot.
    deadline = time.monotonic() + settle_s
    while time.monotonic() < deadline:
        app.processEvents()
        if not worker._live:
            break
        time.sleep(0.02)
    for _ in range(10):
        app.processEvents()
        time.sleep(0.01)
    out.parent.mkdir(parents=True, exist_ok=True)
    ok = window.grab().save(str(out), "PNG")
    worker.cancel_all()
    window.close()
    ctx.store.close(backup=False)
    if not ok:
        print(f"studyapp screenshot: could not write {out}", file=sys.stderr)
        return 1
    print(out)
    return 0
