"""Print the grader's numbers on the calibration explanations (not a test; run it by hand).

    .venv/bin/python -m tests.tutor.calibrate

For each example: coverage, band, and every key point's best similarity, so that a change of
model, rubric or threshold can be judged on the whole picture, not just on pass/fail.
"""
from __future__ import annotations

import time

import numpy as np

from studyapp.config import RESOURCES_DIR
from studyapp.tutor import grader
from studyapp.tutor.embedder import load_embedder
from studyapp.tutor.rubric import parse_rubric
from tests.tutor.explanations import GOOD, OFF_TOPIC, PARTIAL


def main() -> None:
    rubric = parse_rubric(RESOURCES_DIR / "rubrics" / "base-to-assistant.md")
    started = time.perf_counter()
    embedder = load_embedder()
    print(f"model load {time.perf_counter() - started:.2f} s")
    for label, examples in (("GOOD", GOOD), ("PARTIAL", PARTIAL), ("OFF_TOPIC", OFF_TOPIC)):
        coverages = []
        for name, text in examples.items():
            started = time.perf_counter()
            result = grader.grade(rubric, text, embedder)
            took = time.perf_counter() - started
            coverages.append(result.coverage)
            scores = " ".join(f"{p.score:.2f}{'*' if p.status == 'covered' else '~' if p.status == 'partly' else ' '}"
                              for p in result.points)
            print(f"{label:9} {name:26} cov={result.coverage:.2f} {result.band:18} {took*1000:5.0f} ms | {scores}")
            for hit in result.misconceptions:
                print(f"{'':12}misconception {hit.id} {hit.score:.2f}: {hit.sentence[:90]}")
        print(f"{label:9} mean coverage {np.mean(coverages):.2f} (min {min(coverages):.2f}, max {max(coverages):.2f})")


if __name__ == "__main__":
    main()
