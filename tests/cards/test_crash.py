"""SIGKILL in the middle of a review session loses no review the learner saw done.

The child process is the app's review screen (offscreen Qt): it presses Space and 3 over and
over and prints each review-log id once the screen has moved on to the next card. The parent
kills it with SIGKILL at an arbitrary moment, then checks that every printed review is in the
profile and that the file passes integrity_check.
"""
from __future__ import annotations

import signal
import textwrap

import pytest

from studyapp.store import open_profile
from tests.store.helpers import integrity
from tests.support import kill_midway

CHILD = textwrap.dedent("""
    import os, sys
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from pathlib import Path
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication
    from studyapp.srs.cards import Cards
    from studyapp.srs.scheduling import Options
    from studyapp.store import open_profile
    from studyapp.ui.cards_review import ReviewPage

    app = QApplication([])
    store = open_profile(Path(sys.argv[1])).store
    cards = Cards(store)
    if cards.count() == 0:
        cards.add_many([{"front": f"Q{i}", "back": f"A{i}"} for i in range(500)])
    Options(new_per_day=9999, learning_steps=()).save(store)
    page = ReviewPage(store, {})
    page.start(None, Options.load(store))
    page.show()
    while page.card is not None:
        QTest.keyClick(page, Qt.Key_Space)
        QTest.keyClick(page, Qt.Key_3)
        print(page.reviewer._undo[-1], flush=True)   # the review the learner just saw go through
""")



@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
def test_sigkill_mid_review_session_loses_no_review_shown_as_done(tmp_path):
    data_dir = tmp_path / "profile"
    reported: list[int] = []
    for kill_after in (40, 5, 90):
        reported += kill_midway(CHILD, [str(data_dir)], kill_after)

        opened = open_profile(data_dir)
        assert opened.messages == [] and opened.set_aside == []
        db = opened.store.db
        stored = {row[0] for row in db.execute("SELECT id FROM review_log")}
        # Each logged review also moved its card: log rows and card rows agree.
        reviewed_cards = db.execute("SELECT count(*) FROM card WHERE reps > 0").fetchone()[0]
        opened.store.close(backup=False)
        missing = set(reported) - stored
        assert not missing, f"shown as done but lost after SIGKILL: {sorted(missing)[:5]}"
        assert reviewed_cards == len(stored)
        assert integrity(data_dir / "profile.sqlite3") == ["ok"]
    assert len(reported) >= 135
