"""Teach-it-back grading (pure Python, no Qt).

    claims.py    a rubric's terms and claims, found in a sentence with their polarity (word
                 order for roles, "not" and opposite terms for the way round)
    grader.py    split an explanation into sentences; credit the points whose claims a sentence
                 states, flag the sentences that state a misconception or a point turned round

The rubrics themselves are parsed by studyapp.content.rubric. Nothing here imports torch at
import time.
"""
