"""Teach-it-back grading with a local sentence-embedding model (pure Python, no Qt).

    rubric.py    rubrics as hand-written markdown files (key points, reference sentences)
    embedder.py  all-MiniLM-L6-v2 from local files through plain transformers (torch loads lazily)
    grader.py    split an explanation into sentences and match them with the key points

Nothing here imports torch at import time; only load_embedder() does, on a worker thread.
"""
