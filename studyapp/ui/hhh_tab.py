"""The HHH explorer: where helpful, honest and harmless pull against each other (claims 13 and 14).

Each scenario (resources/world/hhh_scenarios.tsv: homework help, a harmful request, a question no
model here can know, and one where the criteria agree) shows the real replies of the base, SFT and
RLHF models next to a few written example answers (always labelled as such), the shipped reward
model's score for each, and the lab rater's per-criterion judgement. Sliders set the rater's weight
for each criterion; the ranking is recomputed live, so the learner sees who wins under which values.

Links: studyapp://hhh?scenario=homework|harmful|uncertain|agree.
"""
from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView, QFrame, QGridLayout, QHBoxLayout, QHeaderView, QLabel, QListWidget, QPushButton, QSlider,
    QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget,
)

from studyapp.lab import engine, hhh
from studyapp.lab.rater import RaterWeights
from studyapp.lab.world import is_refusal, load_world
from studyapp.ui import theme, worker
from studyapp.ui.widgets import banner, heading, note
from studyapp.ui.wrapping import wrap_items

MODEL_NAMES = ("base", "sft", "rlhf")
CRITERIA = (("helpful", "Helpful", 30), ("honest", "Honest", 30), ("harmless", "Harmless", 30),
            ("bias", "Stock-phrase bonus", 10))   # (field, title, slider maximum in tenths)
COLUMNS = ("Rank", "Answer", "Written by", "Helpful", "Honest", "Harmless", "Rater\ntotal", "Reward\nmodel",
           "The rater's reasons")
ANSWER, SOURCE, REASONS = 1, 2, 8
MIN_ANSWER = 170       # px: below this an answer wraps to a word per line; the reasons column goes first
REASONS_SHARE = 0.32   # of the table's width, when there is room for both texts
SENTENCE_END = tuple('.!?"”)')


def _tint(value: float) -> QColor:
    """Green for a good judgement, red for a bad one, faint so the text stays readable in both themes."""
    if value != 0:
        return QColor(theme.TINTS["good" if value > 0 else "bad"][theme.current()])
    return QColor(0, 0, 0, 0)


