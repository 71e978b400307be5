"""Tutor test fixtures: the shipped rubric, loaded once per session, and every calibration
explanation graded once."""
from __future__ import annotations

import pytest

from studyapp.config import RESOURCES_DIR
from studyapp.content.rubric import parse_rubric

RUBRIC_PATH = RESOURCES_DIR / "rubrics" / "base-to-assistant.md"


@pytest.fixture(scope="session")
def rubric():
    return parse_rubric(RUBRIC_PATH)


@pytest.fixture(scope="session")
def graded(rubric):
    """{class: {name: GradeResult}} for GOOD, PARTIAL and OFF_TOPIC."""
    from studyapp.tutor.grader import grade
    from tests.tutor.explanations import GOOD, OFF_TOPIC, PARTIAL

    return {label: {name: grade(rubric, text) for name, text in examples.items()}
            for label, examples in (("good", GOOD), ("partial", PARTIAL), ("off", OFF_TOPIC))}
