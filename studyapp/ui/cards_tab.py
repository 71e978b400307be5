"""The Flashcards tab: study (review), browse and edit cards, statistics, import and export.

On start the shipped decks (resources/decks/*.md plus a content pack's decks/) are brought into
the profile (studyapp.srs.cards.Cards.sync_decks: idempotent, keyed), by the main window on a
worker after its first frame; the tab opened before that ends says so and fills in when it does.
The tab shows three pages behind a segmented switch: Study (cards_review.ReviewPage), Browse
(cards_browse.BrowsePage: a searchable table with add, edit, delete with undo, CSV import and
CSV/.apkg export) and Statistics
(cards_stats.StatsPage, built the first time it is opened so pyqtgraph costs nothing at start).

Links: studyapp://cards?view=study|browse|stats&deck=DECK_ID
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QTimer, Qt
from PySide6.QtWidgets import (
    QButtonGroup, QComboBox, QFileDialog, QHBoxLayout, QLabel, QMessageBox, QPushButton, QStackedWidget,
    QVBoxLayout, QWidget,
)

from studyapp.content.decks import load_decks
from studyapp.srs.cards import Cards
from studyapp.srs.scheduling import Options
from studyapp.ui import storage_errors, worker
from studyapp.ui.cards_browse import BrowsePage
from studyapp.ui.cards_dialogs import CardDialog, OptionsDialog
from studyapp.ui.cards_review import ReviewPage
from studyapp.ui.links import make_link
from studyapp.ui.wrapping import FitToWindow
from studyapp.wording import count

VIEWS = ("study", "browse", "stats")
SEGMENT_STYLE = """
QPushButton[segment="true"] { border: 1px solid palette(mid); padding: 5px 18px; background: palette(button); }
QPushButton[segment="true"]:checked { background: palette(highlight); color: palette(highlighted-text); }
"""


def _own_store(store):
    """A second connection to the profile for a worker thread (WAL: readers and a writer)."""
    from studyapp.store import Store
    return Store(store.path, backup_dir=store.backup_dir, clock=store.clock)


# ---- work that runs on worker threads (no widgets) -------------------------------------------
def _import(store, csv_path: str, known: dict) -> object:
    from studyapp.srs.csvio import import_csv
    own = _own_store(store)
    try:
        return import_csv(Cards(own), Path(csv_path), known)
    finally:
        own.close(backup=False)


def _export(store, out: str, kind: str, deck_id: str | None) -> int:
    own = _own_store(store)
    try:
        if kind == "apkg":
            from studyapp.srs.apkg import export_apkg
            return export_apkg(Cards(own), Path(out), deck_id)
        from studyapp.srs.csvio import export_csv
        return export_csv(Cards(own), Path(out), deck_id)
    finally:
        own.close(backup=False)


class CardsTab(QWidget):
    def __init__(self, window) -> None:
        super().__init__()
        self.window_ = window
        ctx = window.ctx
        self.store = ctx.store
        self.config = ctx.config
        self.lessons = list(ctx.lessons)
        self.lesson_titles = {l.slug: (l.title, {s.id: s.title for s in l.sections}) for l in self.lessons}
        self.known = {l.slug: {s.id for s in l.sections} for l in self.lessons}
        self.cards = Cards(self.store)
        self.deck_id: str | None = None
        self._undo_delete: int | None = None
        # The window brings the shipped decks in on a worker after its first frame; opened before
        # that ends, the tab says so and fills in when it does. Otherwise (or if that sync failed)
        # syncing here is a quick read when the decks are in already.
        adding = getattr(window, "deck_sync", None)
        self.waiting_for_decks = False
        if adding is not None:
            adding.finished.connect(self._decks_added)   # connected before asking: its end is never missed
            self.waiting_for_decks = not adding.done
        self.deck_messages = [] if self.waiting_for_decks else self._sync_decks()
        self.stats_page = None
        self._build()
        if self.waiting_for_decks:
            self.loading = QLabel("Adding the course's flashcards to your profile…", alignment=Qt.AlignCenter)
            self.layout().insertWidget(1, self.loading, 1)
            self.pages.hide()
            self.setEnabled(False)
        else:
            self._fill_decks()
            self.review.start(None, Options.load(self.store))

    def _decks_added(self) -> None:
        if not self.waiting_for_decks or getattr(self.window_, "_closed", False):
            return   # (a window closing cancelled the sync: the next start adds the cards)
        self.waiting_for_decks = False
        self.deck_messages = self._sync_decks()   # a no-op read once the worker has added them
        self._note_deck_problems()
        self.loading.hide()
        self.pages.show()
        self.setEnabled(True)
        self._fill_decks()
        self.review.start(None, Options.load(self.store))

    def _sync_decks(self) -> list[str]:
        decks, errors = load_decks(*self.config.content_folders("decks"), known=self.known)
        try:
            self.cards.sync_decks(decks)
        except Exception as exc:  # noqa: BLE001 - the learner's own cards still work
            errors = [*errors, f"the shipped decks could not be added: {exc}"]
        return [str(e) for e in errors]

    # ---- layout ---------------------------------------------------------------------------
    def _build(self) -> None:
        self.setStyleSheet(SEGMENT_STYLE)
        self.segments = QButtonGroup(self, exclusive=True)
        bar = QHBoxLayout()
        bar.setSpacing(0)
        for index, (name, text, tip) in enumerate((
                ("study", "Study", "Review the cards that are due"),
                ("browse", "Browse", "Find, add, edit and delete cards; import and export"),
                ("stats", "Statistics", "Reviews per day, due forecast, retention"))):
            button = QPushButton(text, checkable=True, toolTip=tip, focusPolicy=Qt.NoFocus)
            button.setProperty("segment", True)
            self.segments.addButton(button, index)
            bar.addWidget(button)
        self.segments.idClicked.connect(lambda i: self.show_view(VIEWS[i]))
        bar.addSpacing(16)
        self.deck_box = QComboBox(minimumWidth=260, focusPolicy=Qt.ClickFocus)
        self.deck_box.activated.connect(self._deck_chosen)
        bar.addWidget(self.deck_box)
        bar.addStretch(1)
        add = QPushButton("Add card…", clicked=lambda: self.add_card(), focusPolicy=Qt.NoFocus)
        options = QPushButton("Options…", clicked=self.show_options, focusPolicy=Qt.NoFocus)
        bar.addWidget(add)
        bar.addSpacing(6)
        bar.addWidget(options)

        self.review = ReviewPage(self.store, self.lesson_titles)
        self.review.reviewed.connect(self._changed)
        self.review.lesson_link.connect(self._open_lesson)
        self.review.edit_card.connect(self.edit_card)
        self.review.delete_card.connect(self.delete_card)
        self.review.failed.connect(lambda m: self.window_.report_error("Flashcards", m))
        self.browse = BrowsePage(self)
        self.pages = QStackedWidget()
        self.pages.addWidget(self.review)
        self.pages.addWidget(self.browse)
        self.stats_holder = QWidget()
        QVBoxLayout(self.stats_holder).setContentsMargins(0, 0, 0, 0)
        self.pages.addWidget(self.stats_holder)

        self.undo_bar = QWidget()
        undo_layout = QHBoxLayout(self.undo_bar)
        undo_layout.setContentsMargins(14, 0, 14, 0)
        self.undo_label = QLabel()
        undo_layout.addWidget(self.undo_label)
        undo_layout.addWidget(QPushButton("Undo delete", clicked=self.undo_delete, focusPolicy=Qt.NoFocus))
        undo_layout.addStretch(1)
        self.undo_bar.hide()
        self._undo_timer = QTimer(self, singleShot=True, interval=15000, timeout=self.undo_bar.hide)

        layout = FitToWindow(self)   # statistics fit 1366x768: the plots share the height there is
        layout.setContentsMargins(8, 8, 8, 4)
        layout.addLayout(bar)
        layout.addWidget(self.pages, 1)
        layout.addWidget(self.undo_bar)
        self._note_deck_problems()
        self.show_view("study")

    def _note_deck_problems(self) -> None:
        if self.deck_messages:
            note = QLabel("Some shipped cards could not be read: " + "; ".join(self.deck_messages[:3]),
                          wordWrap=True, styleSheet="color: #d1495b;")
            self.layout().addWidget(note)

    def _fill_decks(self) -> None:
        self.deck_box.clear()
        decks = self.cards.decks()
        self.review.deck_titles = self.browse.model.deck_titles = {d.id: d.title for d in decks}
        self.deck_box.addItem(f"All decks   ·   {count(sum(d.total for d in decks), 'card')}", None)
        for deck in decks:
            self.deck_box.addItem(f"{deck.title}   ·   {count(deck.total, 'card')}", deck.id)
        index = self.deck_box.findData(self.deck_id)
        self.deck_box.setCurrentIndex(max(0, index))

    # ---- views ----------------------------------------------------------------------------
    def show_view(self, name: str) -> None:
        index = VIEWS.index(name) if name in VIEWS else 0
        self.segments.button(index).setChecked(True)
        self.deck_box.setVisible(name != "stats")   # the statistics cover every deck
        if name == "stats":
            self._ensure_stats()
            self.pages.setCurrentWidget(self.stats_holder)
            self.stats_page.refresh()
        elif name == "browse":
            self.pages.setCurrentWidget(self.browse)
            self.browse.refresh()
            self.browse.search.setFocus()
        else:
            self.pages.setCurrentWidget(self.review)
            self.review.setFocus()

    def current_view(self) -> str:
        return VIEWS[self.pages.currentIndex()]

    def _ensure_stats(self) -> None:
        if self.stats_page is None:
            from studyapp.ui.cards_stats import StatsPage
            self.stats_page = StatsPage(self.store)
            self.stats_holder.layout().addWidget(self.stats_page)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self.current_view() == "study":
            self.review.setFocus()

    def _deck_chosen(self, _index: int) -> None:
        self.deck_id = self.deck_box.currentData()
        self.review.start(self.deck_id)
        if self.current_view() == "browse":
            self.browse.refresh()

    def _changed(self) -> None:
        """A review was saved or undone. Deck sizes do not change and the statistics are
        recomputed when next shown, so nothing runs here: each review stays a few ms."""

    def open_link(self, params: dict, fragment: str = "") -> None:
        deck = params.get("deck")
        if deck is not None and self.deck_box.findData(deck) >= 0:
            self.deck_box.setCurrentIndex(self.deck_box.findData(deck))
            self._deck_chosen(0)
        self.show_view(params.get("view", "study"))

    def _open_lesson(self, slug: str, section: str) -> None:
        self.window_.open_link(make_link("lessons", section, lesson=slug))

    # ---- editing --------------------------------------------------------------------------
    def _deck_choices(self) -> list[tuple[str, str]]:
        return [(d.id, d.title) for d in self.cards.decks()]

    def add_card(self, lesson_id: str | None = None) -> None:
        dialog = CardDialog(self, self.lessons, self._deck_choices(), deck_id=self.deck_id)

        def save() -> None:
            values = dialog.values()
            try:   # a failed write is reported and kept for a retry (ui/storage_errors.py)
                storage_errors.save("new card", self.cards.add, values["front"], values["back"],
                                    lesson_id=values["lesson_id"], section_id=values["section_id"],
                                    deck_id=values["deck_id"], key=("add", id(dialog)))
            except ValueError as exc:
                QMessageBox.warning(self, "Add card", str(exc))
                return
            self.window_.show_status("Card added. It joins today's new cards.")
            self._after_edit()
        dialog.accepted.connect(save)
        dialog.setAttribute(Qt.WA_DeleteOnClose)
        dialog.open()

    def edit_card(self, card_id: int) -> None:
        card = self.cards.get(card_id)
        if card is None:
            return
        dialog = CardDialog(self, self.lessons, self._deck_choices(), card=card)

        def save() -> None:
            values = dialog.values()
            try:
                storage_errors.save("card", self.cards.update, card_id, **values,
                                    key=("update", card_id))
            except (ValueError, KeyError) as exc:
                QMessageBox.warning(self, "Edit card", str(exc))
                return
            self._after_edit()
        dialog.accepted.connect(save)
        dialog.setAttribute(Qt.WA_DeleteOnClose)
        dialog.open()

    def delete_card(self, card_id: int) -> None:
        card = self.cards.get(card_id)
        if not storage_errors.save("card deletion", self.cards.delete, card_id, key=("delete", card_id)):
            return
        self._undo_delete = card_id
        front = " ".join((card.front if card else "").split())
        self.undo_label.setText(f"Deleted “{front[:70]}{'…' if len(front) > 70 else ''}”.")
        self.undo_bar.show()
        self._undo_timer.start()
        self._after_edit()

    def undo_delete(self) -> None:
        if self._undo_delete is not None:
            storage_errors.save("card", self.cards.undelete, self._undo_delete,
                                key=("delete", self._undo_delete))
            self._undo_delete = None
            self.undo_bar.hide()
            self._after_edit()

    def _after_edit(self) -> None:
        self.review.reload_card()
        self._fill_decks()
        if self.current_view() == "browse":
            self.browse.refresh()

    # ---- options, import, export ----------------------------------------------------------
    def show_options(self) -> None:
        dialog = OptionsDialog(self, self.store, self.review.reviewer.options)
        dialog.accepted.connect(lambda: self.review.set_options(Options.load(self.store)))
        dialog.setAttribute(Qt.WA_DeleteOnClose)
        dialog.open()

    def import_csv(self, path: str | None = None) -> None:
        if not path:
            path, _ = QFileDialog.getOpenFileName(self, "Import cards from CSV", str(Path.home()),
                                                  "CSV files (*.csv);;All files (*)")
        if not path:
            return
        worker.run_in_background(_import, self.store, path, self.known, label="Importing cards",
                                 on_result=self._imported)

    def _imported(self, report) -> None:
        if report.ok:
            self.window_.show_status(report.text())
            self._after_edit()
        else:
            box = QMessageBox(QMessageBox.Warning, "Import CSV", report.text(limit=12), QMessageBox.Ok, self)
            box.setDetailedText(report.text(limit=100_000))
            box.setAttribute(Qt.WA_DeleteOnClose)
            box.open()

    def export(self, kind: str, path: str | None = None) -> None:
        if not path:
            suffix = "Anki package (*.apkg)" if kind == "apkg" else "CSV files (*.csv)"
            path, _ = QFileDialog.getSaveFileName(self, "Export cards", str(Path.home() / f"studyapp-cards.{kind}"), suffix)
        if not path:
            return
        worker.run_in_background(
            _export, self.store, path, kind, self.deck_id, label="Exporting cards",
            on_result=lambda n: self.window_.show_status(f"Exported {count(n, 'card')} to {path}"))


def create_tab(window) -> CardsTab:
    return CardsTab(window)
