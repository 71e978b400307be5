"""The grader's numbers on the labelled set and the example explanations (run it by hand).

    PYTHONPATH=$PWD .venv/bin/python -m tests.tutor.calibrate --mistakes  # calibration part, with
                                                                          # every mistake
    PYTHONPATH=$PWD .venv/bin/python -m tests.tutor.calibrate --heldout   # and the held-out numbers

Covered: over (example, key point) pairs. Precision = of the points the grader marks covered,
the share the label says the example states correctly; recall = of the labelled points, the
share marked covered.
Misconception: recall = of the (example, point) pairs labelled wrong, the share where the grader
raised a flag that names that point (a flag on another point does not count); precision = of the
flags raised, the share that name a point the example gets wrong.

The held-out part (tests/tutor/heldout2.py) is printed as numbers only, never its mistakes: it
was not used to build the rules and must not be (see its header).
"""
from __future__ import annotations

import sys

from studyapp.config import RESOURCES_DIR
from studyapp.content.rubric import parse_rubric
from studyapp.tutor import grader
from tests.tutor.heldout import HELDOUT
from tests.tutor.heldout2 import HELDOUT2
from tests.tutor.labelled import EXAMPLES, Example, P


# The labelled sentences the rules were built on, and the first held-out part, spent (its header).
CALIBRATION = EXAMPLES + HELDOUT


def evaluate(rubric, examples: list[Example]) -> dict:
    tp = fp = fn = 0
    caught = wrong_pairs = good_flags = flags = 0
    mistakes = []
    for ex in examples:
        result = grader.grade(rubric, ex.text)
        covered = {p.id for p in result.points if p.status == "covered"}
        tp += len(covered & set(ex.covers))
        fp += len(covered - set(ex.covers))
        fn += len(set(ex.covers) - covered)
        named = {point for hit in result.misconceptions for point in hit.contradicts}
        wrong_pairs += len(ex.wrong)
        caught += len(set(ex.wrong) & named)
        flags += len(result.misconceptions)
        good_flags += sum(bool(set(hit.contradicts) & set(ex.wrong)) for hit in result.misconceptions)
        if covered != set(ex.covers) or not set(ex.wrong) <= named or \
                any(not set(h.contradicts) & set(ex.wrong) for h in result.misconceptions):
            mistakes.append((ex, sorted(covered), [(h.id, h.evidence) for h in result.misconceptions]))
    return {
        "covered_precision": tp / (tp + fp) if tp + fp else 1.0,
        "covered_recall": tp / (tp + fn) if tp + fn else 1.0,
        "misconception_recall": caught / wrong_pairs if wrong_pairs else 1.0,
        "misconception_precision": good_flags / flags if flags else 1.0,
        "n": len(examples), "counts": (tp, fp, fn, caught, wrong_pairs, good_flags, flags),
        "mistakes": mistakes,
    }


def show(name: str, metrics: dict, mistakes: bool = False) -> None:
    tp, fp, fn, caught, wrong_pairs, good_flags, flags = metrics["counts"]
    print(f"{name:12} n={metrics['n']:3}  covered P={metrics['covered_precision']:.3f} ({tp}/{tp + fp}) "
          f"R={metrics['covered_recall']:.3f} ({tp}/{tp + fn})   misconception "
          f"P={metrics['misconception_precision']:.3f} ({good_flags}/{flags}) "
          f"R={metrics['misconception_recall']:.3f} ({caught}/{wrong_pairs})")
    if mistakes:
        short = {v: k for k, v in P.items()}
        for ex, covered, flags_ in metrics["mistakes"]:
            print(f"   [{ex.kind:8}] {ex.text[:90]:90} covers={[short[c] for c in ex.covers]} "
                  f"wrong={[short[w] for w in ex.wrong]}\n{'':14}got covered={[short.get(c, c) for c in covered]} "
                  f"flags={flags_}")


def main() -> None:
    from tests.tutor.explanations import GOOD, MISCONCEPTIONS, OFF_TOPIC, PARTIAL

    rubric = parse_rubric(RESOURCES_DIR / "rubrics" / "base-to-assistant.md")
    show("calibration", evaluate(rubric, CALIBRATION), mistakes="--mistakes" in sys.argv)
    if "--heldout" in sys.argv:     # only once the rules are frozen (see heldout2.py)
        show("held-out", evaluate(rubric, HELDOUT2))
    for label, examples in (("GOOD", GOOD), ("PARTIAL", PARTIAL), ("OFF_TOPIC", OFF_TOPIC),
                            ("MISCONCEPT", MISCONCEPTIONS)):
        for name, text in examples.items():
            result = grader.grade(rubric, text)
            marks = "".join("*" if p.status == "covered" else "~" if p.status == "partly" else "."
                            for p in result.points)
            print(f"{label:10} {name:40} cov={result.coverage:.2f} {marks} {result.band}")
            for hit in result.misconceptions:
                print(f"{'':12}flag {hit.id}: {hit.evidence!r} in {hit.sentence[:80]!r}")


if __name__ == "__main__":
    main()
