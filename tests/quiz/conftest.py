"""Fixtures of the quiz tests: a small bank written on the fly, and an open profile."""
from pathlib import Path

import pytest

from studyapp.store import open_profile

SMALL_BANK = """\
---
lesson: base-models
title: A small quiz
---
# Quiz: a small quiz

### 1. single · check 1
What does pretraining optimise?

- [ ] Helpfulness. -- Feedback: Nothing measures helpfulness in pretraining.
- [x] Next-token prediction. -- Feedback: Right, that is the only objective.
- [ ] Human ratings. -- Feedback: That is RLHF.

**Explanation:** Pretraining predicts the next token, nothing else.
**Section:** what-pretraining-actually-trains

### 2. multiple
Which documents list questions one after another?

- [x] Worksheets. -- Feedback: Yes, question after question.
- [x] Quiz sheets. -- Feedback: Yes.
- [ ] Encyclopedia articles. -- Feedback: They state facts in sentences.

**Explanation:** Lists of questions teach question-after-question.

### 3. truefalse · check 1
A base model understands chat tokens before fine-tuning.

- [ ] True -- Feedback: It never saw them in pretraining.
- [x] False -- Feedback: Correct, SFT gives them meaning.

**Explanation:** The chat markers only mean something after SFT.
**Section:** from-continuation-to-conversation

### 4. short
What word describes text the base model continues?

**Answer:** prefix
**Accept:** a text prefix; prefixes
**Feedback:** "Instruction" is how you mean it, not how the model reads it.
**Explanation:** A base model treats a request as a prefix.
**Section:** instruction-or-prefix-the-model-cannot-tell
"""

SECTIONS = {"base-models": {"what-pretraining-actually-trains", "from-continuation-to-conversation",
                            "instruction-or-prefix-the-model-cannot-tell"}}


@pytest.fixture
def bank_dir(tmp_path) -> Path:
    folder = tmp_path / "quizzes"
    folder.mkdir()
    (folder / "small.md").write_text(SMALL_BANK, encoding="utf-8")
    return folder


@pytest.fixture
def store(tmp_path):
    opened = open_profile(tmp_path / "profile", backup_on_start=False)
    yield opened.store
    opened.store.close(backup=False)
