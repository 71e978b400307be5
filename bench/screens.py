"""Screenshots of every tab as a real screen shows them: does the window fit, is anything cut off?

    Xvfb :16 -screen 0 1366x768x24 &
    DISPLAY=:16 QT_QPA_PLATFORM=xcb .venv/bin/python bench/screens.py --out /tmp/shots [--label 100]
    DISPLAY=:16 QT_QPA_PLATFORM=xcb QT_SCALE_FACTOR=1.5 .venv/bin/python bench/screens.py --out /tmp/shots --label 150

Opens the app on a fresh profile as a first start would (the window's own default size and
state), shows each tab in turn, waits for its background work (models loading, a first answer),
and grabs the whole screen (not the window), so what hangs off the screen's edge is missing from
the picture as it would be for the learner. Prints, per tab, the window's frame against the
screen's free area and whether the tab needs its scroll bars at that size.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--label", default="100")
    parser.add_argument("--tabs", help="comma-separated short names (default: every tab)")
    parser.add_argument("--settle", type=float, default=90.0, help="seconds to wait for a tab's work at most")
    args = parser.parse_args()
    if not os.environ.get("DISPLAY") or os.environ.get("QT_QPA_PLATFORM", "xcb") != "xcb":
        parser.error("run on an X display (Xvfb) with QT_QPA_PLATFORM=xcb: the offscreen platform has no real screen")
    from studyapp import config as cfg
    from studyapp.app import _make_app, build_context, create_window
    from studyapp.ui import worker

    args.out.mkdir(parents=True, exist_ok=True)
    app = _make_app(sys.argv[:1])
    with tempfile.TemporaryDirectory(prefix="studyapp-screens-") as data:
        ctx = build_context(cfg.load_config({"data_dir": data}))
        window = create_window(ctx)
        window.show()
        screen = app.primaryScreen()
        print(f"screen {screen.geometry().width()}x{screen.geometry().height()} (logical), free area "
              f"{screen.availableGeometry().width()}x{screen.availableGeometry().height()}, "
              f"device pixel ratio {screen.devicePixelRatio():g}")
        for spec in window.specs:
            if args.tabs and spec.name not in args.tabs.split(","):
                continue
            window.show_tab(spec.name)
            deadline = time.monotonic() + args.settle
            while time.monotonic() < deadline:
                app.processEvents()
                if not worker._live:
                    break
                time.sleep(0.02)
            for _ in range(20):
                app.processEvents()
                time.sleep(0.01)
            frame = window.frameGeometry()
            holder = window.tabs.currentWidget()
            scrolls = [name for name, bar in (("horizontal", holder.horizontalScrollBar()),
                                              ("vertical", holder.verticalScrollBar())) if bar.isVisible()]
            path = args.out / f"{args.label}-{spec.name}.png"
            screen.grabWindow(0).save(str(path), "PNG")
            fits = screen.availableGeometry().contains(frame)
            print(f"{spec.name:<9} window {frame.width()}x{frame.height()} at {frame.x()},{frame.y()} "
                  f"{'fits the screen' if fits else 'HANGS OFF THE SCREEN'}; "
                  f"scroll bars: {', '.join(scrolls) or 'none'} -> {path}")
        worker.cancel_all()
        window.close()
        ctx.store.close(backup=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
