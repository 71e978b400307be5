"""The one way every tab runs long work off the GUI thread.

    task = run_in_background(lab.train_sft, base, out, cfg,
                             on_progress=self.show_step, on_result=self.done,
                             exclusive="training", label="Fine-tuning")
    task.cancel()   # or task.pause() / task.resume()

The function runs on a worker thread and must not touch widgets. It can talk back in two ways,
and the helper supports both:
- a plain function that accepts `progress` and/or `cancel` keyword arguments gets a callable that
  emits `progress` signals and a `threading.Event` it should check (the lab's stages work so);
- a generator: each value it yields arrives as a `partial` signal, and cancel/pause take effect
  between two yields (streaming generation works so).
Signals are delivered on the GUI thread (queued connections). Errors reach `on_error`, or the
application's error reporter when no handler is given, so no failure is silent.

Pausing blocks the worker at its next progress call or yield; cancelling also releases a pause.
"""
from __future__ import annotations

import inspect
import threading
import traceback
from typing import Any, Callable

from PySide6.QtCore import QObject, QThread, Signal

# The one Cancelled: the lab's stages raise it at check_cancel, the worker at a progress call or a
# yield once the task is cancelled (re-exported here for the tabs).
from studyapp.lab.common import Cancelled


class Busy(RuntimeError):
    """Raised when a task is started while another with the same `exclusive` key runs."""


def _default_error_reporter(title: str, message: str, details: str) -> None:
    import sys
    print(f"{title}: {message}\n{details}", file=sys.stderr)


error_reporter: Callable[[str, str, str], None] = _default_error_reporter


def set_error_reporter(fn: Callable[[str, str, str], None]) -> None:
    global error_reporter
    error_reporter = fn


class Task(QObject):
    progress = Signal(object)
    partial = Signal(object)
    result = Signal(object)
    failed = Signal(str, str)     # message, traceback
    cancelled = Signal()
    finished = Signal()           # always, last

    def __init__(self, fn: Callable, args: tuple, kwargs: dict, label: str, exclusive: str | None):
        super().__init__()
        self.fn, self.args, self.kwargs = fn, args, kwargs
        self.label, self.exclusive = label, exclusive
        self.cancel_event = threading.Event()
        self._running = threading.Event()
        self._running.set()
        self._held = threading.Event()   # set while the worker waits at a pause
        self._thread: QThread | None = None
        self.done = False
        self.error: str | None = None

    # ---- controls (GUI thread) ------------------------------------------------------------
    def cancel(self) -> None:
        self.cancel_event.set()
        self._running.set()   # a paused worker must wake up to notice

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    @property
    def held(self) -> bool:
        """The worker has stopped at a pause: it sends nothing more until resumed or cancelled."""
        return self._held.is_set()

    def wait(self, ms: int = 10_000) -> bool:
        return self._thread.wait(ms) if self._thread is not None else True

    # ---- worker thread ----------------------------------------------------------------------
    def _checkpoint(self) -> None:
        if not self._running.is_set():
            self._held.set()
            self._running.wait()
            self._held.clear()
        if self.cancel_event.is_set():
            raise Cancelled("cancelled by the user")

    def _emit_progress(self, value: Any) -> None:
        self.progress.emit(value)
        self._checkpoint()

    def _call_kwargs(self) -> dict:
        kwargs = dict(self.kwargs)
        try:
            params = inspect.signature(self.fn).parameters
        except (TypeError, ValueError):
            return kwargs
        if "progress" in params and "progress" not in kwargs:
            kwargs["progress"] = self._emit_progress
        if "cancel" in params and "cancel" not in kwargs:
            kwargs["cancel"] = self.cancel_event
        return kwargs

    def _run(self) -> None:
        try:
            out = self.fn(*self.args, **self._call_kwargs())
            if inspect.isgenerator(out):
                try:
                    for item in out:
                        self.partial.emit(item)
                        self._checkpoint()
                finally:
                    out.close()
                value = None
            else:
                value = out
            if self.cancel_event.is_set():
                self.cancelled.emit()
            else:
                self.result.emit(value)
        except Exception as exc:  # noqa: BLE001 - every failure must reach the user
            if self.cancel_event.is_set() or isinstance(exc, Cancelled):
                self.cancelled.emit()
            else:
                self.error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                self.failed.emit(str(exc) or type(exc).__name__, traceback.format_exc())
        finally:
            self.done = True
            self.finished.emit()


