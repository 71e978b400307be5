"""`studyapp self-test`: prove an installation works, on this machine, with no network.

Starts the GUI offscreen on a throw-away profile, opens every tab, generates with each shipped
model, grades a teach-it-back answer, writes and reads the profile, and exits 0 only if every
check passed. It runs the same way from a checkout and from the frozen build, so a classroom
administrator can run it after installing.
"""
from __future__ import annotations

import os
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Callable

from studyapp import config as cfg


class Checks:
    def __init__(self) -> None:
        self.failed = 0

    def run(self, name: str, fn: Callable[[], str | None]) -> None:
        start = time.perf_counter()
        try:
            detail = fn() or ""
        except Exception as exc:  # noqa: BLE001 - every failure is reported, then we go on
            self.failed += 1
            print(f"FAIL  {name}: {type(exc).__name__}: {exc}", flush=True)
            traceback.print_exc(limit=3)
            return
        print(f"ok    {name} ({time.perf_counter() - start:.1f} s) {detail}", flush=True)


SAMPLE_ANSWER = ("A base model was only trained to predict the next token of web text, so it "
                 "continues a question with more questions. Supervised fine-tuning trains it on "
                 "instruction and response pairs. RLHF then collects human rankings, trains a "
                 "reward model on them and optimises the model with PPO, with a KL penalty that "
                 "keeps it close to the SFT model.")


def grade_sample_answer() -> float:
    """Grade SAMPLE_ANSWER against the built-in rubric; fails if the tutor finds nothing in it."""
    from studyapp.tutor.grader import grade
    from studyapp.content.rubric import load_rubrics

    rubrics, errors = load_rubrics(cfg.RESOURCES_DIR / "rubrics")
    if errors or not rubrics:
        raise RuntimeError(f"the built-in rubric did not load: {errors}")
    result = grade(rubrics[0], SAMPLE_ANSWER)
    if result.coverage <= 0.2:
        raise RuntimeError(f"a good answer covered only {result.coverage:.0%} of the rubric")
    return result.coverage


def main(argv: list[str] | None = None) -> int:
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    checks = Checks()
    with tempfile.TemporaryDirectory(prefix="studyapp-selftest-") as tmp:
        config = cfg.load_config({"data_dir": tmp})
        state: dict = {}

        def start() -> str:
            from studyapp.app import _make_app, build_context, create_window
            app = _make_app(sys.argv[:1])
            state["app"] = app
            state["ctx"] = build_context(config)
            state["window"] = create_window(state["ctx"])
            state["window"].show()
            app.processEvents()
            return f"{len(state['ctx'].lessons)} lessons"

        def tabs() -> str:
            window, app = state["window"], state["app"]
            for spec in window.specs:
                window.show_tab(spec.name)
                app.processEvents()
                if window.current_tab_name() != spec.name:
                    raise RuntimeError(f"tab {spec.name} did not open")
            return ", ".join(s.name for s in window.specs)

        def profile() -> str:
            ctx = state["ctx"]
            ctx.progress.mark_section_read("self-test", "section")
            ctx.store.close(backup=False)
            from studyapp.store import open_profile
            reopened = open_profile(config.data_path, backup_on_start=False).store
            ctx.store = reopened
            if "section" not in ctx.progress.sections_read("self-test"):
                raise RuntimeError("a write did not survive closing and reopening the profile")
            return str(config.data_path)

        def generate() -> str:
            from studyapp.lab.generate import MODEL_NAMES, generate_text, load_model
            replies = []
            for name in MODEL_NAMES:
                model, tok = load_model(config.models_path / name)
                reply = generate_text(model, tok, "What is the capital of France?", max_new_tokens=12, greedy=True)
                if not reply.strip():
                    raise RuntimeError(f"the {name} model generated nothing")
                replies.append(f"{name}: {reply.strip()[:40]!r}")
            return "; ".join(replies)

        def teach() -> str:
            return f"coverage {grade_sample_answer():.0%}"

        checks.run("start the window and open the profile", start)
        if "window" in state:
            checks.run("open every tab", tabs)
            checks.run("write and read the profile", profile)
        checks.run("generate with each shipped model", generate)
        checks.run("grade a teach-it-back answer", teach)
        if "window" in state:
            from studyapp.ui import worker
            worker.cancel_all()
            state["window"].close()
            state["ctx"].store.close(backup=False)
    print("self-test passed" if not checks.failed else f"self-test FAILED: {checks.failed} check(s)")
    return 0 if not checks.failed else 1
