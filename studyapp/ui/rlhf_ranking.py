"""Stage 1 of the RLHF tab: the SFT model answers one prompt 2-4 times, the learner ranks the
answers (drag, buttons or Ctrl+Up/Down) or reveals the rater's ranking, and every ranking becomes
k(k-1)/2 pairs for the learner's preference data. The rules are in studyapp.lab.ranking.
"""
from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import QTimer, Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView, QComboBox, QDoubleSpinBox, QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QPushButton,
    QSpinBox, QSplitter, QVBoxLayout, QWidget,
)

from studyapp.lab import engine, ranking
from studyapp.lab.common import LabError
from studyapp.ui import worker
from studyapp.ui.theme import error_html
from studyapp.ui.widgets import SILENT, button, heading, note, prompt_picker, quoted, wrapped
from studyapp.ui.wrapping import wrap_items

ROLE_RESPONSE = Qt.UserRole
FIRST_PROMPT = "What is the capital of Germany?"   # seen in pretraining only: SFT's answers vary
LIST_STYLE = ("QListWidget::item { padding: 6px 4px; border-bottom: 1px solid palette(midlight); } "
              "QListWidget::item:selected { background: palette(highlight); color: palette(highlighted-text); }")


class RankingPage(QWidget):
    """The learner's preference data (learner_pairs) grows here."""

    def __init__(self, window, world, sft_dir: Path, missing: dict[str, str], show_stage):
        super().__init__()
        self.window, self.world, self.sft_dir, self.missing = window, world, sft_dir, missing
        self.learner_pairs: list = []
        self.n_rankings = 0
        self.seed = 0
        self.prompt = ""                 # the prompt the listed answers answer
        self.responses: list[ranking.Response] = []
        self.rater_order = None
        self.current_pairs: list = []    # the pairs of the ranking on screen
        self.sample_task = None
        self._build(show_stage)

    def _build(self, show_stage) -> None:
        lay = QVBoxLayout(self)
        lay.addWidget(wrapped(heading("Stage 1 — people rank answers, and rankings become pairs")))
        lay.addWidget(note(
            "Writing the perfect answer is hard; saying which of a few answers is better is easy and "
            "consistent. So for one prompt the SFT model writes 2-4 answers and a person ranks them, best "
            "first. Every ordered pair of the ranking is one training example for the reward model."))
        row = QHBoxLayout()
        self.prompt_box = prompt_picker(self.world, FIRST_PROMPT)
        self.prompt_box.lineEdit().setPlaceholderText("Pick a prompt or type your own")
        self.prompt_box.lineEdit().returnPressed.connect(self.sample)
        self.prompt_box.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.prompt_box.setMinimumContentsLength(16)   # long course prompts must not widen the tab
        self.count_box = QSpinBox(minimum=2, maximum=4, value=4, suffix=" answers")
        self.temp_box = QDoubleSpinBox(minimum=0.1, maximum=2.0, singleStep=0.1, value=1.0, prefix="temperature ")
        self.temp_box.setToolTip("Higher: more varied (and more often wrong) answers")
        self.sample_button = button("① Sample answers from the SFT model", self.sample, default=True)
        for w, stretch in ((QLabel("Prompt:"), 0), (self.prompt_box, 1), (self.count_box, 0), (self.temp_box, 0),
                           (self.sample_button, 0)):
            row.addWidget(w, stretch)
        lay.addLayout(row)
        self.sample_info = note("")
        lay.addWidget(self.sample_info)

        split = QSplitter(Qt.Horizontal)
        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 6, 0)
        ll.addWidget(wrapped(QLabel("<b>② Your ranking</b> — drag to reorder, best at the top "
                                    "(or Ctrl+↑ / Ctrl+↓)")))
        self.rank_list = wrap_items(QListWidget(alternatingRowColors=True))
        self.rank_list.setDragDropMode(QAbstractItemView.InternalMove)
        self.rank_list.setDefaultDropAction(Qt.MoveAction)
        self.rank_list.setStyleSheet(LIST_STYLE)
        font = self.rank_list.font()
        font.setPointSizeF(font.pointSizeF() * 1.1)
        self.rank_list.setFont(font)
        self.rank_list.model().rowsMoved.connect(lambda *_: QTimer.singleShot(0, self._render_ranking))
        ll.addWidget(self.rank_list, 1)
        buttons = QHBoxLayout()
        self.up_button = button("▲ Better", lambda: self.move_selected(-1))
        self.down_button = button("▼ Worse", lambda: self.move_selected(+1))
        QShortcut(QKeySequence("Ctrl+Up"), self.rank_list, lambda: self.move_selected(-1))
        QShortcut(QKeySequence("Ctrl+Down"), self.rank_list, lambda: self.move_selected(+1))
        self.reveal_button = QPushButton("Reveal the rater's ranking", checkable=True)
        self.reveal_button.toggled.connect(lambda _: self._render_ranking())
        self.adopt_button = button("Use the rater's order", self.adopt_rater_order)
        for b in (self.up_button, self.down_button, self.reveal_button, self.adopt_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        ll.addLayout(buttons)
        self.rater_info = note("")
        ll.addWidget(self.rater_info)
        split.addWidget(left)

        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(6, 0, 0, 0)
        self.pairs_title = wrapped(QLabel("<b>Pairs</b>"))
        rl.addWidget(self.pairs_title)
        self.pairs_list = wrap_items(QListWidget(alternatingRowColors=True))
        self.pairs_list.setSelectionMode(QAbstractItemView.NoSelection)
        self.pairs_list.setStyleSheet(LIST_STYLE)
        rl.addWidget(self.pairs_list, 1)
        split.addWidget(right)
        split.setSizes([600, 500])
        lay.addWidget(split, 1)

        bottom = QHBoxLayout()
        self.keep_button = button("③ Add these pairs to my preference data", self.keep_pairs)
        self.data_label = wrapped(QLabel())
        self.clear_button = button("Clear my data", self.clear_pairs)
        for w, stretch in ((self.keep_button, 0), (self.data_label, 1), (self.clear_button, 0),
                           (button("Next: train the reward model →", lambda: show_stage(2)), 0)):
            bottom.addWidget(w, stretch)
        lay.addLayout(bottom)
        self._update_data_label()
        self._render_ranking()

    # ---- sampling (on a worker) ---------------------------------------------------------------
    def sample(self) -> None:
        try:
            prompt = ranking.check_prompt(self.prompt_box.currentText())
        except LabError as exc:
            self.sample_info.setText(error_html(html.escape(str(exc))))
            return
        if "sft" in self.missing:
            self.sample_info.setText("The SFT model is missing (see the message above).")
            return
        if self.sample_task is not None:
            self.sample_task.cancel()
        self.seed += 1
        self.sample_button.setEnabled(False)
        self.sample_info.setText("The SFT model is writing answers…")

        def job(sft_dir, prompt, k, temperature, seed):
            sft = engine.load(sft_dir, device="cpu")
            return prompt, ranking.sample_responses(sft.model, sft.tokenizer, prompt, k, seed=seed,
                                                    temperature=temperature, world=self.world)

        task = worker.run_in_background(job, self.sft_dir, prompt, self.count_box.value(), self.temp_box.value(),
                                        self.seed, label="Sampling answers", on_result=self._sampled,
                                        on_error=self._sample_failed, on_finished=lambda: self._sample_done(task))
        self.sample_task = task

    def _sample_done(self, task) -> None:
        if task is self.sample_task:   # a replaced (cancelled) sampling must not clear its successor
            self.sample_task = None
            self.sample_button.setEnabled(True)

    def _sample_failed(self, message: str, _tb: str) -> None:
        self.sample_info.setText(error_html(f"Could not sample: {html.escape(message)}"))

    def _sampled(self, result) -> None:
        prompt, responses = result
        self.prompt = prompt
        self.responses = responses
        self.rater_order = ranking.rater_ranking(self.world, prompt, [r.text for r in responses])
        n_model = sum(r.sampled for r in responses)
        extra = "" if n_model == len(responses) else (
            f" The model said only {n_model} different thing{'s' if n_model != 1 else ''}, so "
            f"{len(responses) - n_model} written example{'s' if len(responses) - n_model != 1 else ''} "
            "from the lab's preference data fill the list (marked as such).")
        self.sample_info.setText(f"{len(responses)} answers to “{html.escape(prompt)}”.{extra}")
        self.rank_list.clear()
        for r in responses:
            item = QListWidgetItem()
            item.setData(ROLE_RESPONSE, r)
            item.setFlags(Qt.ItemIsEnabled | Qt.ItemIsSelectable | Qt.ItemIsDragEnabled)
            self.rank_list.addItem(item)
        self.rank_list.setCurrentRow(0)
        self._render_ranking()

    def ranked_texts(self) -> list[str]:
        return [self.rank_list.item(i).data(ROLE_RESPONSE).text for i in range(self.rank_list.count())]

    def move_selected(self, delta: int) -> None:
        row = self.rank_list.currentRow()
        new = row + delta
        if row < 0 or not 0 <= new < self.rank_list.count():
            return
        item = self.rank_list.takeItem(row)
        self.rank_list.insertItem(new, item)
        self.rank_list.setCurrentRow(new)
        self._render_ranking()

    def adopt_rater_order(self) -> None:
        if not self.rater_order:
            return
        items = [self.rank_list.takeItem(0) for _ in range(self.rank_list.count())]
        by_text = {it.data(ROLE_RESPONSE).text: it for it in items}
        for index, _ in self.rater_order:
            self.rank_list.addItem(by_text.pop(self.responses[index].text))
        for it in by_text.values():
            self.rank_list.addItem(it)
        self._render_ranking()

    def _render_ranking(self) -> None:
        reveal = self.reveal_button.isChecked() and self.rater_order is not None
        rater_rank = {}
        if self.rater_order:
            for pos, (index, judgement) in enumerate(self.rater_order, start=1):
                rater_rank[self.responses[index].text] = (pos, judgement)
        for i in range(self.rank_list.count()):
            item = self.rank_list.item(i)
            r = item.data(ROLE_RESPONSE)
            lines = [f"{i + 1}.  {r.text or SILENT}", f"      {r.source}"]
            if reveal and r.text in rater_rank:
                pos, j = rater_rank[r.text]
                why = "; ".join(v for v in j.reasons.values() if v)
                lines.append(f"      rater: #{pos}, score {j.total:+.2f} ({why})")
            item.setText("\n".join(lines))
        has = self.rank_list.count() > 0
        for b in (self.up_button, self.down_button, self.keep_button):
            b.setEnabled(has)
        self.reveal_button.setEnabled(self.rater_order is not None)
        self.adopt_button.setEnabled(self.rater_order is not None)
        if not has:
            self.rater_info.setText("")
        elif self.rater_order is None:
            self.rater_info.setText("The lab's rater checks answers against the world's facts, so it can "
                                    "rank only the course's prompts; this one is yours alone to judge.")
        else:
            a = ranking.ranking_agreement(self.rater_order, [r.text for r in self.responses], self.ranked_texts())
            ties = a["ties"]
            tie_text = (f" ({ties} pair{'s' if ties != 1 else ''} the rater scores as a tie)"
                        if ties else "")
            self.rater_info.setText(f"You agree with the rater on {a['agree']} of {a['judged']} pairs{tie_text}."
                                    if self.reveal_button.isChecked() else
                                    "Rank them yourself, then reveal the rater's ranking to compare.")
        self._render_pairs()

    def _render_pairs(self) -> None:
        self.pairs_list.clear()
        texts = self.ranked_texts()
        k = len(texts)
        pairs = ranking.ranking_pairs(self.prompt, texts) if k else []
        self.current_pairs = pairs
        self.keep_button.setText(f"③ Add these {len(pairs)} pairs to my preference data")
        self.pairs_title.setText(f"<b>Pairs</b> — {k} answers → {k}·{max(k - 1, 0)}/2 = {len(pairs)} pairs "
                                 "(chosen &gt; rejected)" if k else "<b>Pairs</b> — sample some answers first")
        number = {t: i + 1 for i, t in enumerate(texts)}
        for p in pairs:
            self.pairs_list.addItem(f"#{number[p.chosen]} > #{number[p.rejected]}    {quoted(p.chosen)}  >  "
                                    f"{quoted(p.rejected)}")

    def keep_pairs(self) -> None:
        # A new ranking of the same answers replaces the old one's pairs rather than doubling them.
        self.learner_pairs, fresh = ranking.merge_pairs(self.learner_pairs, self.current_pairs)
        self.n_rankings += 1
        self._update_data_label()
        self.window.show_status(f"Added {len(fresh)} pairs; {len(self.learner_pairs)} of yours in all.")

    def clear_pairs(self) -> None:
        self.learner_pairs, self.n_rankings = [], 0
        self._update_data_label()

    def _update_data_label(self) -> None:
        n = len(self.learner_pairs)
        self.data_label.setText(f"Your preference data: <b>{n} pairs</b> from {self.n_rankings} ranking{'s' if self.n_rankings != 1 else ''}")
        self.clear_button.setEnabled(n > 0)
