"""What the compare tab runs on worker threads: a model from the lab's engine, an answer streamed in batches.

These functions never touch a widget; they are handed to worker.run_in_background. The engine
(studyapp/lab/engine.py) loads, caches, encodes and generates; what is here is the compare tab's
own pacing: columns taking turns, tokens batched by time. torch loads inside the engine's
functions, so importing this module (and the app) stays light.
"""
from __future__ import annotations

import threading
from collections import deque
from typing import Iterator


class Turns:
    """A fair (first come, first served) semaphore: the columns' generators take turns at generating.

    Every runnable generating thread is one more rival for Python's GIL when the GUI thread needs
    it. On the 2-core test machine under load, three columns at once stalled the event loop for
    90-126 ms at worst, one at a time for 20-35 ms but at ~0.75x the tokens/s, and two at once kept
    most of the speed (torch runs outside the GIL, so two threads overlap on two cores) with stalls
    near those of one. A plain semaphore would let the thread that just let go take its turn
    straight back and starve the others, hence the queue and the direct hand-over.
    """

    def __init__(self, at_once: int = 1):
        self.at_once = at_once
        self._guard = threading.Lock()
        self._busy = 0
        self._queue: deque[threading.Lock] = deque()

    def __enter__(self) -> None:
        with self._guard:
            if self._busy < self.at_once:
                self._busy += 1
                return
            mine = threading.Lock()
            mine.acquire()
            self._queue.append(mine)
        mine.acquire()        # blocks (without the GIL) until a holder hands its turn over

    def __exit__(self, *exc) -> None:
        with self._guard:
            if self._queue:
                self._queue.popleft().release()   # the turn passes on; the count stays
            else:
                self._busy -= 1


turns = Turns(at_once=2)
# How long a column keeps its turn: a handover costs a thread switch, which on a busy machine can
# take a while; 20 ms is a few tokens of the course's models and still invisible on screen.
TURN_S = 0.02

def load_model_job(folder: str, threads: int = 0):
    """The folder's model from the lab engine's one cache (engine.Loaded); raises LabError with a
    message for the learner. threads: the torch_threads setting (0: the default)."""
    from studyapp.lab import engine

    return engine.load(folder, threads=threads or None)


def stream_job(loaded, prompt: str, *, chat: bool, max_new_tokens: int, temperature: float,
               top_k: int, top_p: float, seed: int | None, greedy: bool,
               batch_s: float = 0.05, cancel: threading.Event | None = None) -> Iterator[dict]:
    """Yield {"prompt": text as the model reads it, "n_prompt": ids} first, then {"tokens": [...]}.

    Tokens are yielded in batches, at most one batch every `batch_s` seconds (the first token at
    once): every yield is a signal that wakes the GUI thread, which then takes Python's GIL from
    the generating threads, so batching bounds that work by time, however fast a model writes (a
    learner's own model may be far faster or slower than the course's). Each token is the engine's
    stream event plus "piece", the token decoded on its own (what the probability bars call it),
    and the prompt is encoded and checked once (engine.encode). A prompt that leaves no room in the context raises
    LabError. The columns take turns, a few tokens each (see Turns); `cancel` (the worker's event)
    ends the loop before the next token, so a restarted run does not wait for the old one's batch.
    """
    import time

    from studyapp.lab import engine

    model, tokenizer = loaded.model, loaded.tokenizer
    ids = engine.encode(tokenizer, prompt, chat=chat, context=loaded.context)   # the one check
    # "at" (time.perf_counter, the same clock on every thread) dates the start and each batch here,
    # on the worker: the GUI thread may take the events up late on a busy machine.
    yield {"prompt": tokenizer.decode(ids, skip_special_tokens=False), "n_prompt": len(ids),
           "at": time.perf_counter()}
    batch: list[dict] = []
    last = 0.0
    tokens = engine.stream_ids(model, tokenizer, ids, max_new_tokens=max_new_tokens, temperature=temperature,
                               top_k=top_k, top_p=top_p, seed=seed, greedy=greedy, return_dist=True)
    ended = False
    while not ended and (cancel is None or not cancel.is_set()):
        with turns:       # a few tokens at a time, at most two columns at once (see Turns)
            until = time.perf_counter() + TURN_S
            while True:
                event = next(tokens, None)
                if event is None:
                    ended = True
                    break
                event["piece"] = tokenizer.decode([event["id"]], skip_special_tokens=False)
                batch.append(event)
                if time.perf_counter() >= until or (cancel is not None and cancel.is_set()):
                    break
        now = time.perf_counter()
        if batch and (ended or now - last >= batch_s):
            yield {"tokens": batch, "at": now}
            batch, last = [], now
