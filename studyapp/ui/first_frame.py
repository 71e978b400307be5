"""When did a window show its first full frame? The start-up bench and the timing hook ask this.

The first Paint event is not the answer: it only starts the first frame, and the window often
paints again before it shows what it will show (a layout settles, a scroll bar appears, a tab's
content arrives a moment later); measured, the full frame came 0.3-0.7 s after the first Paint
event (issue 16). So the probe watches every paint of the window and its children, and calls the
window "settled" once it has painted, no paint has followed for QUIET_MS, and no background task
runs; the first full frame is the end of the last paint before that quiet spell. The quiet spell
itself is not counted. Peak resident memory is read at the same moment. Its limit: content that
arrives more than QUIET_MS after the last paint, from a timer rather than a worker task, comes
after what the probe calls the first full frame.

    probe = FirstFrame(window, on_settled=lambda seconds, peak_mib: ...)

`seconds` counts from the process start when the platform says when that was (Linux /proc),
else from the probe's creation.
"""
from __future__ import annotations

import os
import sys
import time
from typing import Callable

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QWidget

QUIET_MS = 150


def process_start() -> float | None:
    """The process's start as a time.time() value (Linux, to 10 ms), or None where it is not known."""
    try:
        with open("/proc/self/stat", encoding="ascii") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        started = int(fields[19]) / os.sysconf("SC_CLK_TCK")   # stat(5) field 22: seconds after boot
        with open("/proc/uptime", encoding="ascii") as handle:
            uptime = float(handle.read().split()[0])
        return time.time() - (uptime - started)
    except (OSError, ValueError, IndexError):
        return None


def peak_rss_mib() -> float:
    """The process's peak resident memory so far, in MiB."""
    try:
        import resource
    except ImportError:   # Windows: no resource module
        return float("nan")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024   # bytes on macOS, KiB elsewhere


class FirstFrame(QObject):
    """Watches `window` until its first full frame; then calls on_settled(seconds, peak_mib) once.

    busy() says whether background work is still on its way to the screen (the app passes
    "a worker task runs"); the frame is not full while it is."""

    def __init__(self, window: QWidget, on_settled: Callable[[float, float], None],
                 busy: Callable[[], bool] = lambda: False, t0: float | None = None):
        super().__init__(window)
        self.window, self.on_settled, self.busy = window, on_settled, busy
        self.t0 = t0 if t0 is not None else (process_start() or time.time())
        self.painted_at: float | None = None   # end of the latest paint
        self._in_paint = False
        self._done = False
        self._check = QTimer(self, singleShot=True, interval=QUIET_MS, timeout=self._maybe_settled)
        QApplication.instance().installEventFilter(self)

    def eventFilter(self, obj, event) -> bool:
        if self._in_paint:
            # The first event after a paint: the paint (and the flush to the screen) is over.
            self._in_paint = False
            self.painted_at = time.time()
            self._check.start()   # restarted by every paint: settled after QUIET_MS without one
        if event.type() in (QEvent.Paint, QEvent.UpdateRequest) and isinstance(obj, QWidget) \
                and (obj is self.window or self.window.isAncestorOf(obj)):
            self._in_paint = True
        return False

    def _maybe_settled(self) -> None:
        if self._done or self.painted_at is None:
            return
        if self._in_paint or self.busy() or not self.window.isVisible():
            self._check.start()
            return
        self._done = True
        QApplication.instance().removeEventFilter(self)
        self.on_settled(self.painted_at - self.t0, peak_rss_mib())
