"""One place the GUI reports a failed write to the profile, and keeps the write to try again.

A write that fails because the disk is full, the profile file is read-only or another program
holds its lock raises studyapp.store.StorageError. Raised inside a Qt slot it used to end as a
traceback on stderr, with the learner's progress silently dropped. Widgets write through
`save()` instead:

    from studyapp.ui.storage_errors import save
    save("lesson progress", self.progress.mark_section_read, slug, section_id,
         key=("read", slug, section_id))

On success that is the same call. On a StorageError the learner sees one message naming the file
and the cause (not one per write), the write is kept, and it is retried every RETRY_MS until it
goes through; then the status bar (or a second message) says it was saved. A later write with
the same `key` replaces a kept one (the newest "lesson completed" wins). Other errors are bugs
and propagate as before.
"""
from __future__ import annotations

from collections.abc import Callable, Hashable

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QApplication, QMainWindow, QMessageBox

from studyapp.store import StorageError

RETRY_MS = 10_000


class PendingWrites(QObject):
    """Failed profile writes waiting for another try, and the one message about them."""

    changed = Signal(int)   # how many writes are waiting

    def __init__(self, parent: QObject | None = None, retry_ms: int = RETRY_MS) -> None:
        super().__init__(parent)
        self._pending: dict[Hashable, tuple[str, Callable, tuple, dict]] = {}
        self._timer = QTimer(self, interval=retry_ms, timeout=self.retry)
        self._box: QMessageBox | None = None
        self.last_error: StorageError | None = None

    def __len__(self) -> int:
        return len(self._pending)

    def save(self, what: str, write: Callable, *args, key: Hashable | None = None, **kwargs) -> bool:
        """Run `write(*args, **kwargs)`; True when it went through, False when it was kept."""
        key = key if key is not None else (getattr(write, "__qualname__", repr(write)), args)
        try:
            hash(key)
        except TypeError:   # arguments such as a dict: this write replaces no other
            key = object()
        if key in self._pending:   # an older failed write of the same thing: this one replaces it
            del self._pending[key]
        if self._pending:
            # Writes wait behind the kept ones: they stay in order, and the GUI does not wait
            # out the busy timeout again for each of them while the cause lasts.
            self._pending[key] = (what, write, args, kwargs)
            self.changed.emit(len(self._pending))
            return False
        try:
            write(*args, **kwargs)
            return True
        except StorageError as error:
            self._pending[key] = (what, write, args, kwargs)
            self._failed(error, what)
            return False

    def retry(self) -> int:
        """Try every kept write again, oldest first; returns how many are still waiting."""
        for key, (what, write, args, kwargs) in list(self._pending.items()):
            try:
                write(*args, **kwargs)
            except StorageError as error:
                self.last_error = error
                break   # the cause is still there: keep the order, try again later
            del self._pending[key]
        self.changed.emit(len(self._pending))
        if not self._pending:
            self._timer.stop()
            if self._box is not None:
                self._box.close()
                self._box = None
                _status("Your changes are saved to your profile again.")
        return len(self._pending)

    def _failed(self, error: StorageError, what: str) -> None:
        self.last_error = error
        self.changed.emit(len(self._pending))
        if not self._timer.isActive():
            self._timer.start()
        _status(f"Not saved yet ({error.cause}); studyapp keeps trying.")
        if self._box is None:   # one message while the problem lasts, not one per write
            text = (f"studyapp could not save your {what} to {error.path}: {error.cause}.\n\n"
                    "Nothing is lost yet: studyapp keeps the change and saves it as soon as it "
                    "can. Free some disk space, make the file writable, or close the other "
                    "program; keep studyapp open until this message goes away.")
            box = QMessageBox(QMessageBox.Warning, "Your progress is not saved yet", text,
                              QMessageBox.Ok, _window())
            box.finished.connect(lambda _result: None)
            box.setModal(False)
            # The window it belongs to may go first (and delete the box with it): forget it then.
            box.destroyed.connect(self._box_gone)
            box.open()
            self._box = box

    def _box_gone(self, *_args) -> None:
        self._box = None


_writes: PendingWrites | None = None


def pending() -> PendingWrites:
    """The application's one PendingWrites (made on first use, owned by the QApplication)."""
    global _writes
    if _writes is None:
        _writes = PendingWrites(QApplication.instance())
        _writes.destroyed.connect(_forget)
    return _writes


def _forget(*_args) -> None:
    global _writes
    _writes = None


def save(what: str, write: Callable, *args, key: Hashable | None = None, **kwargs) -> bool:
    """pending().save(...): write to the profile, or report and keep the write for later."""
    return pending().save(what, write, *args, key=key, **kwargs)


def flush_at_exit() -> int:
    """Try the kept writes once more before the profile closes; say on stderr what still could
    not be saved (the window is gone by then). Returns how many were lost."""
    import sys
    if _writes is None or not len(_writes):
        return 0
    left = _writes.retry()
    if left and _writes.last_error is not None:
        error = _writes.last_error
        print(f"studyapp: {left} change(s) could not be saved to {error.path}: {error.cause}.",
              file=sys.stderr)
    return left


def _window():
    window = QApplication.activeWindow()
    if window is None:
        tops = [w for w in QApplication.topLevelWidgets() if isinstance(w, QMainWindow)]
        window = tops[0] if tops else None
    return window


def _status(message: str) -> None:
    window = _window()
    if isinstance(window, QMainWindow):
        window.statusBar().showMessage(message, 15000)
