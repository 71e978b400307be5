"""What the compare tab runs on its workers: the engine's model, an answer streamed in batches."""
import threading

import pytest

from studyapp.lab import engine
from studyapp.lab.common import LabError
from studyapp.ui.compare_jobs import load_model_job, stream_job

SETTINGS = dict(chat=True, max_new_tokens=30, temperature=1.0, top_k=0, top_p=1.0, seed=0, greedy=True)


def test_the_answer_streams_in_several_batches_and_matches_the_engine(tiny_models, monkeypatch):
    from studyapp.ui import compare_jobs

    monkeypatch.setattr(compare_jobs, "TURN_S", 0.0)         # a turn of one token: one batch each
    loaded = load_model_job(str(tiny_models / "sft"))
    assert loaded is engine.load(tiny_models / "sft")        # the engine's one cache, not a second
    events = list(stream_job(loaded, "What is the capital of France?", **SETTINGS, batch_s=0.0))
    first, batches = events[0], events[1:]
    assert "What is the capital of France?" in first["prompt"] and first["n_prompt"] > 0
    ids = [t["id"] for b in batches for t in b["tokens"]]
    assert len(batches) == len(ids) > 1                       # tokens arrive while the model writes
    prompt_ids = engine.encode(loaded.tokenizer, "What is the capital of France?", context=loaded.context)
    assert len(prompt_ids) == first["n_prompt"]
    assert ids == [e["id"] for e in engine.stream_ids(loaded.model, loaded.tokenizer, prompt_ids,
                                                      max_new_tokens=30, greedy=True)]
    assert all(t["piece"] == loaded.tokenizer.decode([t["id"]]) for b in batches for t in b["tokens"])
    # Dated on the worker, so the tab's tokens/s does not count the time the GUI thread took to
    # pick the events up: the start first, then each batch in order.
    times = [e["at"] for e in events]
    assert times == sorted(times) and times[-1] > times[0]


def test_a_cancel_ends_the_stream_before_the_next_token(tiny_models):
    loaded = load_model_job(str(tiny_models / "sft"))
    cancel = threading.Event()
    events = stream_job(loaded, "Hello!", **SETTINGS, batch_s=0.0, cancel=cancel)
    next(events)                                              # the prompt
    cancel.set()
    assert list(events) == []


def test_a_prompt_that_fills_the_context_is_refused_before_any_token(tiny_models):
    loaded = load_model_job(str(tiny_models / "sft"))
    with pytest.raises(LabError, match="Shorten the prompt"):
        next(stream_job(loaded, "What is the capital of France? " * 20, **SETTINGS))