class _Thread(QThread):
    def __init__(self, body: Callable[[], None]):
        super().__init__()
        self._body = body

    def run(self) -> None:
        self._body()


_live: set[Task] = set()   # keeps tasks (and their threads) alive until they finish


def running(exclusive: str) -> Task | None:
    return next((t for t in _live if t.exclusive == exclusive and not t.done), None)


def run_in_background(
    fn: Callable, *args: Any,
    on_progress: Callable[[Any], None] | None = None,
    on_partial: Callable[[Any], None] | None = None,
    on_result: Callable[[Any], None] | None = None,
    on_error: Callable[[str, str], None] | None = None,
    on_cancelled: Callable[[], None] | None = None,
    on_finished: Callable[[], None] | None = None,
    label: str = "Working",
    exclusive: str | None = None,
    **kwargs: Any,
) -> Task:
    """Start `fn(*args, **kwargs)` on a new thread and wire the callbacks (GUI thread)."""
    if exclusive and (other := running(exclusive)):
        raise Busy(f"{other.label} is still running. Wait for it to finish or cancel it first.")
    task = Task(fn, args, kwargs, label, exclusive)
    for signal, slot in ((task.progress, on_progress), (task.partial, on_partial), (task.result, on_result)):
        if slot is not None:
            # A value already queued when the task was cancelled (the window closing, say) is
            # dropped: its receiver may be gone, or the profile it would write to closed.
            signal.connect(lambda value, slot=slot: None if task.cancel_event.is_set() else slot(value))
    if on_cancelled is not None:
        task.cancelled.connect(on_cancelled)
    if on_error is not None:
        task.failed.connect(on_error)
    else:
        task.failed.connect(lambda msg, tb: error_reporter(f"{label} failed", msg, tb))
    thread = _Thread(task._run)  # the Task object itself stays on the GUI thread
    thread.setObjectName(f"studyapp-{label}")
    task._thread = thread

    def _finish() -> None:
        thread.wait()
        _live.discard(task)
        if on_finished is not None:
            on_finished()

    task.finished.connect(_finish)
    _live.add(task)
    thread.start()
    return task


def cancel_all(wait_ms: int = 3000) -> None:
    """Ask every task to stop and give each a moment to do so (tests; see shutdown() for quitting)."""
    for task in list(_live):
        task.cancel()
    for task in list(_live):
        task.wait(wait_ms)


def shutdown(wait_ms: int = 120_000) -> list[Task]:
    """On quit: cancel every task, wait for each thread to end, then deliver what they sent last.

    A QThread object destroyed while its thread runs aborts the whole process ("QThread: Destroyed
    while thread ... is still running", SIGABRT), which is what closing the window during start-up
    did while a hidden page loaded torch. So nothing may be left running once Qt goes away: every
    task is cancelled and joined. The cancelled/finished signals they queued are then delivered here,
    while the window and the profile their handlers write to still exist (a PPO run marks itself
    cancelled). Each task checks for cancellation at least once a step, so the wait is short; the
    bound only guards against a task that never checks. Returns the tasks still running after it
    (the caller must then leave without destroying them: studyapp.app ends the process at once).
    """
    from PySide6.QtCore import QCoreApplication, QDeadlineTimer

    tasks = list(_live)
    for task in tasks:
        task.cancel()
    deadline = QDeadlineTimer(wait_ms)
    stuck = [t for t in tasks if t._thread is not None and not t._thread.wait(deadline)]
    app = QCoreApplication.instance()
    # Deliver the queued cancelled/finished signals (their _finish slot drops the task from _live).
    for _ in range(100):
        if app is None or not any(t in _live for t in tasks if t not in stuck):
            break
        app.processEvents()
    for task in tasks:
        if task not in stuck:
            _live.discard(task)
    return stuck
