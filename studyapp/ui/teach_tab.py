"""The Teach it back tab: explain the course in your own words; an offline tutor checks it.

Left: the prompt and an editor whose draft is saved in the profile as the learner types (a crash
or a quit loses nothing). "Check my explanation" (Ctrl+Enter) grades the text on a worker
(studyapp.tutor.grader: the rubric's claims, looked for sentence by sentence); the GUI thread
only shows the result. Right: the result as a checklist (covered, partly, missing with links to
the lesson sections that teach each point, misconceptions to check), then every sentence of the
explanation with what it earned or lost and why, and the history of attempts, each reviewable. Attempts are stored by studyapp.store.teach.TeachAttempts.
Links: studyapp://teach?attempt=ID shows a past attempt; ?rubric=ID picks a rubric.
"""
from __future__ import annotations

import html
import re

from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox, QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QPlainTextEdit,
    QProgressBar, QPushButton, QSplitter, QTextBrowser, QVBoxLayout, QWidget,
)

from studyapp.store.teach import TeachAttempts
from studyapp.store.timeutil import for_people
from studyapp.content.rubric import Rubric, check_links, load_rubrics
from studyapp.ui import theme, worker

SAVE_DELAY_MS = 700          # the draft is written this long after the last keystroke
MIN_WORDS = 8                # below this there is nothing to grade
COLOURS = {  # (light, dark)
    "covered": ("#2e7d32", "#66bb6a"), "partly": ("#b26a00", "#f0b050"),
    "missing": ("#c62828", "#ef6b6b"), "muted": ("#5f6368", "#a0a4a8"),
    "track": ("#e3e5e8", "#3a3d42"), "warn_bg": ("#fff4e5", "#45351c"),
}
MARKS = {"covered": "✔", "partly": "◐", "missing": "✘"}
HEADINGS = {"covered": "Covered", "partly": "Partly covered: say a little more",
            "missing": "Missing: read these sections, then try again"}


def colours() -> dict[str, str]:
    dark = theme.current() == "dark"
    return {name: pair[dark] for name, pair in COLOURS.items()}


def grade_job(rubric: Rubric, text: str, progress=None) -> dict:
    """Runs on a worker: grade, return the result as JSON."""
    from studyapp.tutor import grader

    if progress is not None:
        progress({"stage": "grading"})
    return grader.grade(rubric, text).to_json()


# ---------------------------------------------------------------------------------------------
# The result as HTML for a QTextBrowser (HTML 4 subset: tables, not flex boxes)

def section_titles(lessons) -> dict[str, str]:
    """{'slug' or 'slug#section': 'Lesson title › Section title'} for readable links."""
    names = {}
    for lesson in lessons:
        names[lesson.slug] = lesson.title
        for section in lesson.sections:
            names[f"{lesson.slug}#{section.id}"] = f"{lesson.title} › {section.title}"
    return names


def _link_name(link: str, names: dict[str, str]) -> str:
    key = link.split("lesson=", 1)[-1]
    return names.get(key, key.replace("#", " › "))