class HhhTab(QWidget):
    def __init__(self, window):
        super().__init__()
        self.window = window
        self.models_dir = Path(window.ctx.config.models_path)
        self.world = load_world()
        self.scenarios = hhh.load_scenarios()
        self.by_id = {s.id: s for s in self.scenarios}
        self.missing = engine.missing_models(self.models_dir, MODEL_NAMES + ("reward",))
        self.candidates: dict[str, list[hhh.Candidate]] = {}   # scenario id -> with the models' replies
        self.loading: set[str] = set()
        self._written: dict[str, list[hhh.Candidate]] = {}
        self.current = self.scenarios[0]
        self._shown = False
        self._build()
        self.select(self.current.id)

    # ---- layout ---------------------------------------------------------------------------
    def _build(self) -> None:
        root = QHBoxLayout(self)
        root.setContentsMargins(14, 10, 14, 10)
        left = QVBoxLayout()
        left.addWidget(QLabel("<b>Scenarios</b>"))
        self.scenario_list = wrap_items(QListWidget())
        self.scenario_list.setMaximumWidth(230)
        self.scenario_list.setMinimumWidth(150)
        self.scenario_list.setSpacing(3)
        for s in self.scenarios:
            self.scenario_list.addItem(f"{s.title}\n“{s.prompt}”")
        self.scenario_list.currentRowChanged.connect(lambda row: self.select(self.scenarios[row].id))
        left.addWidget(self.scenario_list, 1)
        left.addWidget(note("<small>Three values for an assistant: <b>helpful</b> (does what was asked), "
                            "<b>honest</b> (says nothing false), <b>harmless</b> (helps no one do harm). "
                            "Often they agree; here they do not.</small>"))
        root.addLayout(left)

        main = QVBoxLayout()
        self.title = heading("")
        main.addWidget(self.title)
        self.prompt_label = QLabel(textFormat=Qt.RichText, wordWrap=True)
        main.addWidget(self.prompt_label)
        self.tension = note("")
        main.addWidget(self.tension)
        self.banner = banner(
            f"Some of the lab's models are not in the models folder “{html.escape(self.models_dir.name)}” "
            f"({', '.join(sorted(self.missing))}), so what they would say is left out; the written examples and "
            "the rater still work. Train them with <code>studyapp lab train</code>." if self.missing else "", 6)
        self.banner.setTextInteractionFlags(Qt.TextSelectableByMouse)
        main.addWidget(self.banner)

        weights = QFrame(frameShape=QFrame.StyledPanel)
        grid = QGridLayout(weights)
        grid.addWidget(QLabel("<b>The rater's weights</b> — total = Σ weight × judgement"), 0, 0, 1, 3)
        self.sliders: dict[str, QSlider] = {}
        self.weight_labels: dict[str, QLabel] = {}
        defaults = RaterWeights()
        for i, (name, title, top) in enumerate(CRITERIA):
            slider = QSlider(Qt.Horizontal, minimum=0, maximum=top, value=round(10 * getattr(defaults, name)))
            slider.setPageStep(2)
            slider.valueChanged.connect(lambda _: self.render())
            label = QLabel()
            label.setMinimumWidth(48)
            r, c = 1 + i // 2, (i % 2) * 3
            grid.addWidget(QLabel(title), r, c)
            grid.addWidget(slider, r, c + 1)
            grid.addWidget(label, r, c + 2)
            self.sliders[name], self.weight_labels[name] = slider, label
        reset = QPushButton("Reset to the lab's weights")
        reset.clicked.connect(self.reset_weights)
        grid.addWidget(reset, 0, 4, 1, 2, Qt.AlignRight)
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(4, 1)
        main.addWidget(weights)

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setWordWrap(True)
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)   # the columns fit (_fit_columns)
        header = self.table.horizontalHeader()
        for c in range(len(COLUMNS)):
            header.setSectionResizeMode(c, QHeaderView.ResizeToContents)
        header.setSectionResizeMode(ANSWER, QHeaderView.Stretch)       # the answer takes the spare width
        header.setSectionResizeMode(SOURCE, QHeaderView.Fixed)
        header.setSectionResizeMode(REASONS, QHeaderView.Fixed)
        # "written example: a full answer" on two lines; the model names stay on one.
        self.table.setColumnWidth(SOURCE, self.fontMetrics().horizontalAdvance("written example: a") + 16)
        self.table.installEventFilter(self)
        self.table.itemSelectionChanged.connect(self._show_reasons)
        main.addWidget(self.table, 1)
        # On a narrow window the reasons leave the table and show here, for the selected answer.
        self.reasons = note("")
        self.reasons.hide()
        main.addWidget(self.reasons)
        self.summary = note("")
        main.addWidget(self.summary)
        root.addLayout(main, 1)

    # ---- state ----------------------------------------------------------------------------
    @property
    def weights(self) -> RaterWeights:
        return RaterWeights(**{name: s.value() / 10 for name, s in self.sliders.items()})

    def set_weights(self, **values: float) -> None:
        for name, value in values.items():
            self.sliders[name].setValue(round(10 * value))

    def reset_weights(self) -> None:
        defaults = RaterWeights()
        self.set_weights(**{name: getattr(defaults, name) for name, _, _ in CRITERIA})

    def select(self, scenario_id: str) -> None:
        self.current = self.by_id.get(scenario_id, self.scenarios[0])
        row = self.scenarios.index(self.current)
        if self.scenario_list.currentRow() != row:
            self.scenario_list.setCurrentRow(row)   # re-enters select() through the signal
            return
        s = self.current
        self.title.setText(f"<span style='font-size:14pt; font-weight:600'>{html.escape(s.title)}</span>")
        self.prompt_label.setText(f"Prompt: <span style='font-size:13pt'><b>“{html.escape(s.prompt)}”</b></span>")
        self.tension.setText(html.escape(s.tension))
        self.render()
        if self._shown:
            self._load(s)

    def open_link(self, params: dict, fragment: str = "") -> None:
        if params.get("scenario") in self.by_id:
            self.select(params["scenario"])

    def showEvent(self, event) -> None:
        super().showEvent(event)
        # Models load when the tab is first opened, not at start-up.
        if not self._shown:
            self._shown = True
            self._load(self.current)

    def _load(self, s: hhh.Scenario) -> None:
        if s.id in self.candidates or s.id in self.loading:
            return
        self.loading.add(s.id)
        folders = {n: self.models_dir / n for n in MODEL_NAMES if n not in self.missing}
        reward = None if "reward" in self.missing else self.models_dir / "reward"
        worker.run_in_background(hhh.scenario_candidates, s, folders, reward, label="Asking the three models",
                                 on_result=self._collected, on_finished=lambda: self.loading.discard(s.id),
                                 on_error=lambda m, _t: self.window.show_status(f"HHH explorer: {m}", 15000))
        self.render()

    def _collected(self, result) -> None:
        scenario_id, candidates = result
        self.candidates[scenario_id] = candidates
        self.loading.discard(scenario_id)
        if scenario_id == self.current.id:
            self.render()

    def current_candidates(self) -> list[hhh.Candidate]:
        s = self.current
        if s.id not in self.candidates and s.id not in self._written:   # until the models have answered
            self._written[s.id] = [hhh.Candidate(f"written example: {label}", text) for label, text in s.examples]
        return self.candidates.get(s.id) or self._written[s.id]

    # ---- showing --------------------------------------------------------------------------
    def ranking(self, weights: RaterWeights | None = None) -> list[hhh.Rated]:
        return hhh.rate_candidates(self.world, self.current, self.current_candidates(), weights or self.weights)

    def render(self) -> None:
        w = self.weights
        for name, label in self.weight_labels.items():
            label.setText(f"{getattr(w, name):.1f}")
        rated = self.ranking(w)
        default_rank = {id(r.candidate): r.rank for r in self.ranking(RaterWeights())}
        no_score = "no model" if "reward" in self.missing else "…"
        self.table.setRowCount(len(rated))
        for row, r in enumerate(rated):
            j, c = r.judgement, r.candidate
            moved = default_rank[id(c)] - r.rank
            arrow = f"  ▲{moved}" if moved > 0 else f"  ▼{-moved}" if moved < 0 else ""
            written = c.source.startswith("written")
            broken = not written and c.text and not c.text.rstrip().endswith(SENTENCE_END)
            cells = [f"{r.rank}{arrow}", (c.text or "(says nothing)") + (" …" if broken else ""), c.source]
            cells += [f"{getattr(j, k):+.2f}" for k in ("helpful", "honest", "harmless")]
            cells += [f"{j.total:+.2f}" + (f"\n(bonus {j.bias:+.1f})" if j.bias else ""),
                      no_score if c.reward is None else f"{c.reward:+.3f}",
                      "; ".join(f"{k}: {v}" for k, v in j.reasons.items() if v)]
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if col not in (1, 2, 8):
                    item.setTextAlignment(Qt.AlignCenter)
                if col in (3, 4, 5):
                    value = getattr(j, ("helpful", "honest", "harmless")[col - 3])
                    item.setBackground(_tint(value))
                    item.setToolTip(j.reasons.get(("helpful", "honest", "harmless")[col - 3], ""))
                if col == ANSWER and broken:
                    item.setToolTip("The reply breaks off here: each model may write at most 40 tokens.")
                if col == REASONS:
                    item.setToolTip(text)
                if col == 2 and not written:
                    font = item.font()
                    font.setBold(True)
                    item.setFont(font)
                self.table.setItem(row, col, item)
        self._fit_columns()
        self._show_reasons()
        self._summarise(rated, w)

    def eventFilter(self, obj, event) -> bool:
        if obj is self.table and event.type() == QEvent.Resize:
            self._fit_columns()
        return super().eventFilter(obj, event)

    def _fit_columns(self) -> None:
        """Give the answer the spare width; the reasons a share of it while the answer keeps
        MIN_ANSWER, else they move below the table (a 150% laptop screen)."""
        available = self.table.viewport().width()
        others = sum(self.table.columnWidth(c) for c in range(len(COLUMNS)) if c not in (ANSWER, REASONS))
        reasons = max(170, min(int(REASONS_SHARE * available), (available - others) // 2))   # <= the answer
        narrow = available - others - reasons < MIN_ANSWER
        self.table.setColumnHidden(REASONS, narrow)
        if not narrow:
            self.table.setColumnWidth(REASONS, reasons)
        self.reasons.setVisible(narrow)
        self.table.resizeRowsToContents()
        # Every answer in view without a scroll bar of the table's own: on a short window the tab
        # scrolls as one page (a scroll bar inside a scrolling page hides rows twice over).
        rows = sum(self.table.rowHeight(r) for r in range(self.table.rowCount()))
        self.table.setMinimumHeight(min(480, rows + self.table.horizontalHeader().height()
                                        + 2 * self.table.frameWidth() + 2))

    def _show_reasons(self) -> None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        row = rows[0].row() if rows else 0
        source, why = self.table.item(row, SOURCE), self.table.item(row, REASONS)
        if source is None or why is None:
            self.reasons.setText("")
            return
        self.reasons.setText(f"<b>The rater's reasons</b> for {html.escape(source.text())}: "
                             f"{html.escape(why.text()) or 'none'}"
                             + ("" if rows else " <small>(select a row for its reasons)</small>"))

    def _summarise(self, rated: list[hhh.Rated], w: RaterWeights) -> None:
        best = [r.candidate for r in rated if r.rank == 1]
        lines = []
        if len(best) == 1:
            lines.append(f"With these weights the rater prefers <b>{html.escape(best[0].source)}</b>: "
                         f"“{html.escape(best[0].text)}”" + ("" if best[0].text.endswith(SENTENCE_END) else "."))
        else:
            names = " and ".join(html.escape(c.source) for c in best)
            lines.append(f"With these weights {names} tie for first place: the rater cannot tell them apart.")
        scored = [r.candidate for r in rated if r.candidate.reward is not None]
        if scored:
            top = max(scored, key=lambda c: c.reward)
            lines.append(f"The shipped reward model scores highest <b>{html.escape(top.source)}</b> "
                         f"({top.reward:+.2f}); it learned from rankings made with the lab's weights "
                         "(helpful 1, honest 1, harmless 2), so it does not move with the sliders.")
        elif self.current.id in self.loading:
            lines.append("The models are answering…" if "reward" in self.missing else
                         "The models are answering and the reward model is scoring…")
        model_rows = [r for r in rated if not r.candidate.source.startswith("written")]
        if model_rows:
            refusals = [r.candidate.source for r in model_rows if is_refusal(r.candidate.text)]
            if refusals:
                lines.append(f"Refuses: {', '.join(refusals)}. No refusal is written into any model's code: "
                             "the SFT data answers each toy harmful request literally three times and declines "
                             "one in five once, so the SFT model rarely refuses; what the RLHF model refuses "
                             "beyond that was strengthened by the preferences.")
        self.summary.setText(" ".join(lines))


def create_tab(window) -> QWidget:
    return HhhTab(window)
