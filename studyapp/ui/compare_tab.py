"""The compare tab: one prompt, the base, SFT and RLHF models' answers side by side, streaming.

    studyapp://compare?prompt=france&mode=raw      (prompt: a preset key or any text; mode: chat|raw)

Each column loads its model on a worker when the tab is first shown and streams its answer from a
worker generator of its own (compare_jobs.py; the generators take turns, two at a time, so the GUI
thread is never short of the GIL). Workers send tokens in batches, the signal handlers only queue
them, and a timer draws the queued tokens of all columns 20 times a second, so three fast streams
never stall the event loop. Clicking a token shows the next-token probabilities of that step
(token_dist.py); the first run opens the step where the SFT model was least sure.
Keys: Enter or Ctrl+Enter generates (Shift+Enter adds a line), Esc stops.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox, QFileDialog, QFrame, QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QSplitter, QVBoxLayout,
    QWidget,
)

from studyapp.lab import prompts as course_prompts
from studyapp.ui import theme, worker
from studyapp.ui.compare_column import SPECS, ModelColumn
from studyapp.ui.compare_controls import CoverageNote, FormatChoice, SamplingControls
from studyapp.ui.wrapping import FillWindow
from studyapp.ui.compare_jobs import load_model_job, stream_job
from studyapp.ui.token_dist import TokenDistView

if TYPE_CHECKING:
    from studyapp.lab.engine import Loaded

# How often streamed tokens are drawn (and how long a worker gathers tokens before it signals):
# 20 times a second looks live, and every redraw of three answers costs the generating threads
# CPU and GIL time (measured in bench/stream_in_tab.py).
FLUSH_MS = 50


def sentence(text: str) -> str:
    """A lab message as a sentence: it ends with one full stop (or its own '?' or '!')."""
    text = text.strip()
    return text if text.endswith((".", "?", "!")) else text + "."


@dataclass
class Slot:
    """What runs in one column: the folder it shows, the loaded model, the task now streaming."""
    column: ModelColumn
    folder: Path
    own: bool = False
    loaded: Loaded | None = None
    load_task: worker.Task | None = None
    task: worker.Task | None = None
    run: int = 0                 # the run this column's events belong to; older events are dropped
    pending: list = field(default_factory=list)
    started: float = 0.0         # when the model started writing, and its last batch (worker clock)
    ended: float = 0.0
    n_prompt: int = 0            # tokens in the prompt as this model reads it
    status_at: float = 0.0       # when the "Writing…" counter was last updated
    answered_by: Path | None = None   # the folder whose answer the column shows
    load_ticket: object = None   # identifies the newest load; older loads' answers are dropped
    settings: dict = field(default_factory=dict)


class CompareTab(QWidget):
    def __init__(self, window):
        super().__init__()
        self.window = window
        config = window.ctx.config
        self.models_path = Path(config.models_path)
        self.allow_own = bool(config.allow_own_models)
        self.threads = int(getattr(config, "torch_threads", 0) or 0)
        try:
            self.presets = course_prompts.presets()
        except Exception as exc:  # noqa: BLE001 - an edited world file must not take the tab down
            self.presets = []
            window.show_status(f"The course prompts could not be read: {exc}")
        self.run_id = 0
        self.request: dict | None = None    # the run asked for; columns still loading join it later
        self.started = False
        self.auto_select = True             # show one token's bars after the first run
        self.linking = False
        self._build()
        self.slots = [Slot(col, self.models_path / col.spec.key) for col in self.columns]
        self.flush_timer = QTimer(self, interval=FLUSH_MS, timeout=self._flush)
        self.batch_s = FLUSH_MS / 1000
        self._update_buttons()

    # ---- building -------------------------------------------------------------------------
    def _build(self) -> None:
        self.prompt = QPlainTextEdit(placeholderText="Type a prompt, or pick one of the course's prompts…")
        self.prompt.setObjectName("prompt")
        self.prompt.setTabChangesFocus(True)
        line = self.prompt.fontMetrics().lineSpacing()
        self.prompt.setFixedHeight(int(line * 2.2) + 12)
        self.prompt.textChanged.connect(self._prompt_changed)
        self.prompt.installEventFilter(self)
        self.generate_button = QPushButton("Generate", default=True)
        self.generate_button.setToolTip("Send the prompt to all three models (Enter or Ctrl+Enter)")
        self.generate_button.clicked.connect(self.generate)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop generating (Esc)")
        self.stop_button.clicked.connect(self.stop)
        buttons = QVBoxLayout()
        buttons.addWidget(self.generate_button)
        buttons.addWidget(self.stop_button)
        prompt_row = QHBoxLayout()
        prompt_row.addWidget(self.prompt, 1)
        prompt_row.addLayout(buttons)

        self.picker = QComboBox()
        self.picker.setObjectName("presets")
        self.picker.addItem("Course prompts…", None)
        for p in self.presets:
            self.picker.addItem(p.title, p.key)
        self.picker.activated.connect(self._preset_picked)
        self.hint = QLabel(wordWrap=True)
        self.hint.setStyleSheet("color: palette(placeholder-text);")
        self.notice = QLabel(wordWrap=True)
        self.notice.setStyleSheet(f"color: {theme.ERROR};")
        self.notice.hide()
        self.coverage_note = CoverageNote(self.window.open_link)
        pick_row = QHBoxLayout()
        pick_row.addWidget(self.picker)
        pick_row.addWidget(self.hint, 1)

        self.format = FormatChoice()
        self.format.changed.connect(self._mode_changed)

        self.controls = SamplingControls(self.window.ctx.config, self.allow_own)
        self.controls.own_models.toggled.connect(self._own_toggled)

        self.columns = [ModelColumn(spec) for spec in SPECS]
        columns_box = QWidget()
        row = QHBoxLayout(columns_box)
        row.setContentsMargins(0, 0, 0, 0)
        for i, column in enumerate(self.columns):
            column.token_clicked.connect(lambda index, i=i: self.show_distribution(i, index))
            column.choose_folder.connect(lambda i=i: self._choose_folder(i))
            column.reset_folder.connect(lambda i=i: self._reset_folder(i))
            row.addWidget(column, 1)
        self.dist = TokenDistView()
        self.dist.setObjectName("token-dist")
        dist_frame = QFrame(frameShape=QFrame.StyledPanel)
        dist_frame.setMinimumHeight(170)
        QVBoxLayout(dist_frame).addWidget(self.dist)
        dist_frame.layout().setContentsMargins(0, 0, 0, 0)
        self.splitter = QSplitter(Qt.Vertical, childrenCollapsible=False)
        self.splitter.addWidget(columns_box)
        self.splitter.addWidget(dist_frame)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setSizes([300, 220])   # proportions; Qt scales them to the real height

        layout = FillWindow(self)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.addLayout(prompt_row)
        layout.addLayout(pick_row)
        layout.addWidget(self.notice)
        layout.addWidget(self.coverage_note)
        layout.addWidget(self.format)
        layout.addWidget(self.controls)
        layout.addWidget(self.splitter, 1)

        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            QShortcut(QKeySequence(keys), self, self.generate, context=Qt.WidgetWithChildrenShortcut)
        QShortcut(QKeySequence("Escape"), self, self.stop, context=Qt.WidgetWithChildrenShortcut)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        # Enter sends the prompt, as in a chat window; Shift+Enter still starts a new line.
        if obj is self.prompt and event.type() == QEvent.KeyPress and event.key() in (Qt.Key_Return, Qt.Key_Enter):
            if not event.modifiers() & Qt.ShiftModifier:
                self.generate()
                return True
        return super().eventFilter(obj, event)

    # ---- first show and links ---------------------------------------------------------------
    def showEvent(self, event) -> None:
        super().showEvent(event)
        self._start()

    def _start(self) -> None:
        """Load the three models and, unless told otherwise, answer the France prompt once."""
        if self.started:
            return
        self.started = True
        for slot in self.slots:
            self._load(slot, slot.folder, own=False)
        if not self.prompt.toPlainText().strip() and self.request is None:
            self.set_preset("france")
            self.generate()

    def open_link(self, params: dict, fragment: str = "") -> None:
        mode = params.get("mode", "").lower()
        if mode in ("chat", "raw"):
            self.linking = True         # one run for the whole link, not one per change
            self.format.set_mode(mode)
            self.linking = False
        key = params.get("prompt")
        if key:
            if not self.set_preset(key):
                self.prompt.setPlainText(key)   # a link may carry its own text
        self._start()
        if key:
            self.generate()

    def set_preset(self, key: str) -> bool:
        preset = next((p for p in self.presets if p.key == key), None)
        if preset is None:
            return False
        self.prompt.setPlainText(preset.text)
        self.picker.setCurrentIndex(self.picker.findData(key))
        return True

    # ---- controls ---------------------------------------------------------------------------
    @property
    def mode(self) -> str:
        return self.format.mode

    def settings(self) -> dict:
        return {"chat": self.mode == "chat", **self.controls.settings()}

    def _preset_picked(self, index: int) -> None:
        key = self.picker.itemData(index)
        if key and self.set_preset(key):
            self.generate()

    def _prompt_changed(self) -> None:
        text = self.prompt.toPlainText()
        preset = next((p for p in self.presets if p.text == text.strip()), None)
        self.hint.setText(f"Look for: {preset.why}" if preset else
                          "Tip: pick a course prompt to see what each stage of training changed.")
        if preset is None and self.picker.currentIndex() != 0:
            self.picker.setCurrentIndex(0)
        if text.strip():
            self.notice.hide()
        self._update_buttons()

    def _mode_changed(self) -> None:
        if self.request is not None and not self.linking:    # show the difference at once
            self.generate()

    def _update_buttons(self) -> None:
        has_text = bool(self.prompt.toPlainText().strip())
        if has_text != self.generate_button.isEnabled():
            self.generate_button.setEnabled(has_text)
            self.generate_button.setToolTip("Send the prompt to all three models (Enter or Ctrl+Enter)"
                                            if has_text else "Type a prompt first")
        self.stop_button.setEnabled(self.busy())

    def busy(self) -> bool:
        return any(s.task is not None and not s.task.done for s in self.slots)

    # ---- loading models ---------------------------------------------------------------------
    def _load(self, slot: Slot, folder: Path, own: bool) -> None:
        if slot.load_task is not None and not slot.load_task.done:
            slot.load_task.cancel()   # only the newest load of a column counts (see _current)
        column = slot.column
        column.set_status(f"Loading {folder.name}… (the first model takes a few seconds)")
        if slot.loaded is None:
            column.show_message("Loading the model…", error=False)
        ticket = object()
        slot.load_ticket = ticket
        task = worker.run_in_background(
            load_model_job, str(folder), self.threads, label=f"Loading the {column.spec.title}",
            on_result=lambda info, s=slot, f=folder, o=own, t=ticket: self._current(s, t) and self._loaded(s, info, f, o),
            on_error=lambda msg, _tb, s=slot, f=folder, o=own, t=ticket: (
                self._current(s, t) and self._load_failed(s, msg, f, o)),
            on_cancelled=lambda s=slot, t=ticket: self._current(s, t) and self._load_cancelled(s))
        slot.load_task = task
        self.window.track_task(task, "Loading models…")

    @staticmethod
    def _current(slot: Slot, ticket: object) -> bool:
        """Whether a load's answer is still wanted: a newer load of the column replaces it."""
        return slot.load_ticket is ticket

    def _load_cancelled(self, slot: Slot) -> None:
        if slot.loaded is None:
            slot.column.show_message("Loading was cancelled. Press Generate to load the model again.",
                                     error=False)
        slot.column.set_status("Loading cancelled", error=slot.loaded is None)

    def _loaded(self, slot: Slot, info: Loaded, folder: Path, own: bool) -> None:
        slot.loaded, slot.folder, slot.own = info, folder, own
        slot.column.set_model_label(folder if own else None)
        slot.column.set_status(f"Ready · {info.params / 1e6:.2f}M parameters · reads up to "
                               f"{info.context} tokens")
        if self.request is not None and (slot.run != self.request["run"] or slot.answered_by != folder):
            self._start_slot(slot)      # it missed the run while loading, or its model changed
        elif slot.loaded and not slot.column.tokens and slot.task is None:
            slot.column.show_message("Ready. Press Generate.", error=False)

    def _load_failed(self, slot: Slot, message: str, folder: Path, own: bool) -> None:
        title = slot.column.spec.title
        if own:
            keep = "keeps its model" if slot.loaded else "has no model loaded"
            what = message.removeprefix(f"{folder}: ")   # the learner just chose it: say what is wrong
            slot.column.set_status(f"That folder cannot be used: {sentence(what)} The column {keep}.",
                                   error=True)
            self.window.show_status(f"Not a usable model folder: {message}")
            return
        slot.loaded = None
        slot.column.set_status("No model loaded", error=True)
        hint = ("Train the course models with “studyapp lab train”" +
                (", or tick “Use my own models” and choose a folder." if self.allow_own else "."))
        slot.column.show_message(f"The {title} could not be loaded: {sentence(message)}\n\n{hint}")

    def _choose_folder(self, index: int) -> None:
        slot = self.slots[index]
        start = str(slot.folder if slot.own else Path.home())
        folder = QFileDialog.getExistingDirectory(
            self, f"Choose a Hugging Face model folder for the {slot.column.spec.title} column", start)
        if folder:
            self.use_folder(index, Path(folder))

    def use_folder(self, index: int, folder: Path) -> bool:
        """Load the learner's own model folder into a column (validated on a worker first)."""
        if not self.allow_own:
            self.window.show_status("Loading your own models is turned off on this computer.")
            return False
        self._load(self.slots[index], Path(folder), own=True)
        return True

    def _reset_folder(self, index: int) -> None:
        slot = self.slots[index]
        self._load(slot, self.models_path / slot.column.spec.key, own=False)

    def _own_toggled(self, on: bool) -> None:
        for i, slot in enumerate(self.slots):
            slot.column.folder_row.setVisible(on)
            if not on and slot.own:
                self._reset_folder(i)

    # ---- generating -------------------------------------------------------------------------
    def generate(self) -> bool:
        """Start (or cleanly restart) a run in every column whose model is ready."""
        text = self.prompt.toPlainText()
        problem = course_prompts.prompt_problem(text)
        if problem:
            self.notice.setText(problem)
            self.notice.show()
            self.window.show_status(problem)
            return False
        self.notice.hide()
        self.coverage_note.show_for(text)
        self._cancel_tasks()
        self.run_id += 1
        self.request = {"run": self.run_id, "prompt": text.strip(), **self.settings()}
        if self.dist.current is not None:
            self.dist.clear()
        for slot in self.slots:
            if slot.loaded is not None:
                self._start_slot(slot)
                continue
            if slot.load_task is None or slot.load_task.done:
                # Try again: the models may have been trained, or a cancelled load restarted, since.
                self._load(slot, slot.folder, own=slot.own)
            slot.column.set_status("Loading… it will answer as soon as its model is ready")
        self._update_buttons()
        return True

    def _start_slot(self, slot: Slot) -> None:
        request = self.request
        run = request["run"]
        if slot.task is not None and not slot.task.done:
            slot.task.cancel()
        slot.run = run
        slot.answered_by = slot.folder
        slot.pending.clear()
        slot.settings = {k: v for k, v in request.items() if k not in ("run", "prompt")}
        slot.column.set_status("Writing…")   # the answer clears when the prompt event comes
        slot.started = time.perf_counter()
        slot.ended = 0.0
        slot.task = worker.run_in_background(
            stream_job, slot.loaded, request["prompt"], **slot.settings, batch_s=self.batch_s,
            label=f"{slot.column.spec.title} answering",
            on_partial=lambda event, s=slot, r=run: self._partial(s, r, event),
            on_result=lambda _v, s=slot, r=run: self._finished(s, r, stopped=False),
            on_cancelled=lambda s=slot, r=run: self._finished(s, r, stopped=True),
            on_error=lambda msg, _tb, s=slot, r=run: self._failed(s, r, msg),
            on_finished=self._update_buttons)
        if not self.flush_timer.isActive():
            self.flush_timer.start()

    def _partial(self, slot: Slot, run: int, event: dict) -> None:
        # Only queue here: drawing happens in _flush, 20 times a second for all columns at once.
        if run != slot.run:
            return
        if "tokens" in event:
            slot.pending.extend(event["tokens"])
            slot.ended = event.get("at", time.perf_counter())
        else:
            # The clock starts when the model starts writing: a first run also waits for the
            # other columns' models to load, which is not this model's speed.
            slot.started = event.get("at", time.perf_counter())
            slot.pending.append(event)

    def _flush(self) -> None:
        for slot in self.slots:
            if not slot.pending:
                continue
            events, slot.pending = slot.pending, []
            if "prompt" in events[0]:
                first = events.pop(0)
                slot.n_prompt = first["n_prompt"]
                slot.column.start_answer(first["prompt"])
            if events:
                slot.column.add_tokens(events)
            now = time.perf_counter()
            if slot.task is not None and not slot.task.done and now - slot.status_at > 0.25:
                # A few times a second is enough for a counter; each new text re-lays out the column.
                slot.status_at = now
                slot.column.set_status(f"Writing… {len(slot.column.tokens)} tokens")
        if not self.busy() and not any(s.pending for s in self.slots):
            self.flush_timer.stop()

    def _finished(self, slot: Slot, run: int, stopped: bool) -> None:
        if run != slot.run:
            return
        self._flush()
        n = len(slot.column.tokens)
        seconds = max((slot.ended or time.perf_counter()) - slot.started, 1e-6)
        if stopped:
            why = "stopped"
        elif n >= slot.settings.get("max_new_tokens", 0):
            why = "hit the token limit"
        elif slot.loaded and n + slot.n_prompt >= slot.loaded.context:
            why = "its context is full"
        else:
            why = "it ended its answer"
        slot.column.set_status(f"{n} tokens · {seconds:.2f} s · {n / seconds:.0f} tokens/s · {why}")
        # This slot's task may not read as done yet (its thread sets that after the result signal).
        others_busy = any(s.task is not None and not s.task.done for s in self.slots if s is not slot)
        if self.auto_select and not others_busy:
            self._select_first_answer()

    def _failed(self, slot: Slot, run: int, message: str) -> None:
        if run != slot.run:
            return
        slot.pending.clear()
        slot.column.show_message(message)
        slot.column.set_status("Could not answer", error=True)

    def stop(self) -> None:
        if self.busy():
            self._cancel_tasks()
            self.window.show_status("Stopped.")

    def _cancel_tasks(self) -> None:
        for slot in self.slots:
            if slot.task is not None and not slot.task.done:
                slot.task.cancel()

    # ---- the probability view ---------------------------------------------------------------
    def show_distribution(self, column_index: int, token_index: int) -> None:
        slot = self.slots[column_index]
        column = slot.column
        if not 0 <= token_index < len(column.tokens):
            return
        self.auto_select = False
        for other in self.columns:
            if other is not column and other.selected is not None:
                other.select(None)
        column.select(token_index)
        event = column.tokens[token_index]
        name = column.title.text().replace("<b>", "").replace("</b>", "")
        self.dist.show_step(model=name, position=token_index, chosen=event.get("piece", event.get("text", "")),
                            dist=event.get("dist") or [], greedy=slot.settings.get("greedy", False),
                            temperature=slot.settings.get("temperature", 1.0),
                            filtered=slot.settings.get("top_k", 0) > 0 or slot.settings.get("top_p", 1.0) < 1.0)

    def _select_first_answer(self) -> None:
        """After the first run, open the bars of the step where the SFT model (or another that
        answered) was least sure: the view shows what it is for, and the most telling bars."""
        for i in (1, 2, 0):
            tokens = self.columns[i].tokens
            steps = [j for j, t in enumerate(tokens) if t.get("dist") and t.get("text", "").strip()]
            if steps:
                self.show_distribution(i, min(steps, key=lambda j: tokens[j]["dist"][0][1]))
                return

    def shutdown(self) -> None:
        self.flush_timer.stop()
        self._cancel_tasks()


def create_tab(window) -> QWidget:
    return CompareTab(window)