def result_html(result: dict, names: dict[str, str], when: str = "", text: str = "",
                sentences: list[str] | None = None) -> str:
    c = colours()
    esc = html.escape
    points = result.get("points", [])
    coverage = float(result.get("coverage", 0.0))
    pct = round(coverage * 100)
    done = sum(p["status"] == "covered" for p in points)
    core = [p for p in points if p.get("core")]
    core_done = sum(p["status"] == "covered" for p in core)
    tone = c["covered"] if coverage >= 0.75 else c["partly"] if coverage >= 0.4 else c["missing"]
    parts = [
        f"<table width='100%' cellspacing='0' cellpadding='0'><tr>"
        f"<td><span style='font-size:26pt; font-weight:bold; color:{tone}'>{pct}%</span>"
        f"<span style='font-size:12pt'>&nbsp;of the key points covered</span></td>"
        f"<td align='right' style='color:{c['muted']}'>{esc(when)}</td></tr></table>",
        f"<p style='margin-top:2px'><b>{esc(result.get('band', ''))}</b> · {done} of {len(points)} "
        f"points · {core_done} of {len(core)} core points</p>",
        # The bar: two cells whose widths are the coverage (QTextBrowser draws no CSS gradients).
        f"<table width='100%' cellspacing='0' cellpadding='0' style='margin-bottom:8px'><tr>"
        + (f"<td width='{max(pct, 1)}%' bgcolor='{tone}' height='8'></td>" if pct > 0 else "")
        + (f"<td width='{100 - pct}%' bgcolor='{c['track']}' height='8'></td>" if pct < 100 else "")
        + "</tr></table>",
    ]
    titles = {p["id"]: p["title"] for p in points}
    for hit in result.get("misconceptions", []):
        parts.append(
            f"<table width='100%' cellpadding='8' style='margin:6px 0'><tr><td bgcolor='{c['warn_bg']}'>"
            f"<b>⚠ Check this: {esc(hit['title'])}</b><br><i>“{esc(hit['sentence'])}”</i><br>"
            + _because(hit.get("evidence", ""), "It says", c, sentence=hit["sentence"]) +
            f"{esc(hit['feedback'])}" + (
                f"<br><span style='color:{c['muted']}'>This sentence earns nothing for: "
                f"{esc('; '.join(titles.get(i, i) for i in hit['contradicts']))}</span>"
                if hit.get("contradicts") else "") + "</td></tr></table>")
    for status in ("covered", "partly", "missing"):
        group = [p for p in points if p["status"] == status]
        if not group:
            continue
        parts.append(f"<h3 style='color:{c[status]}; margin-top:14px'>{HEADINGS[status]} ({len(group)})</h3>")
        parts.append("<table width='100%' cellspacing='0' cellpadding='4'>")
        for p in group:
            tag = f" <span style='color:{c['muted']}'>· core</span>" if p.get("core") else ""
            body = f"<b>{esc(p['title'])}</b>{tag}"
            if p.get("matched"):
                body += (f"<br><span style='color:{c['muted']}'>Earned by:</span> <i>“{esc(p['matched'])}”</i>"
                         + _because(p.get("evidence", ""), "<br>The words that count", c, inline=True,
                                    sentence=p["matched"]))
            if p.get("lost"):
                # Which sentence cost the point: the learner sees what to correct, not just a score.
                body += (f"<br><span style='color:{c['missing']}'>Lost by:</span> <i>“{esc(p['lost'])}”</i>"
                         f" <span style='color:{c['muted']}'>(this says something the course "
                         f"contradicts; see “Check this” above)</span>")
            if status != "covered" and p.get("reference"):
                body += (f"<br><span style='color:{c['muted']}'>The course says:</span> "
                         f"{esc(p['reference'])}")
            if status != "covered":
                reads = " · ".join(f"<a href='{esc(link)}'>{esc(_link_name(link, names))}</a>"
                                   for link in p.get("links", []))
                body += f"<br><span style='color:{c['muted']}'>Read:</span> {reads}"
            parts.append(f"<tr><td width='26' valign='top' style='color:{c[status]}; font-size:14pt'>"
                         f"{MARKS[status]}</td><td valign='top'>{body}</td></tr>")
        parts.append("</table>")
    if sentences:
        parts.append(sentences_html(result, sentences, c))
    if text:
        parts.append(f"<h3 style='margin-top:14px'>Your explanation</h3>"
                     f"<p style='white-space:pre-wrap'>{esc(text)}</p>")
    return "".join(parts)


def as_written(evidence: str, sentence: str) -> str:
    """The evidence in the learner's own letters: the tutor reads lower case, so it quoted "the KL
    penalty" as "kl penalty". A piece it rewrote ("can't" read as "can not") stays as it read it."""
    def own(piece: str) -> str:
        found = re.search(r"(?<!\w)" + re.escape(piece) + r"(?!\w)", sentence, re.IGNORECASE)
        return found.group(0) if found else piece
    return " … ".join(own(piece) for piece in evidence.split(" … "))


