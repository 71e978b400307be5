"""The main window: one tab per area, a menu with shortcuts, a status bar, link routing.

Tabs come from studyapp.ui.tabs (a stable short name each, used by `studyapp screenshot --tab
NAME`, by studyapp:// links and by Ctrl+1..9). A tab widget may define:
    open_link(params: dict, fragment: str)   open itself in the state a link asks for
    show_find() / focus_search()             Ctrl+F and Ctrl+Shift+F
The window's size, full-screen state and last tab are kept in the profile.

Start-up builds only the tab the window opens on: every other tab is a placeholder until it is first
shown, linked to or asked for (`window.tab_widgets[name]` builds it). Building all ten before the
first paint imported pyqtgraph, the RLHF and PPO tabs and their plots, and started the reward-model
playground's scoring: 2.3-2.7 s to the first window and 389 MiB (issue 16). The start-up backup
and the sync of the shipped decks into the profile wait for the first paint (on workers), and
garbage collection, paused by studyapp.app.run_gui, resumes there. Closing the window cancels and joins every worker (worker.shutdown)
before Qt goes away, so it exits cleanly at any moment.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping

from PySide6.QtCore import QEvent, QPoint, QTimer, Qt
from PySide6.QtGui import QAction, QActionGroup, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QApplication, QFrame, QLabel, QMainWindow, QMessageBox, QProgressBar, QScrollArea, QTabWidget, QToolButton, QWidget,
)

from studyapp.ui import theme, worker
from studyapp.ui.tabs import available_tabs
from studyapp.ui.links import parse_link
from studyapp.ui.storage_errors import save  # failed profile writes: reported, kept, retried
from studyapp.ui.screen_fit import FRAME, fitted


# The default window fits a 1366x768 laptop screen with its panels; a smaller screen gets the window
# maximised instead (issue 15: 1200x800 cut off the lesson navigation and the status bar).
DEFAULT_SIZE = (1280, 680)


def initial_size(saved: dict, room: tuple[int, int] | None) -> tuple[int, int, bool]:
    """(width, height, maximised) for the window at start, from the size the learner left it at
    (saved, {} on a first start) and the screen's free area (room, None when unknown).

    A first start gets DEFAULT_SIZE, or the whole screen, maximised, where the screen is smaller.
    A saved size is kept, only shrunk to a screen that has become smaller (a laptop taken off its
    monitor) so that the window never hangs off the edge; a saved maximised state is kept."""
    width, height = int(saved.get("width", DEFAULT_SIZE[0])), int(saved.get("height", DEFAULT_SIZE[1]))
    maximise = bool(saved.get("maximized"))
    if room is not None and (room[0] < width or room[1] < height + FRAME):
        width, height = fitted(width, height, room)
        maximise = maximise or not saved
    return width, height, maximise


DECK_SYNC_DELAY_MS = 1000  # after the first paint: the shipped decks' sync (MainWindow._start_deck_sync)
GC_PAUSE_MAX_MS = 10_000   # the longest start-up runs without garbage collection (studyapp.app.run_gui)


def resume_gc() -> None:
    """Turn garbage collection back on after the start-up pause (studyapp.app.run_gui), once: what
    start-up made moves to the permanent generation first (gc.freeze), so that collections skip
    it from now on. A no-op when collection is on already (tests, `studyapp screenshot`)."""
    import gc
    if not gc.isenabled():
        gc.freeze()
        gc.enable()


def _sync_shipped_decks(path, backup_dir, folders, known, *, cancel) -> list[str]:
    """On a worker thread (no widgets): bring the shipped decks into the profile through a
    connection of its own, in one transaction (Cards.sync_decks), so that a crash or a window
    closed half-way leaves the profile as it was and the next start adds them. Returns what was
    wrong with the deck files, in words."""
    from studyapp.content.decks import load_decks
    from studyapp.srs.cards import Cards
    from studyapp.store import Store

    decks, errors = load_decks(*folders, known=known)
    if cancel.is_set():
        return [str(e) for e in errors]
    own = Store(path, backup_dir=backup_dir)
    try:
        Cards(own).sync_decks(decks)
    finally:
        own.close(backup=False)
    return [str(e) for e in errors]


class LazyTabs(Mapping):
    """The window's tabs by short name; looking one up builds it if it was not built yet.

    `name in tabs` says whether the tab is part of this build; `tabs.built(name)` gives the widget
    only if it exists already (for work that must not build a tab, such as re-theming)."""

    def __init__(self, window: "MainWindow"):
        self._window = window
        self._widgets: dict[str, QWidget] = {}

    def __getitem__(self, name: str) -> QWidget:
        if name not in self._window._holders:
            raise KeyError(name)
        if name not in self._widgets:
            self._widgets[name] = self._window._build_tab(name)
        return self._widgets[name]

    def __contains__(self, name: object) -> bool:
        return name in self._window._holders

    def __iter__(self) -> Iterator[str]:
        return iter(self._window._holders)

    def __len__(self) -> int:
        return len(self._window._holders)

    def built(self, name: str) -> QWidget | None:
        return self._widgets.get(name)


class MainWindow(QMainWindow):
    def __init__(self, ctx):
        """ctx: the AppContext built by studyapp.app (config, store, lessons, progress)."""
        super().__init__()
        self.ctx = ctx
        # The platform adds the application display name: X11 showed
        # "studyapp — from base model to assistant — studyapp" when the title named it as well.
        self.setWindowTitle("From base model to assistant")
        self.tabs = QTabWidget(documentMode=True)
        self._holders: dict[str, QScrollArea] = {}
        self.tab_widgets = LazyTabs(self)
        self._closed = False
        self._stuck: list = []
        self._painted = False
        self._restoring = True
        self.deck_sync: worker.Task | None = None   # the shipped decks' sync after the first frame
        self.specs = available_tabs()
        self._specs = {spec.name: spec for spec in self.specs}
        for spec in self.specs:
            # A tab whose controls need more width than a small screen has scrolls instead of
            # forcing the whole window wider than the screen.
            holder = QScrollArea(widgetResizable=True, frameShape=QFrame.NoFrame)
            holder.setWidget(QLabel(f"Opening {spec.title.replace('&', '')}…", alignment=Qt.AlignCenter))
            self._holders[spec.name] = holder
            self.tabs.addTab(holder, spec.title.replace("&", ""))
        self.setCentralWidget(self.tabs)
        self._build_status_bar()
        self._build_menus()
        worker.set_error_reporter(self.report_error)
        self.tabs.currentChanged.connect(self._tab_changed)
        self._restore_state()
        self._backup_timer = QTimer(self, interval=60_000, timeout=self._maybe_backup)
        self._first_backup = QTimer(self, singleShot=True, interval=1500, timeout=self._maybe_backup)
        # The shipped decks' sync waits until the first frame has settled (~0.3 s after its first
        # paint): it changes nothing on screen, and its imports (srs, fsrs, sqlite_utils) would
        # otherwise share the GIL with the paints that finish that frame.
        self._deck_timer = QTimer(self, singleShot=True, interval=DECK_SYNC_DELAY_MS, timeout=self._start_deck_sync)
        self.installEventFilter(self)   # the start-up backup waits for the first paint

    # ---- building -------------------------------------------------------------------------
    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.task_label = QLabel()
        self.task_progress = QProgressBar(maximumWidth=200, textVisible=False)
        self.task_cancel = QToolButton(text="Cancel", autoRaise=True)
        for widget in (self.task_label, self.task_progress, self.task_cancel):
            widget.hide()
            bar.addPermanentWidget(widget)

    def _action(self, menu, text: str, slot, shortcut=None, tip: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        if tip:
            action.setStatusTip(tip)
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    def _build_menus(self) -> None:
        menu = self.menuBar()
        file_menu = menu.addMenu("&File")
        self._action(file_menu, "Back up profile now", self._backup_now, tip="Write a backup of your profile")
        file_menu.addSeparator()
        self._action(file_menu, "&Quit", self.close, QKeySequence.Quit)

        edit = menu.addMenu("&Edit")
        self._action(edit, "&Find in lesson…", self._find, "Ctrl+F")
        self._action(edit, "&Search all lessons…", self._search_all, "Ctrl+Shift+F")

        view = menu.addMenu("&View")
        for index, spec in enumerate(self.specs[:10]):
            key = f"Ctrl+{(index + 1) % 10}"   # Ctrl+1 ... Ctrl+9, then Ctrl+0 for a tenth tab
            self._action(view, spec.title, lambda _=False, n=spec.name: self.show_tab(n), key)
        view.addSeparator()
        self.fullscreen_action = self._action(view, "&Full screen", self.toggle_full_screen, "F11")
        self.fullscreen_action.setCheckable(True)
        themes = view.addMenu("&Theme")
        group = QActionGroup(self)
        self.theme_actions = {}
        for name in ("system", "light", "dark"):
            action = self._action(themes, name.capitalize(), lambda _=False, n=name: self.set_theme(n))
            action.setCheckable(True)
            group.addAction(action)
            self.theme_actions[name] = action
        self.theme_actions[self.ctx.settings.get("theme", self.ctx.config.theme)].setChecked(True)

        help_menu = menu.addMenu("&Help")
        self._action(help_menu, "&Keyboard shortcuts", self._show_shortcuts, "F1")
        self._action(help_menu, "&About studyapp", self._about)

    # ---- tabs and links -------------------------------------------------------------------
    def _build_tab(self, name: str) -> QWidget:
        """Build a tab the first time it is needed and put it in place of its placeholder."""
        if name == "cards" and self._painted and self.deck_sync is None:
            # Opened before the shipped decks' sync was due: start it now, and the tab waits for it
            # (saying so) rather than adding the cards on this thread.
            self._deck_timer.stop()
            self._start_deck_sync()
        QApplication.setOverrideCursor(Qt.WaitCursor)
        try:
            widget = self._specs[name].create(self)
        except Exception as exc:  # noqa: BLE001 - one broken tab must not take the window down
            import traceback
            title = self._specs[name].title.replace("&", "")
            widget = QLabel(f"The {title} tab could not open: {exc}", alignment=Qt.AlignCenter, wordWrap=True)
            self.report_error(f"The {title} tab could not open", str(exc) or type(exc).__name__,
                              traceback.format_exc())
        finally:
            QApplication.restoreOverrideCursor()
        self._holders[name].setWidget(widget)   # deletes the placeholder
        return widget

    def show_tab(self, name: str) -> QWidget | None:
        if name not in self.tab_widgets:
            return None
        self.tabs.setCurrentWidget(self._holders[name])   # builds it (_tab_changed) unless it was current
        return self.tab_widgets[name]

    def current_tab_name(self) -> str:
        current = self.tabs.currentWidget()
        return next((n for n, w in self._holders.items() if w is current), "")

    def open_link(self, url: str) -> bool:
        link = parse_link(url)
        if link is None:
            self.show_status(f"Not a studyapp link: {url}")
            return False
        widget = self.show_tab(link.tab)
        if widget is None:
            self.show_status(f"The '{link.tab}' tab is not part of this version of studyapp yet.")
            return False
        if hasattr(widget, "open_link"):
            widget.open_link(link.params, link.fragment)
        return True

    def _find(self) -> None:
        widget = self.show_tab("lessons")
        if widget is not None:
            widget.show_find()

    def _search_all(self) -> None:
        widget = self.show_tab("lessons")
        if widget is not None:
            widget.focus_search()

    # ---- look -----------------------------------------------------------------------------
    def set_theme(self, name: str) -> None:
        theme.apply(QApplication.instance(), name)
        self.ctx.settings.set("theme", name)
        lessons = self.tab_widgets.built("lessons")
        if lessons is not None and lessons.current is not None:
            lessons.open_lesson(lessons.current.slug)   # re-render for the new colours

    def toggle_full_screen(self) -> None:
        if self.isFullScreen():
            self.showNormal()
        else:
            self.showFullScreen()
        self.fullscreen_action.setChecked(self.isFullScreen())

    # ---- status, errors, background tasks -------------------------------------------------
    def show_status(self, message: str, ms: int = 6000) -> None:
        self.statusBar().showMessage(message, ms)

    def report_error(self, title: str, message: str, details: str = "") -> None:
        self.show_status(f"{title}: {message}", 15000)
        box = QMessageBox(QMessageBox.Warning, title, message, QMessageBox.Ok, self)
        if details:
            box.setDetailedText(details)
        box.setAttribute(Qt.WA_DeleteOnClose)
        box.open()   # window-modal, never blocks the event loop

    def show_messages(self, messages: list[str]) -> None:
        """Start-up messages (a restored profile, a config warning): shown once the window is up."""
        if messages:
            box = QMessageBox(QMessageBox.Information, "studyapp", "\n\n".join(messages), QMessageBox.Ok, self)
            box.setAttribute(Qt.WA_DeleteOnClose)
            box.open()

    def track_task(self, task: worker.Task, label: str) -> None:
        """Show a background task in the status bar with a progress bar and a cancel button."""
        self.task_label.setText(label)
        self.task_progress.setRange(0, 0)
        for widget in (self.task_label, self.task_progress, self.task_cancel):
            widget.show()
        self.task_cancel.clicked.connect(task.cancel)

        def on_progress(info) -> None:
            if isinstance(info, dict) and info.get("total"):
                self.task_progress.setRange(0, int(info["total"]))
                self.task_progress.setValue(int(info.get("step", 0)))

        def on_finished() -> None:
            self.task_cancel.clicked.disconnect(task.cancel)
            for widget in (self.task_label, self.task_progress, self.task_cancel):
                widget.hide()

        task.progress.connect(on_progress)
        task.finished.connect(on_finished)

    # ---- persistence ----------------------------------------------------------------------
    def _restore_state(self) -> None:
        settings = self.ctx.settings
        # Size and position are kept as plain numbers: restoreGeometry() squeezes the window into
        # the screen it finds at start, which loses the learner's size on small or virtual screens.
        geometry = settings.get("window", None) or {}
        screen = QGuiApplication.primaryScreen()
        room = screen.availableGeometry() if screen is not None else None
        # The offscreen platform's screen is a virtual 800x800 that nobody sees: tests and
        # `studyapp screenshot` choose their own sizes, so there is nothing to fit there.
        if room is None or QGuiApplication.platformName() == "offscreen":
            room_size = None
        else:
            room_size = (room.width(), room.height())
        width, height, maximise = initial_size(geometry, room_size)
        self.resize(width, height)
        corner = QPoint(int(geometry.get("x", -1)), int(geometry.get("y", -1)))
        if "x" in geometry and QGuiApplication.screenAt(corner) is not None:
            self.move(corner)
        if maximise:
            self.setWindowState(self.windowState() | Qt.WindowMaximized)
        last = settings.get("last_tab", "lessons")
        self.show_tab(last if last in self.tab_widgets else "lessons")
        self._restoring = False

    def _tab_changed(self, _index: int) -> None:
        name = self.current_tab_name()
        if name:
            if self.tab_widgets.built(name) is None:
                # Building takes up to ~0.6 s (the RLHF tab imports pyqtgraph): say so on screen first.
                self._holders[name].widget().repaint()
            self.tab_widgets[name]   # a tab clicked for the first time is built now
            if not self._closed and not self._restoring:   # no write (and fsync) before the first paint
                save("last tab", self.ctx.settings.set, "last_tab", name, key="last_tab")

    def eventFilter(self, obj, event) -> bool:
        if obj is self and event.type() == QEvent.Paint and not self._painted:
            self._painted = True
            self.removeEventFilter(self)
            self._first_backup.start()   # the start-up backup, once the window is up
            self._deck_timer.start()
            self._backup_timer.start()
            QTimer.singleShot(0, self._after_first_paint)
        return super().eventFilter(obj, event)

    def _after_first_paint(self) -> None:
        """Load on a thread what the first frame did not need, so that the GUI thread never waits
        for it later: the profile's write library (sqlite_utils, 0.19-0.32 s of imports; Store.db)
        before the first write, and Markdown, with every lesson rendered and kept in the lesson
        cache for the next start. A plain thread, not a worker task: nothing on screen waits for
        it, and a cache that cannot be written only means the next start parses the lessons again."""
        import threading

        from studyapp.content.lessons import save_cache

        resume_gc()   # studyapp.app.run_gui pauses garbage collection until the first frame

        store, lessons, cache = self.ctx.store, list(self.ctx.lessons), self.ctx.config.lesson_cache_path

        def load() -> None:
            from studyapp.store import StoreError
            try:
                store.db
            except StoreError:   # the window closed at once, and the profile with it
                pass
            save_cache(lessons, cache)

        # Not a daemon: quitting at once waits for it (well under a second) rather than killing
        # it inside an import or half-way through the cache file.
        threading.Thread(target=load, name="studyapp-after-first-frame").start()

    def _start_deck_sync(self) -> None:
        """Bring the shipped decks into the profile on a worker, after the first frame: the
        Flashcards tab finds its cards, and the Progress tab counts them, without the Flashcards
        tab having been opened first (a first start has none in its profile yet). Idempotent and
        cheap when they are in already (no write). The Flashcards tab opened before it ends says
        that the cards are on their way and fills in when it does (CardsTab)."""
        if self._closed or self.ctx.store.closed or self.ctx.store.read_only or worker.running("decks") is not None:
            return   # (a read-only profile: the Flashcards tab tries itself, and says why it cannot)
        store, lessons = self.ctx.store, self.ctx.lessons
        known = {lesson.slug: {section.id for section in lesson.sections} for lesson in lessons}
        self.deck_sync = worker.run_in_background(
            _sync_shipped_decks, store.path, store.backup_dir, self.ctx.config.content_folders("decks"), known,
            label="Adding the course's flashcards", exclusive="decks",
            # The Flashcards tab tries again itself when it opens; the learner only hears why.
            on_error=lambda msg, _tb: self.show_status(f"The course's flashcards could not be added yet: {msg}", 15000))

    def _save_state(self) -> None:
        normal = self.normalGeometry() if self.isMaximized() or self.isFullScreen() else self.geometry()
        save("window layout", self.ctx.settings.set, "window", {"width": normal.width(), "height": normal.height(),
             "x": normal.x(), "y": normal.y(), "maximized": self.isMaximized()}, key="window")
        save("last tab", self.ctx.settings.set, "last_tab", self.current_tab_name(), key="last_tab")

    def _maybe_backup(self) -> None:
        # maybe_backup() reads through its own connection, so it is safe off the GUI thread.
        if worker.running("backup") is None:
            worker.run_in_background(self.ctx.store.maybe_backup, label="Backup", exclusive="backup",
                                     on_error=lambda msg, _tb: self.show_status(f"Backup failed: {msg}", 15000))

    def _backup_now(self) -> None:
        try:
            path = self.ctx.store.backup_now()
            self.show_status(f"Profile backed up to {path}")
        except Exception as exc:  # noqa: BLE001
            self.report_error("Backup failed", str(exc))

    def shutdown(self) -> list:
        """Stop for good: save the window's state, cancel every background task and wait for each
        to end, so nothing runs on once Qt or the profile goes away. Safe to call twice; closeEvent
        and the application's aboutToQuit both call it. Returns the tasks that would not stop."""
        if self._closed:
            return self._stuck
        self._closed = True
        self._backup_timer.stop()
        self._first_backup.stop()
        self._deck_timer.stop()
        if self.ctx.store.conn is not None:
            self._save_state()
        self.hide()   # the learner sees the window go at once; cancelling may take a moment
        self._stuck = worker.shutdown()
        return self._stuck

    def closeEvent(self, event) -> None:
        self.shutdown()
        super().closeEvent(event)

    # ---- help -----------------------------------------------------------------------------
    def _show_shortcuts(self) -> None:
        rows = [f"Ctrl+{(i + 1) % 10}\t{spec.title.replace('&', '')}" for i, spec in enumerate(self.specs[:10])]
        rows += ["Ctrl+F\tFind in the lesson", "Ctrl+Shift+F\tSearch all lessons",
                 "F11\tFull screen", "F1\tThis list", "Ctrl+Q\tQuit"]
        QMessageBox.information(self, "Keyboard shortcuts", "\n".join(rows))

    def _about(self) -> None:
        QMessageBox.about(self, "About studyapp", (
            "<b>studyapp</b><br>How a pretrained base model becomes an assistant: SFT, then RLHF "
            "(preferences, a Bradley-Terry reward model, PPO with a KL penalty).<br><br>"
            "Every model in this app is real and small enough to train on your own CPU."))
