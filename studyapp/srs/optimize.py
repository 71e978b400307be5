"""Fitting the FSRS parameters to the learner's own review log (the optional optimizer extra).

fsrs.Optimizer needs `pip install "fsrs[optimizer]"` (torch, pandas, tqdm) and enough reviews
to learn from; availability() says which is missing in words a learner can act on. The fit is
slow (seconds to minutes): the UI runs optimize() on a worker thread, and it reads through its
own connection. The result is saved into Options.parameters, which every later review uses.
No Qt here.
"""
from __future__ import annotations

import importlib.util
from datetime import datetime
from pathlib import Path

from studyapp.store.backup import connect_readonly
from studyapp.store.timeutil import from_text, to_text

from .scheduling import Options

MIN_REVIEWS = 400        # below this the fit mostly learns noise (FSRS's own guidance is similar)


def extra_installed() -> bool:
    # find_spec is cheap; importing fsrs.optimizer would load torch on the GUI thread.
    return all(importlib.util.find_spec(name) is not None for name in ("torch", "pandas", "tqdm"))


def review_count(store, cap: int | None = None) -> int:
    """Reviews in the log; with `cap`, counting stops there (a million rows take ~60 ms)."""
    if cap is None:
        return store.db.execute("SELECT count(*) FROM review_log").fetchone()[0]
    return store.db.execute("SELECT count(*) FROM (SELECT 1 FROM review_log LIMIT ?)", [cap]).fetchone()[0]


def availability(store) -> tuple[bool, str]:
    """(can run, the reason shown next to the button)."""
    count = review_count(store, cap=MIN_REVIEWS)
    if not extra_installed():
        return False, ('The optimizer is not installed. Install it with: pip install "fsrs[optimizer]" '
                       f"(you have {count} reviews; it needs {MIN_REVIEWS}).")
    if count < MIN_REVIEWS:
        return False, f"The optimizer needs {MIN_REVIEWS} reviews to learn from; you have {count}."
    return True, f"Ready: at least {MIN_REVIEWS} reviews to learn from."


def load_review_logs(path: Path) -> list:
    from fsrs import Rating, ReviewLog
    conn = connect_readonly(path)
    try:
        rows = conn.execute("SELECT card_id, rating, reviewed_at, duration_ms FROM review_log "
                            "ORDER BY card_id, reviewed_at").fetchall()
    finally:
        conn.close()
    return [ReviewLog(card_id=c, rating=Rating(r), review_datetime=from_text(t), review_duration=d)
            for c, r, t, d in rows]


def optimize(path: Path) -> list[float]:
    """Fit parameters to the profile's review log (worker thread); returns them."""
    from fsrs.optimizer import Optimizer
    return list(Optimizer(load_review_logs(path)).compute_optimal_parameters())


def save_parameters(store, options: Options, parameters: list[float], now: datetime) -> Options:
    updated = options.with_(parameters=tuple(parameters), optimized_at=to_text(now),
                            optimized_reviews=review_count(store))
    updated.save(store)
    return updated