def _because(evidence: str, lead: str, c: dict, inline: bool = False, sentence: str = "") -> str:
    """The words of the learner's sentence that the tutor went by ("KL penalty … keeps … close")."""
    if not evidence:
        return ""
    text = (f"<span style='color:{c['muted']}'>{lead}:</span> "
            f"<b>{html.escape(as_written(evidence, sentence))}</b>")
    return text if inline else text + "<br>"


def sentences_html(result: dict, sentences: list[str], c: dict) -> str:
    """Every sentence of the explanation with what it earned or lost: the learner sees which
    sentence did what, including the ones that counted for nothing."""
    esc = html.escape
    earned: dict[str, list[str]] = {}
    for p in result.get("points", []):
        if p.get("matched") and p["status"] != "missing":
            earned.setdefault(p["matched"], []).append(p["title"])
    flagged: dict[str, list[str]] = {}
    for hit in result.get("misconceptions", []):
        flagged.setdefault(hit["sentence"], []).append(hit["title"])
    rows = []
    for sentence in sentences:
        if sentence in flagged:
            mark, colour = "⚠", c["missing"]
            note = "Earns nothing: " + "; ".join(flagged[sentence]) + " (see “Check this” above)"
        elif sentence in earned:
            mark, colour = "✔", c["covered"]
            note = "Earns: " + "; ".join(earned[sentence])
        else:
            mark, colour = "·", c["muted"]
            note = "Counts for no key point (too vague, or a point a clearer sentence already earned)"
        rows.append(f"<tr><td width='26' valign='top' style='color:{colour}; font-size:13pt'>{mark}</td>"
                    f"<td valign='top'>“{esc(sentence)}”<br><span style='color:{colour}'>{esc(note)}</span>"
                    f"</td></tr>")
    return (f"<h3 style='margin-top:14px'>Sentence by sentence</h3>"
            f"<table width='100%' cellspacing='0' cellpadding='4'>{''.join(rows)}</table>")


def welcome_html() -> str:
    c = colours()
    return (f"<h3>How this works</h3><p>Write the explanation as if to a friend, in your own words. "
            f"The tutor reads it sentence by sentence and looks for the statements of the course's "
            f"key points, the right way round: who does what to whom, and whether you say “not”. "
            f"You get a checklist: what you covered (and which of your sentences did it), what is "
            f"missing, and the lesson sections that teach it. A sentence that says something the "
            f"course contradicts is marked “Check this”, with the reason, and earns nothing.</p>"
            f"<p style='color:{c['muted']}'>It is strict: a point counts only for a clear, correct "
            f"statement, so say each idea plainly in one sentence. It runs on your computer; "
            f"nothing is sent anywhere.</p>")


# ---------------------------------------------------------------------------------------------

