"""The grader's numbers on the labelled sentences and the example explanations (run it by hand).

    PYTHONPATH=$PWD .venv/bin/python -m tests.tutor.calibrate          # the numbers
    PYTHONPATH=$PWD .venv/bin/python -m tests.tutor.calibrate --search # a grid over the constants, on train only

Precision of "covered": of the (sentence, point) pairs the grader marks covered, the share the
label says the sentence states correctly. Recall of "misconception": of the sentences labelled
wrong (false claim, negation, swapped roles), the share the grader flags. Both also the other way
round. Then every example explanation's coverage and each key point's score, so a change of
model, rubric or threshold is judged on the whole picture.
"""
from __future__ import annotations

import itertools
import sys

import numpy as np

from studyapp.config import RESOURCES_DIR
from studyapp.tutor import grader
from studyapp.content.rubric import parse_rubric
from tests.tutor.labelled import EXAMPLES, Example


class Memo:
    """An encoder that embeds each text once (the grid search grades the same sentences often)."""

    def __init__(self, encoder):
        self.encoder, self.cache = encoder, {}

    def encode(self, texts):
        missing = [t for t in dict.fromkeys(texts) if t not in self.cache]
        if missing:
            self.cache.update(zip(missing, self.encoder.encode(missing)))
        return np.stack([self.cache[t] for t in texts]) if texts else self.encoder.encode([])


def evaluate(rubric, examples: list[Example], encoder) -> dict:
    tp = fp = fn = 0
    flagged_wrong = wrong = flagged = 0
    mistakes = []
    for ex in examples:
        result = grader.grade(rubric, ex.text, encoder)
        covered = {p.id for p in result.points if p.status == "covered"}
        tp += len(covered & set(ex.covers))
        fp += len(covered - set(ex.covers))
        fn += len(set(ex.covers) - covered)
        is_flagged = bool(result.misconceptions)
        flagged += is_flagged
        wrong += bool(ex.wrong)
        flagged_wrong += is_flagged and bool(ex.wrong)
        if covered != set(ex.covers) or is_flagged != bool(ex.wrong):
            mistakes.append((ex, sorted(covered), [m.id for m in result.misconceptions]))
    return {
        "covered_precision": tp / (tp + fp) if tp + fp else 1.0,
        "covered_recall": tp / (tp + fn) if tp + fn else 1.0,
        "misconception_recall": flagged_wrong / wrong if wrong else 1.0,
        "misconception_precision": flagged_wrong / flagged if flagged else 1.0,
        "n": len(examples), "mistakes": mistakes,
    }


def show(name: str, metrics: dict, verbose: bool = True) -> None:
    print(f"{name:6} n={metrics['n']:3}  covered P={metrics['covered_precision']:.3f} "
          f"R={metrics['covered_recall']:.3f}   misconception P={metrics['misconception_precision']:.3f} "
          f"R={metrics['misconception_recall']:.3f}")
    if verbose:
        for ex, covered, flags in metrics["mistakes"]:
            print(f"   [{ex.kind:8}] {ex.text[:80]:80} got covered={covered} flags={flags}")


SEARCH = {
    "COVERED": [0.62],
    "COVER_MARGIN": [0.0, 0.03],
    "MISCONCEPTION": [0.72, 0.76, 0.80],
    "MISCONCEPTION_MARGIN": [-0.04, -0.07, -0.10],
    "NEGATED": [0.70, 0.76],
    "NEGATION_PENALTY": [0.20],
    "ORDER_WEIGHT": [0.15],
}


def search(rubric, encoder) -> None:
    """Every combination on the train part and the example explanations (never the test part):
    the best by misconception recall + precision + covered recall, at covered precision >= 0.95."""
    from tests.tutor.explanations import GOOD

    train = [e for e in EXAMPLES if e.split == "train"]
    rows = []
    for values in itertools.product(*SEARCH.values()):
        for name, value in zip(SEARCH, values):
            setattr(grader, name, value)
        m = evaluate(rubric, train, encoder)
        good = [grader.grade(rubric, text, encoder) for text in GOOD.values()]
        false_flags = sum(len(r.misconceptions) for r in good)
        good_cov = float(np.mean([r.coverage for r in good]))
        m["good"] = (false_flags, good_cov)
        rows.append((m["covered_precision"] >= 0.95, m["misconception_recall"] + m["covered_recall"]
                     + m["misconception_precision"] + good_cov - 1.0 * false_flags, values, m))
    rows.sort(key=lambda r: (r[0], r[1]), reverse=True)
    for ok, score, values, m in rows[:10]:
        print(dict(zip(SEARCH, values)), f"{score:.3f}", "good explanations: flags, coverage", m["good"])
        show("train", m, verbose=False)


def main() -> None:
    from studyapp.tutor.embedder import load_embedder
    from tests.tutor.explanations import GOOD, OFF_TOPIC, PARTIAL

    rubric = parse_rubric(RESOURCES_DIR / "rubrics" / "base-to-assistant.md")
    encoder = Memo(load_embedder())
    if "--search" in sys.argv:
        search(rubric, encoder)
        return
    for part in ("train", "dev", "test"):
        show(part, evaluate(rubric, [e for e in EXAMPLES if e.split == part], encoder))
    for label, examples in (("GOOD", GOOD), ("PARTIAL", PARTIAL), ("OFF_TOPIC", OFF_TOPIC)):
        for name, text in examples.items():
            result = grader.grade(rubric, text, encoder)
            scores = " ".join(f"{p.score:.2f}{'*' if p.status == 'covered' else '~' if p.status == 'partly' else ' '}"
                              for p in result.points)
            print(f"{label:9} {name:26} cov={result.coverage:.2f} {result.band:18} | {scores}")
            for hit in result.misconceptions:
                print(f"{'':12}misconception {hit.id} {hit.score:.2f}: {hit.sentence[:90]}")


if __name__ == "__main__":
    main()
