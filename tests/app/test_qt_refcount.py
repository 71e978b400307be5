"""Guard against a Qt binding that leaks away references to None (PySide6 6.12.0 on CPython 3.11).

With that build every void Qt call (update(), setText(), drawLine() ...) drops one reference to
None; a live chart makes hundreds per repaint and the app died with "none_dealloc" after ~30 PPO
steps. pyproject.toml excludes that release; this test fails if a release with the bug comes back.
"""
import sys

from PySide6.QtWidgets import QLabel


def test_void_qt_calls_keep_the_reference_count_of_none(qtbot):
    label = QLabel()
    qtbot.addWidget(label)
    before = sys.getrefcount(None)
    for _ in range(2000):
        label.update()
        label.setText("x")
    assert sys.getrefcount(None) >= before - 50   # other code may come and go; 4,000 would not