class TeachTab(QWidget):
    status = Signal(str)
    link_activated = Signal(str)

    def __init__(self, store, lessons, folders, parent: QWidget | None = None):
        super().__init__(parent)
        self.attempts = TeachAttempts(store)
        self.names = section_titles(lessons)
        self.rubrics, self.errors = load_rubrics(*folders)
        for rubric in self.rubrics:
            self.errors.extend(check_links(rubric, lessons))
        self.rubric: Rubric | None = None
        self.task: worker.Task | None = None
        self._saved_text = ""
        self._theme = theme.current()
        self._build()
        self._save_timer = QTimer(self, singleShot=True, interval=SAVE_DELAY_MS, timeout=self.save_draft)
        self.editor.textChanged.connect(self._text_changed)
        if self.rubrics:
            self.choose_rubric(0)
        else:
            self.prompt.setText("No teach-it-back rubric is installed. Rubrics are markdown files in "
                                "resources/rubrics/ or in a content pack's rubrics/ folder.")
            self.editor.setEnabled(False)
        self._update_button()

    # ---- building -------------------------------------------------------------------------
    def _build(self) -> None:
        title = QLabel("<span style='font-size:17pt; font-weight:bold'>Teach it back</span>")
        self.rubric_box = QComboBox()
        self.rubric_box.addItems([r.title for r in self.rubrics])
        self.rubric_box.setVisible(len(self.rubrics) > 1)
        self.rubric_box.currentIndexChanged.connect(self.choose_rubric)
        head = QHBoxLayout()
        head.addWidget(title)
        head.addStretch(1)
        head.addWidget(self.rubric_box)

        self.prompt = QLabel(wordWrap=True, textInteractionFlags=Qt.TextSelectableByMouse)
        self.prompt.setObjectName("prompt")
        self.prompt.setMargin(12)
        self.errors_label = QLabel(wordWrap=True)
        self.errors_label.setObjectName("errors")
        self.errors_label.setVisible(bool(self.errors))
        if self.errors:
            self.errors_label.setText("Some rubric files have problems:\n" +
                                      "\n".join(str(e) for e in self.errors[:6]))
        self.editor = QPlainTextEdit()
        self.editor.setPlaceholderText("Start here: “A model that has just been pretrained…”")
        self.editor.setTabChangesFocus(True)
        font = self.editor.font()
        font.setPointSizeF(font.pointSizeF() * 1.1)
        self.editor.setFont(font)
        self.editor.document().setDocumentMargin(10)
        self.words = QLabel()
        self.words.setObjectName("muted")
        self.busy = QProgressBar(maximumWidth=160, textVisible=False, maximum=0)
        self.busy_label = QLabel()
        self.busy_label.setObjectName("muted")
        self.busy.hide()
        self.busy_label.hide()
        self.check = QPushButton("Check my explanation")
        self.check.setObjectName("primary")
        self.check.setToolTip("Ctrl+Enter")
        self.check.clicked.connect(self.check_explanation)
        bottom = QHBoxLayout()
        for widget in (self.words, self.busy_label, self.busy):
            bottom.addWidget(widget)
        bottom.addStretch(1)
        bottom.addWidget(QLabel("Ctrl+Enter", objectName="muted"))
        bottom.addWidget(self.check)

        left = QWidget()
        column = QVBoxLayout(left)
        column.setContentsMargins(0, 0, 6, 0)
        column.addLayout(head)
        column.addWidget(self.prompt)
        column.addWidget(self.errors_label)
        column.addWidget(self.editor, 1)
        column.addLayout(bottom)

        self.result_title = QLabel("<b>Result</b>")
        self.back_to_latest = QPushButton("Back to my latest check", flat=True)
        self.back_to_latest.hide()
        self.back_to_latest.clicked.connect(lambda: self.history.setCurrentRow(0))
        result_head = QHBoxLayout()
        result_head.addWidget(self.result_title)
        result_head.addStretch(1)
        result_head.addWidget(self.back_to_latest)
        self.result = QTextBrowser(openLinks=False)
        self.result.document().setDocumentMargin(12)
        self.result.anchorClicked.connect(lambda url: self.link_activated.emit(url.toString()))
        self.result.setHtml(welcome_html())
        self.history = QListWidget()
        self.history.currentRowChanged.connect(self._history_row)
        top = QWidget()
        top_lay = QVBoxLayout(top)
        top_lay.setContentsMargins(0, 0, 0, 0)
        top_lay.addLayout(result_head)
        top_lay.addWidget(self.result)
        bottom_box = QWidget()
        bottom_lay = QVBoxLayout(bottom_box)
        bottom_lay.setContentsMargins(0, 4, 0, 0)
        self.history_title = QLabel("<b>Your attempts</b>")
        bottom_lay.addWidget(self.history_title)
        bottom_lay.addWidget(self.history)
        right = QSplitter(Qt.Vertical)
        right.addWidget(top)
        right.addWidget(bottom_box)
        right.setStretchFactor(0, 3)
        right.setStretchFactor(1, 1)
        right.setSizes([640, 120])

        split = QSplitter(Qt.Horizontal)
        split.addWidget(left)
        split.addWidget(right)
        split.setStretchFactor(0, 5)
        split.setStretchFactor(1, 6)
        split.setSizes([560, 640])
        outer = QVBoxLayout(self)
        outer.setContentsMargins(12, 12, 12, 12)
        outer.addWidget(split)
        self._apply_style()
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            shortcut = QShortcut(QKeySequence(keys), self, context=Qt.WidgetWithChildrenShortcut)
            shortcut.activated.connect(self.check_explanation)
        # The editor takes the keys too: a shortcut only fires in the active window, and the
        # editor must never turn Ctrl+Enter into a new line.
        self.editor.installEventFilter(self)

    def eventFilter(self, watched, event) -> bool:
        if (watched is self.editor and event.type() == QEvent.KeyPress
                and event.key() in (Qt.Key_Return, Qt.Key_Enter)
                and event.modifiers() & Qt.ControlModifier):
            self.check_explanation()
            return True
        return super().eventFilter(watched, event)

    def _apply_style(self) -> None:
        c = colours()
        self.setStyleSheet(f"""
            QLabel#prompt {{ background: palette(base); border: 1px solid palette(mid);
                             border-left: 4px solid palette(highlight); border-radius: 6px;
                             font-size: 11pt; }}
            QLabel#muted {{ color: {c['muted']}; }}
            QLabel#errors {{ color: {c['missing']}; }}
            QPushButton#primary {{ background: palette(highlight); color: palette(highlighted-text);
                                   padding: 6px 16px; border-radius: 5px; font-weight: bold; }}
            QPushButton#primary:disabled {{ background: palette(mid); }}
        """)

    def changeEvent(self, event) -> None:
        # View > Theme swaps the palette; the colours of the checklist follow it.
        if event.type() == QEvent.PaletteChange and self._theme != theme.current():
            self._theme = theme.current()
            self._apply_style()
            self._history_row(self.history.currentRow())
        super().changeEvent(event)

    # ---- rubric, draft ----------------------------------------------------------------------
    def choose_rubric(self, index: int) -> None:
        if not 0 <= index < len(self.rubrics):
            return
        if self.rubric is not None:
            self.save_draft()
        self.rubric = self.rubrics[index]
        self.prompt.setText(self.rubric.prompt.replace("\n", " "))
        self.editor.blockSignals(True)
        self._saved_text = self.attempts.draft(self.rubric.id)
        self.editor.setPlainText(self._saved_text)
        self.editor.blockSignals(False)
        self._update_button()
        self.fill_history()
        if self.history.count():
            self.history.setCurrentRow(0)
        else:
            self.result.setHtml(welcome_html())

    def _text_changed(self) -> None:
        self._save_timer.start()
        self._update_button()

    def save_draft(self) -> None:
        self._save_timer.stop()
        text = self.editor.toPlainText()
        # The last saved text is remembered, so hiding the tab costs no query; a closed profile
        # (the window torn down after the store) has nothing left to save into.
        if self.rubric is None or text == self._saved_text or self.attempts.store.conn is None:
            return
        self.attempts.save_draft(self.rubric.id, text)
        self._saved_text = text

    def hideEvent(self, event) -> None:
        self.save_draft()   # switching tabs or quitting never loses the last keystrokes
        super().hideEvent(event)

    def _update_button(self) -> None:
        words = len(self.editor.toPlainText().split())
        self.words.setText(f"{words} words" + (f" · write at least {MIN_WORDS}" if 0 < words < MIN_WORDS else ""))
        self.check.setEnabled(self.rubric is not None and words >= MIN_WORDS and self.task is None)

    # ---- grading ------------------------------------------------------------------------------
    def check_explanation(self) -> None:
        if not self.check.isEnabled():
            return
        self.save_draft()
        text = self.editor.toPlainText()
        try:
            self.task = worker.run_in_background(
                grade_job, self.rubric, text, label="Checking your explanation", exclusive="teach",
                on_progress=self._progress, on_result=lambda result: self._graded(text, result),
                on_error=self._failed, on_finished=self._finished)
        except worker.Busy as exc:
            self.status.emit(str(exc))
            return
        self._progress({"stage": "grading"})
        self._update_button()

    def _progress(self, _info) -> None:
        self.busy_label.setText("Reading your sentences for the key points…")
        self.busy.show()
        self.busy_label.show()

    def _graded(self, text: str, result: dict) -> None:
        from studyapp.ui.storage_errors import save   # failed writes reported and retried
        save("teach-it-back answer", self.attempts.add, self.rubric.id, text, result)
        self.fill_history()
        self.history.setCurrentRow(0)
        self.status.emit(f"Checked: {round(result['coverage'] * 100)}% of the key points covered.")

    def _failed(self, message: str, _details: str) -> None:
        c = colours()
        self.result.setHtml(f"<h3 style='color:{c['missing']}'>The tutor could not check this</h3>"
                            f"<p>{html.escape(message)}</p><p>Your text is kept; try again.</p>")
        self.status.emit(f"The tutor could not check your explanation: {message}")

    def _finished(self) -> None:
        self.task = None
        self.busy.hide()
        self.busy_label.hide()
        self._update_button()

    # ---- history ------------------------------------------------------------------------------
    def fill_history(self) -> None:
        self.history.blockSignals(True)
        self.history.clear()
        shown = self.attempts.history(self.rubric.id) if self.rubric else []
        for attempt in shown:
            band = attempt.result.get("band", "")
            item = QListWidgetItem(f"{for_people(attempt.created_at)}   ·   {round(attempt.coverage * 100)}%"
                                   f"   ·   {band}   ·   {len(attempt.text.split())} words")
            item.setData(Qt.UserRole, attempt.id)
            self.history.addItem(item)
        self.history.blockSignals(False)
        self.history_title.setText(f"<b>Your attempts</b> ({len(shown)})" if shown else
                                   "<b>Your attempts</b> — none yet")

    def _history_row(self, row: int) -> None:
        item = self.history.item(row) if row >= 0 else None
        if item is None:
            return
        self.show_attempt(item.data(Qt.UserRole))

    def show_attempt(self, attempt_id: int) -> None:
        attempt = self.attempts.get(attempt_id)
        if attempt is None:
            return
        latest = self.history.count() and self.history.item(0).data(Qt.UserRole) == attempt_id
        when = for_people(attempt.created_at)
        self.result_title.setText("<b>Latest check</b>" if latest else f"<b>Attempt of {when}</b>")
        self.back_to_latest.setVisible(not latest)
        # An older attempt shows its text too: that is what the learner wants to compare.
        from studyapp.tutor.grader import split_sentences
        self.result.setHtml(result_html(attempt.result, self.names, when,
                                        "" if latest else attempt.text, split_sentences(attempt.text)))

    def open_link(self, params: dict, fragment: str = "") -> None:
        if "rubric" in params:
            index = next((i for i, r in enumerate(self.rubrics) if r.id == params["rubric"]), -1)
            if index >= 0:
                self.rubric_box.setCurrentIndex(index)
                self.choose_rubric(index)
        if "attempt" in params and params["attempt"].isdigit():
            attempt = self.attempts.get(int(params["attempt"]))
            if attempt is not None and self.rubric and attempt.rubric_id != self.rubric.id:
                self.open_link({"rubric": attempt.rubric_id})
            for row in range(self.history.count()):
                if self.history.item(row).data(Qt.UserRole) == int(params["attempt"]):
                    self.history.setCurrentRow(row)


def create_tab(window) -> TeachTab:
    ctx = window.ctx
    tab = TeachTab(ctx.store, ctx.lessons, ctx.config.content_folders("rubrics"))
    tab.link_activated.connect(window.open_link)
    tab.status.connect(window.show_status)
    return tab
