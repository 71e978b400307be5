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


def build_context(config: cfg.Config, *, lessons=None) -> AppContext:
    """Open the profile and read the content. Raises StoreError when the data folder is unusable.

    lessons: a callable giving load_lessons()'s (lessons, errors), called once the profile is open
    (a first start loads them on a thread meanwhile, _LessonLoader); by default they load here."""
    from studyapp.store import open_profile

    from datetime import timedelta

    # The start-up backup runs on a worker once the window shows (MainWindow), not before it.
    opened = open_profile(config.data_path, keep_backups=config.backup_keep, backup_on_start=False,
                          backup_interval=timedelta(minutes=config.backup_minutes))
    try:
        lessons, errors = lessons() if lessons is not None else _load_lessons(config)
    except BaseException:
        opened.store.close(backup=False)
        raise
    messages = list(config.warnings) + list(opened.messages)
    return AppContext(config, opened.store, lessons, errors, messages)


def _load_lessons(config: cfg.Config) -> tuple[list[Lesson], list[LessonError]]:
    return load_lessons(*config.content_folders("lessons"), cache=config.lesson_cache_path)


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


class _LessonLoader:
    """A first start (no lesson cache yet): Markdown's imports (0.1-0.2 s with its extensions), the
    parsing of every lesson and the rendering of the one the window opens on run on a thread while
    this one starts Qt and creates the profile (which waits on the disk). `result()` waits for it
    and gives load_lessons()'s answer, or raises what it raised."""

    def __init__(self, config: cfg.Config):
        import threading

        self._config = config
        self._outcome: tuple | BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="studyapp-lessons")
        self._thread.start()

    def _run(self) -> None:
        try:
            lessons, errors = _load_lessons(self._config)
            if lessons:
                lessons[0].html   # the Lessons tab opens on the first lesson: rendered here, kept
            self._outcome = (lessons, errors)
        except BaseException as exc:  # noqa: BLE001 - handed to the GUI thread by result()
            self._outcome = exc

    def result(self) -> tuple[list[Lesson], list[LessonError]]:
        self._thread.join()
        if isinstance(self._outcome, BaseException):
            raise self._outcome
        return self._outcome


def _open_window(config: cfg.Config):
    """(app, ctx, window), or the exit code when the profile cannot be opened (said to the user)."""
    # Neither the profile's write library (sqlite_utils: click, dateutil, numpy, 0.19-0.32 s) nor
    # Markdown (0.1-0.2 s with its extensions) is needed for the first frame of an app that has
    # started before: the lessons come from their cache, and the window loads both on a thread
    # after its first paint (MainWindow._after_first_paint, issue 16). A first start creates the
    # profile without sqlite_utils too (store.migrations.PlainDatabase); only its lessons need
    # Markdown, and they load on a thread meanwhile.
    loader = _LessonLoader(config) if not config.lesson_cache_path.exists() else None
    from studyapp.store import StoreError

    app = _make_app(sys.argv[:1])
    if loader is not None:
        import studyapp.ui.main_window  # noqa: F401
    try:
        ctx = build_context(config, lessons=loader.result if loader is not None else None)
    except StoreError as exc:
        if loader is not None:
            loader._thread.join()
        return _fatal(str(exc))
    return app, ctx, create_window(ctx)


def run_gui(config: cfg.Config) -> int:
    # No garbage collection from here to the first frame: start-up makes hundreds of thousands of
    # objects that live as long as the app (modules, Qt wrappers, the lessons), and a full
    # collection over them took 70-100 ms of the GUI thread, inside the first paint on a first
    # start (issue 16). The window freezes them and turns collection back on after its first
    # paint (MainWindow._after_first_paint), so later collections never scan them again; a timer
    # turns it back on as well should no paint ever come (a window that never shows).
    import gc
    gc.disable()
    opened = _open_window(config)
    if isinstance(opened, int):
        gc.enable()
        return opened
    app, ctx, window = opened
    from PySide6.QtCore import QTimer

    from studyapp.ui.main_window import GC_PAUSE_MAX_MS, resume_gc
    QTimer.singleShot(GC_PAUSE_MAX_MS, resume_gc)
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


def screenshot(config: cfg.Config, tab: str, out: Path, size: tuple[int, int] | None = None,
               settle_s: float = 60.0) -> int:
    """Render the main window with one tab open, offscreen, into a PNG of `size` (width, height) in
    pixels; None: the size the app first opens at (main_window.DEFAULT_SIZE), which fits a
    1366x768 laptop with its title bar and task bar."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from studyapp.ui import worker
    from studyapp.ui.main_window import DEFAULT_SIZE
    from studyapp.ui.tabs import available_tabs

    names = [t.name for t in available_tabs()]
    if tab not in names:
        print(f"studyapp screenshot: unknown tab {tab!r}; choose one of: {', '.join(names)}", file=sys.stderr)
        return 2
    opened = _open_window(config)
    if isinstance(opened, int):
        return opened
    app, ctx, window = opened
    window.resize(*(size or DEFAULT_SIZE))
    window.show_tab(tab)
    window.show()
    # Let tabs finish their background work (models loading, first generation) before the shot.
    deadline = time.monotonic() + settle_s
    while time.monotonic() < deadline:
        app.processEvents()
        if not worker._live:
            break
        time.sleep(0.02)
    # Then a second of events: charts redraw a few at a time on a timer (the PPO tab's eight take
    # 0.4 s), and a shot taken at once showed the last ones empty.
    settled = time.monotonic() + 1.0
    while time.monotonic() < settled:
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
