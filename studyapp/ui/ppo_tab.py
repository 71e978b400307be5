"""The PPO tab ("ppo"): run PPO live on the CPU and watch its curves, overlaid with earlier runs.

Left: the runs (the shipped ones from models/runs/*.jsonl, the ones stored in the profile, the live
one), each with its colour; tick to overlay, delete, export CSV/PNG, smoothing and x-axis. Top:
the settings of a new run and start/pause/cancel. Middle: the charts (studyapp.ui.curves). Bottom:
the replies the policy sampled at a step, with the reward model's and the rater's scores (the
settings box and the replies table are in studyapp.ui.ppo_controls).

Training runs through the one worker helper (exclusive="training": a second run anywhere in the app
gets a Busy message); every step is appended to a Run (studyapp.lab.runs) and written to the
profile (studyapp.store.labruns) on the GUI thread, and the charts redraw from a timer.
The second view of the middle pane is the shipped beta sweep's over-optimisation curve
(studyapp.ui.overopt_view). Links: studyapp://ppo?preset=default|beta0, studyapp://ppo?reward=FOLDER,
studyapp://ppo?run=ID, studyapp://ppo?view=overopt|curves.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QComboBox, QFileDialog, QFormLayout, QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QPushButton, QSlider,
    QSizePolicy, QSplitter, QTabWidget, QVBoxLayout, QWidget,
)

from studyapp.lab import runs as R
from studyapp.store.labruns import LabRuns
from studyapp.ui import worker
from studyapp.ui.curves import CurveGrid
from studyapp.ui.overopt_view import OverOptView
from studyapp.ui.ppo_controls import SamplesView, SettingsBox
from studyapp.ui.widgets import figure
from studyapp.ui.wrapping import FillWindow
from studyapp.wording import count

INTRO = ("<b>PPO: the third stage of RLHF.</b> The SFT model writes replies, the reward model scores "
         "them, and PPO nudges the policy toward higher scores while a KL penalty (beta) keeps it close "
         "to the SFT model. Compare the shipped runs: with <b>beta = 0</b> the reward-model score climbs "
         "while the rater's true score does not follow: that gap is reward hacking.")


def _swatch(colour: str) -> QIcon:
    pixmap = QPixmap(14, 14)
    pixmap.fill(QColor(colour))
    return QIcon(pixmap)



class PPOTab(QWidget):
    def __init__(self, window):
        super().__init__()
        self.window = window
        self.ctx = window.ctx
        self.models = Path(self.ctx.config.models_path)
        self.reward_dir = self.models / "reward"
        self.labruns = LabRuns(self.ctx.store)
        self.task: worker.Task | None = None
        self.live: R.Run | None = None
        self.items: dict[int, QListWidgetItem] = {}     # id(run) -> its row in the list
        self.stored: dict[int, R.Run] = {}               # lab_run id -> Run, loaded when first ticked
        self._build()
        self._load_runs()

    # ---- layout ---------------------------------------------------------------------------
    def _build(self) -> None:
        self.intro = intro = QLabel(INTRO, wordWrap=True)
        self.settings = SettingsBox(config=self.ctx.config)
        self.reward_label = QLabel(wordWrap=True)
        self.start_button = QPushButton("Start training", toolTip="Train PPO now, on this computer's CPU")
        self.pause_button = QPushButton("Pause", enabled=False, checkable=True)
        self.cancel_button = QPushButton("Cancel", enabled=False)
        self.status = QLabel(wordWrap=True)
        self.start_button.clicked.connect(self.start)
        self.pause_button.toggled.connect(self.set_paused)
        self.cancel_button.clicked.connect(self.cancel)
        buttons = QHBoxLayout()
        for button in (self.start_button, self.pause_button, self.cancel_button):
            buttons.addWidget(button)

        self.run_list = QListWidget(toolTip="Tick runs to overlay them; select one to read its replies")
        self.run_list.setTextElideMode(Qt.ElideRight)
        self.run_list.itemChanged.connect(self._item_ticked)
        self.run_list.currentItemChanged.connect(lambda *_: self._show_samples_of_current())
        self.delete_button = QPushButton("Delete run")
        self.delete_button.clicked.connect(self.delete_selected)
        self.csv_button = QPushButton("Export CSV…")
        self.csv_button.clicked.connect(lambda: self.export_csv())
        self.png_button = QPushButton("Export PNG…")
        self.png_button.clicked.connect(lambda: self.export_png())
        self.smooth_slider = QSlider(Qt.Horizontal, minimum=0, maximum=99, value=60,
                                     toolTip="Exponential moving average with TensorBoard's debiasing")
        self.smooth_label = QLabel()
        self.smooth_slider.valueChanged.connect(self._smoothing_changed)
        self.x_axis = QComboBox()
        self.x_axis.addItem("PPO step", "step")
        self.x_axis.addItem("Training time (s)", "time")
        self.x_axis.activated.connect(lambda _i: self.curves.set_x_axis(self.x_axis.currentData()))

        side = QVBoxLayout()
        side.addWidget(self.settings)
        side.addWidget(self.reward_label)
        side.addLayout(buttons)
        side.addWidget(self.status)
        side.addWidget(QLabel("<b>Runs</b>"))
        side.addWidget(self.run_list, 1)
        row = QHBoxLayout()
        row.addWidget(self.delete_button)
        row.addWidget(self.csv_button)
        row.addWidget(self.png_button)
        side.addLayout(row)
        view = QFormLayout()
        smooth_row = QHBoxLayout()
        smooth_row.addWidget(self.smooth_slider, 1)
        smooth_row.addWidget(self.smooth_label)
        view.addRow("Smoothing", smooth_row)
        view.addRow("x-axis", self.x_axis)
        side.addLayout(view)
        side_widget = QWidget()
        side_widget.setLayout(side)
        side_widget.setMinimumWidth(280)
        side_widget.setMaximumWidth(360)

        self.curves = CurveGrid()
        # The beta sweep's over-optimisation curve (claims 11-12), beside the live charts.
        self.overopt = OverOptView(self.models)
        self.views = QTabWidget(documentMode=True)
        self.views.addTab(self.curves, "Training curves")
        self.views.addTab(self.overopt, "Over-optimisation: the beta sweep")
        self.views.currentChanged.connect(self._view_changed)
        self._view_changed(self.views.currentIndex())
        self.samples = SamplesView()
        right = QSplitter(Qt.Vertical)
        right.addWidget(self.views)
        right.addWidget(self.samples)
        right.setStretchFactor(0, 4)
        right.setStretchFactor(1, 1)
        right.setSizes([560, 150])
        split = QSplitter(Qt.Horizontal)
        split.addWidget(side_widget)
        split.addWidget(right)
        split.setStretchFactor(1, 1)
        layout = FillWindow(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.addWidget(intro)
        layout.addWidget(split, 1)
        self._smoothing_changed(self.smooth_slider.value())
        self._show_reward_dir()

    def resizeEvent(self, event) -> None:
        # FillWindow counted the wrapped intro as one line but laid out three at 150%: the beta
        # sweep's note slid under its chart. Its minimum is its lines (16 = the side margins).
        super().resizeEvent(event)
        self.intro.setMinimumHeight(0)
        self.intro.setMinimumHeight(self.intro.heightForWidth(self.width() - 16))

    def _view_changed(self, index: int) -> None:
        """Only the view on show claims room: a hidden page's minimum height (the charts' captions
        wrap while the window is narrow) would otherwise push the replies table off a small screen."""
        for i in range(self.views.count()):
            policy = QSizePolicy.Preferred if i == index else QSizePolicy.Ignored
            self.views.widget(i).setSizePolicy(policy, policy)

    # ---- the run list ---------------------------------------------------------------------
    def _load_runs(self) -> None:
        """The shipped runs (ticked) first, then the profile's runs (unticked until asked for)."""
        shipped = R.shipped_runs(self.models)
        for run in shipped:
            self._add_run(run, visible=True)
            preset = {"ppo": "default", "ppo_beta0": "beta0"}.get(Path(run.config.get("file", "")).stem)
            if preset is not None:
                self.settings.shipped_settings[preset] = {k: run.config[k] for k in R.PPO_DEFAULTS if k in run.config}
        self.settings.apply_preset("default")
        if not shipped:
            self.status.setText(f"No shipped runs in {self.models / 'runs'}: press Start to make one, "
                                "or run `studyapp lab train --stages ppo`.")
        # Nothing trains yet when the tab opens, so a 'running' row was cut off: list() says so.
        for row in self.labruns.list("ppo"):
            run = R.Run(row["name"], source="profile", status=row["status"], config=row["config"], run_id=row["id"])
            run.config["steps_stored"] = row["steps"]
            self.stored[row["id"]] = run
            self._add_run(run, visible=False)
        if shipped:
            self.run_list.setCurrentItem(self.items[id(shipped[-1])])

    def _label(self, run: R.Run) -> str:
        if run.source == "shipped":
            return f"{run.name}\n    {len(run)} steps, shipped with the app"
        steps = len(run) or run.config.get("steps_stored", 0)
        return f"#{run.run_id} {run.name}\n    {run.status}, {steps} steps"

    def _add_run(self, run: R.Run, visible: bool, top: bool = False) -> None:
        colour = self.curves.add_run(run, visible=visible)
        item = QListWidgetItem(_swatch(colour), self._label(run))
        item.setFlags(item.flags() | Qt.ItemIsUserCheckable)
        item.setData(Qt.UserRole, run)
        item.setToolTip(_describe(run))
        self.run_list.blockSignals(True)
        item.setCheckState(Qt.Checked if visible else Qt.Unchecked)
        if top:
            self.run_list.insertItem(self._first_profile_row(), item)
        else:
            self.run_list.addItem(item)
        self.run_list.blockSignals(False)
        self.items[id(run)] = item

    def _first_profile_row(self) -> int:
        for row in range(self.run_list.count()):
            if self.run_list.item(row).data(Qt.UserRole).source != "shipped":
                return row
        return self.run_list.count()

    def _update_item(self, run: R.Run) -> None:
        item = self.items.get(id(run))
        if item is not None:
            self.run_list.blockSignals(True)
            item.setText(self._label(run))
            item.setToolTip(_describe(run))
            self.run_list.blockSignals(False)

    def _item_ticked(self, item: QListWidgetItem) -> None:
        run = item.data(Qt.UserRole)
        visible = item.checkState() == Qt.Checked
        if visible:
            self._ensure_loaded(run)
        self.curves.set_visible(run, visible)

    def _ensure_loaded(self, run: R.Run) -> None:
        """A stored run's series is read from the profile the first time it is shown."""
        if run.source == "profile" and not len(run) and run is not self.live:
            loaded = R.run_from_stored(self.labruns.load(run.run_id))
            run.steps, run.times, run.values, run.samples = loaded.steps, loaded.times, loaded.values, loaded.samples
            run.version += 1

    def selected_run(self) -> R.Run | None:
        item = self.run_list.currentItem()
        return item.data(Qt.UserRole) if item is not None else None

    def _show_samples_of_current(self) -> None:
        run = self.selected_run()
        if run is not None:
            self._ensure_loaded(run)
        self.samples.show_run(run)
        self.delete_button.setEnabled(run is not None and run.source != "shipped" and run is not self.live)

    def select_run(self, run: R.Run, *, only: bool = False) -> None:
        """Select (and tick) a run; only=True unticks the others except the shipped ones."""
        self.run_list.blockSignals(True)
        for row in range(self.run_list.count()):
            item = self.run_list.item(row)
            other = item.data(Qt.UserRole)
            if other is run or (only and other.source == "shipped"):
                item.setCheckState(Qt.Checked)
            elif only:
                item.setCheckState(Qt.Unchecked)
            ticked = item.checkState() == Qt.Checked
            if ticked:
                self._ensure_loaded(other)
            self.curves.set_visible(other, ticked)
        self.run_list.blockSignals(False)
        self.run_list.setCurrentItem(self.items[id(run)])

    def delete_selected(self) -> None:
        run = self.selected_run()
        if run is None or run.source == "shipped" or run is self.live:
            return
        self.labruns.delete(run.run_id)
        # The policy it trained goes with it (a few MB per run in the profile folder).
        shutil.rmtree(Path(self.ctx.config.data_path) / "lab" / f"ppo-{run.run_id}", ignore_errors=True)
        self.stored.pop(run.run_id, None)
        self.curves.remove_run(run)
        self.run_list.takeItem(self.run_list.row(self.items.pop(id(run))))
        self.window.show_status(f"Deleted run #{run.run_id} from your profile.")

    # ---- view settings and export ---------------------------------------------------------
    def _smoothing_changed(self, value: int) -> None:
        self.smooth_label.setText(f"{value / 100:.2f}")
        self.curves.set_smoothing(value / 100)

    def export_csv(self, path: str | None = None) -> str | None:
        runs = self.curves.visible_runs()
        if not runs:
            self.window.show_status("Tick at least one run to export.")
            return None
        if path is None:
            # In the home folder (a bare name saved wherever the app was started from).
            path, _ = QFileDialog.getSaveFileName(self, "Export the curves as CSV", str(Path.home() / "ppo-runs.csv"), "CSV (*.csv)")
            if not path:
                return None
        try:
            rows = R.write_csv(Path(path), runs, self.curves.smoothing)
        except OSError as exc:
            self.window.report_error("Export failed", f"Could not write {path}: {exc.strerror or exc}")
            return None
        self.window.show_status(f"Wrote {count(rows, 'row')} of {count(len(runs), 'run')} to {path}")
        return path

    def export_png(self, path: str | None = None) -> str | None:
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, "Export the charts as PNG", str(Path.home() / "ppo-curves.png"), "PNG (*.png)")
            if not path:
                return None
        if not self.curves.save_png(path):
            self.window.report_error("Export failed", f"Could not write {path}.")
            return None
        self.window.show_status(f"Saved the charts to {path}")
        return path

    # ---- training -------------------------------------------------------------------------
    def _show_reward_dir(self) -> None:
        shipped = self.reward_dir == self.models / "reward"
        self.reward_label.setText(f"Reward model: <b>{'shipped' if shipped else self.reward_dir}</b>"
                                  + ("" if shipped else " (handed over from the RLHF tab)"))

    def start(self) -> None:
        if (other := worker.running("training")) is not None:
            self._say_busy(f"{other.label} is still running. Wait for it to finish or cancel it first.")
            return
        sft_dir = self.models / "sft"
        for folder, what in ((sft_dir, "SFT model"), (self.reward_dir, "reward model")):
            if (problem := R.check_model_folder(folder, what)) is not None:
                self.status.setText(problem)
                self.window.show_status(problem)
                return
        settings = self.settings.values()
        name = f"beta {settings['beta']:g}, clip {settings['cliprange']:g}, lr {self.settings.lr.currentText()}"
        config = {**settings, "sft": str(sft_dir), "reward": str(self.reward_dir)}
        run_id = self.labruns.create("ppo", name, config)
        lab_dir = Path(self.ctx.config.data_path) / "lab"
        lab_dir.mkdir(parents=True, exist_ok=True)
        run = R.Run(name, source="profile", status="running", config=config, run_id=run_id)
        self.live, self.stored[run_id] = run, run
        self._series = lab_dir / f"ppo-{run_id}.series.jsonl"
        try:
            self.task = worker.run_in_background(
                R.run_ppo, sft_dir, self.reward_dir, lab_dir / f"ppo-{run_id}", settings, self._series,
                on_progress=self._on_step, on_result=self._on_done, on_error=self._on_failed,
                on_cancelled=self._on_cancelled, on_finished=self._on_finished,
                label="PPO training", exclusive="training")
        except worker.Busy as exc:   # another tab started a run between our check and now
            self.labruns.delete(run_id)
            self.live = None
            self._say_busy(str(exc))
            return
        self._add_run(run, visible=True, top=True)
        self.select_run(run)
        self.window.track_task(self.task, "PPO training")
        self._set_running(True)
        self.status.setText("Loading torch and the models… (the first step follows in a few seconds)")

    def _say_busy(self, message: str) -> None:
        self.status.setText(message)
        self.window.show_status(message)

    def set_paused(self, paused: bool) -> None:
        if self.task is None or self.task.done:
            return
        if paused:
            self.task.pause()
            self.status.setText("Paused: the current step finishes, then training waits for you.")
        else:
            self.task.resume()
            self.status.setText("Resumed.")
        self.pause_button.setText("Resume" if paused else "Pause")

    def cancel(self) -> None:
        if self.task is not None and not self.task.done:
            self.task.cancel()
            self.status.setText("Cancelling after the current step…")

    def _set_running(self, running: bool) -> None:
        self.start_button.setEnabled(not running)
        self.pause_button.setEnabled(running)
        self.cancel_button.setEnabled(running)
        self.settings.setEnabled(not running)
        if not running:
            self.pause_button.blockSignals(True)
            self.pause_button.setChecked(False)
            self.pause_button.setText("Pause")
            self.pause_button.blockSignals(False)

    def _profile_closed(self) -> bool:
        """The profile was closed under a run (a late signal): nothing more can be written to it.
        Every step already sent is stored; the run reopens as 'interrupted' with those steps."""
        if not self.ctx.store.closed:
            return False
        if self.task is not None and not self.task.done:
            self.task.cancel()
        return True

    def _on_step(self, info) -> None:
        run = self.live
        if run is None or not isinstance(info, dict) or info.get("done") or "objective/kl" not in info:
            return
        if self._profile_closed():
            return
        samples = info.get("samples") or []
        run.append(info, samples)
        metrics = {k: v for k, v in info.items() if k != "samples"}
        self.labruns.add_step(run.run_id, run.steps[-1], run.times[-1], metrics, samples)
        self._update_item(run)
        if self.selected_run() is run:
            self.samples.refresh()
        if not self.task.paused:
            self.status.setText(
                f"Step {run.steps[-1]} of {info.get('total', '?')} · {R.to_float(info.get('seconds_per_step')):.2f} s/step · "
                f"RM score {figure(info.get('objective/scores'))} · rater {figure(info.get('rater/score'))} · "
                f"KL {R.to_float(info.get('objective/kl')):.2f}")

    def _finish(self, status: str, summary: dict | None = None, message: str | None = None) -> None:
        run = self.live
        if run is None:
            return
        run.status = status
        run.version += 1
        if not self._profile_closed():
            self.labruns.finish(run.run_id, status, summary, message)
        self._update_item(run)

    def _on_done(self, result) -> None:
        summary = result if isinstance(result, dict) else {}
        self._finish("done", summary)
        self.status.setText(_summary_text(self.live, summary))

    def _on_cancelled(self) -> None:
        self._finish("cancelled")
        self.status.setText(f"Cancelled after {len(self.live)} steps. The run is kept (marked cancelled); "
                            "the shipped models are untouched.")

    def _on_failed(self, message: str, details: str) -> None:
        self._finish("failed", message=message)
        self.status.setText(f"Training stopped: {message}")
        self.window.report_error("PPO training failed", message, details)

    def _on_finished(self) -> None:
        self._set_running(False)
        self.task = None
        self.live = None
        try:
            self._series.unlink(missing_ok=True)   # the profile holds the series; this was a scratch copy
            self._series.with_suffix(".jsonl.tmp").unlink(missing_ok=True)
        except OSError:
            pass

    # ---- links ----------------------------------------------------------------------------
    def open_link(self, params: dict, fragment: str = "") -> None:
        if params.get("view") in ("overopt", "curves"):
            self.views.setCurrentWidget(self.overopt if params["view"] == "overopt" else self.curves)
        preset = params.get("preset")
        if preset in R.PRESETS:
            self.settings.apply_preset(preset)
            shipped = {r.name: r for r in self.curves.runs if r.source == "shipped"}
            target = shipped.get(R.SHIPPED_NAMES["ppo_beta0" if preset == "beta0" else "ppo"])
            if target is not None:
                self.select_run(target, only=True)
            self.status.setText(
                "beta = 0: no KL penalty. In the shipped run (orange), the reward-model score rises while the "
                "rater's dashed line does not, and KL grows. Press Start to watch it happen live."
                if preset == "beta0" else
                "The default beta keeps KL small while the score improves. Press Start to train it live.")
        elif preset is not None:
            self.status.setText(f"Unknown preset {preset!r}; the presets are: {', '.join(R.PRESETS)}.")
        if "reward" in params:
            folder = Path(params["reward"]).expanduser()
            problem = R.check_model_folder(folder, "reward model")
            if problem is None:
                self.reward_dir = folder
                self._show_reward_dir()
                self.status.setText("Your freshly trained reward model is ready: press Start to optimise "
                                    "the SFT model against it.")
            else:
                self.status.setText(problem)
        if "run" in params:
            run = self.stored.get(int(params["run"])) if params["run"].isdigit() else None
            if run is not None:
                self.select_run(run)
            else:
                self.status.setText(f"There is no stored run #{params['run']} in this profile.")


def _describe(run: R.Run) -> str:
    config = ", ".join(f"{k} = {v}" for k, v in run.config.items() if k in R.PPO_DEFAULTS)
    return f"{run.name}\nstatus: {run.status}" + (f"\n{config}" if config else "")


def _summary_text(run: R.Run | None, result: dict) -> str:
    if not result:
        return "Done."
    parts = [f"Done in {result.get('seconds', '?')} s."]
    if "scores_start" in result:
        parts.append(f"RM score {result['scores_start']:+.2f} → {result['scores_end']:+.2f}, "
                     f"rater {result['score_start']:+.2f} → {result['score_end']:+.2f}, KL at the end {result['kl_end']:.2f}.")
    if "refusal_heldout_harmful" in result:
        parts.append(f"Refuses {result['refusal_heldout_harmful']:.0%} of the harmful requests kept out of training.")
    return " ".join(parts)


def create_tab(window) -> QWidget:
    return PPOTab(window)
