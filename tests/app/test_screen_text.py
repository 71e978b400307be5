"""No developer text on screen: every tab's visible text is scanned for file paths, a literal
"\\n", "(s)" plurals, unfilled {placeholders} and tracebacks."""
from __future__ import annotations

import html
import re

import pytest
from PySide6.QtWidgets import (
    QAbstractButton, QApplication, QComboBox, QGroupBox, QLabel, QLineEdit, QListWidget, QPlainTextEdit,
    QTableWidget, QTabWidget, QTextEdit, QTreeWidget, QWidget,
)

from tests.support import MainWindows

DEVELOPER_TEXT = {
    "a literal \\n": re.compile(r"\\n"),
    "a (s) plural": re.compile(r"\w\(s\)"),
    "an absolute path": re.compile(r"(?:^|[\s\"'(=:])(?:/(?:home|usr|tmp|work|opt|var|root|srv|mnt|etc|Users)/\S*"
                                   r"|[A-Za-z]:\\\S+)"),
    "an unfilled placeholder": re.compile(r"\{[a-z_][a-z0-9_]*\}"),
    "a traceback": re.compile(r"Traceback \(most recent call last\)"),
}
TAG = re.compile(r"<[^>]+>")


def plain(text: str) -> str:
    return html.unescape(TAG.sub(" ", text or ""))


def visible_texts(root: QWidget) -> list[tuple[str, str]]:
    """(where, text) of everything a learner can read in `root`, tooltips and placeholders too."""
    found = []
    for w in [root] + root.findChildren(QWidget):
        if not w.isVisibleTo(root) and w is not root:
            continue
        name = f"{type(w).__name__}({w.objectName() or w.accessibleName()[:30]})"
        texts = [w.toolTip()]
        if isinstance(w, QLabel):
            texts.append(w.text())
        elif isinstance(w, QAbstractButton):
            texts.append(w.text())
        elif isinstance(w, QGroupBox):
            texts.append(w.title())
        elif isinstance(w, QLineEdit):
            texts += [w.text(), w.placeholderText()]
        elif isinstance(w, QPlainTextEdit):
            texts.append(w.placeholderText())
            if w.isReadOnly():
                texts.append(w.toPlainText())
        elif isinstance(w, QTextEdit):
            texts.append(w.toPlainText())
        elif isinstance(w, QComboBox):
            texts += [w.itemText(i) for i in range(w.count())]
        elif isinstance(w, QListWidget):
            texts += [w.item(i).text() for i in range(w.count())]
            texts += [w.item(i).toolTip() for i in range(w.count())]
        elif isinstance(w, QTreeWidget):
            header = w.headerItem()
            texts += [header.text(c) for c in range(header.columnCount())]
            for i in range(w.topLevelItemCount()):
                item = w.topLevelItem(i)
                texts += [item.text(c) for c in range(item.columnCount())]
        elif isinstance(w, QTableWidget):
            texts += [w.item(r, c).text() for r in range(w.rowCount()) for c in range(w.columnCount())
                      if w.item(r, c) is not None]
        elif isinstance(w, QTabWidget):
            texts += [w.tabText(i) for i in range(w.count())]
        found += [(name, plain(t)) for t in texts if t]
    return found


def problems(texts: list[tuple[str, str]]) -> list[str]:
    out = []
    for where, text in texts:
        for what, pattern in DEVELOPER_TEXT.items():
            match = pattern.search(text)
            if match:
                out.append(f"{where}: {what}: ...{text[max(0, match.start() - 40):match.end() + 40]}...")
    return out


def test_the_scanner_finds_each_kind_of_developer_text():
    bad = [("x", "Example: line one\\nline two"), ("x", "3 attempt(s)"),
           ("x", "Models in /home/builder/studyapp/models"), ("x", "Read C:\\Users\\ada\\file"),
           ("x", "Hello {name}"), ("x", "Traceback (most recent call last):")]
    assert len(problems(bad)) == len(bad)
    fine = [("x", "3 attempts · 50%"), ("x", "and/or the model"), ("x", "{1, 2} is a set"),
            ("x", "ratio p_new / p_old"), ("x", "studyapp://lessons?lesson=hhh")]
    assert problems(fine) == []


@pytest.fixture(scope="module")
def window(qapp, tmp_path_factory):
    windows = MainWindows(tmp_path_factory.mktemp("screen"))
    yield windows.open(size=(1366, 740))[0]
    windows.close()


def tab_names():
    from studyapp.ui.tabs import available_tabs
    return [spec.name for spec in available_tabs()]


@pytest.mark.parametrize("name", tab_names())
def test_no_developer_text_on_screen(qtbot, window, name):
    tab = window.show_tab(name)
    qtbot.waitUntil(tab.isVisible, timeout=5000)
    QApplication.processEvents()      # the first-show refreshes that are queued, not awaited work
    found = problems(visible_texts(tab))
    assert found == [], "\n".join(found)


def _rlhf_stage(n):
    def open_stage(tab):
        tab.show_stage(n)
        if n == 4:   # the model sizes arrive from a worker: wait for them
            return lambda: "parameters" in tab.playground.size_labels[0].text()
    return open_stage


def _cards_view(view):
    def open_view(tab):
        tab.show_view(view)
        if view == "browse":
            return lambda: tab.browse.model.rowCount() > 0 and tab.browse.count.text() != ""
    return open_view


def _hhh_scenario(scenario):
    def open_scenario(tab):
        tab.select(scenario)
    return open_scenario


# Pages a learner reaches with one click inside a tab; the scan above sees only each tab's first page.
SUB_PAGES = {
    "rlhf stage 2": ("rlhf", _rlhf_stage(2)), "rlhf stage 3": ("rlhf", _rlhf_stage(3)),
    "rlhf playground": ("rlhf", _rlhf_stage(4)),
    "cards browse": ("cards", _cards_view("browse")), "cards statistics": ("cards", _cards_view("stats")),
    "hhh harmful": ("hhh", _hhh_scenario("harmful")), "hhh uncertain": ("hhh", _hhh_scenario("uncertain")),
}


@pytest.mark.parametrize("page", list(SUB_PAGES))
def test_no_developer_text_on_the_pages_inside_a_tab(qtbot, window, page):
    name, open_page = SUB_PAGES[page]
    tab = window.show_tab(name)
    qtbot.waitUntil(tab.isVisible, timeout=5000)
    ready = open_page(tab)
    if ready is not None:
        qtbot.waitUntil(ready, timeout=60_000)
    QApplication.processEvents()
    found = problems(visible_texts(tab))
    assert found == [], "\n".join(found)
