"""What the compare tab runs on worker threads: loading a model folder (cached) and streaming an answer.

These functions never touch a widget; they are handed to worker.run_in_background. torch and
transformers are imported inside them, so importing this module (and the app) stays light.
"""
from __future__ import annotations

import threading
from collections import OrderedDict, deque
from pathlib import Path
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

# One model object per folder version, shared by every column that shows it: loading a folder a
# second time (back to the course model, the same folder in two columns) is then instant.
_cache: OrderedDict[tuple, dict] = OrderedDict()
CACHE_SIZE = 6    # the three course models and three of the learner's own; a real model can be GBs
_lock = threading.Lock()


def _version(folder: Path) -> tuple:
    """A key that changes when the folder's checkpoint is rewritten (retraining a stage)."""
    stamps = []
    for name in ("config.json", "model.safetensors", "model.safetensors.index.json"):
        p = folder / name
        if p.exists():
            stat = p.stat()
            stamps.append((name, stat.st_mtime_ns, stat.st_size))
    return (str(folder.resolve()), tuple(stamps))


def load_model_job(folder: str, threads: int = 0) -> dict:
    """Validate and load a causal-LM folder; raises LabError with a message for the learner."""
    from studyapp.lab.generate import context_length, load_model
    from studyapp.lab.modeling import count_params, validate_folder

    path = Path(folder)
    validate_folder(path)   # fast and clear, before torch is even imported on a first load
    from studyapp.lab.common import limit_threads

    limit_threads(threads or None)   # the one torch_threads setting (lab/common.py says why 1)
    key = _version(path)
    # Held for the whole load: three columns starting together would otherwise import torch and
    # transformers three times over in parallel and load a shared folder twice.
    with _lock:
        if key not in _cache:
            model, tokenizer = load_model(path)
            _cache[key] = {"model": model, "tokenizer": tokenizer, "context": context_length(model),
                           "params": count_params(model), "folder": str(path)}
            while len(_cache) > CACHE_SIZE:
                _cache.popitem(last=False)   # a column still showing it keeps its own reference
        _cache.move_to_end(key)
        return _cache[key]


def stream_job(loaded: dict, prompt: str, *, chat: bool, max_new_tokens: int, temperature: float,
               top_k: int, top_p: float, seed: int | None, greedy: bool,
               batch_s: float = 0.05, cancel: threading.Event | None = None) -> Iterator[dict]:
    """Yield {"prompt": text as the model reads it, "n_prompt": ids} first, then {"tokens": [...]}.

    Tokens are yielded in batches, at most one batch every `batch_s` seconds (the first token at
    once): every yield is a signal that wakes the GUI thread, which then takes Python's GIL from
    the generating threads, so batching bounds that work by time, however fast a model writes (a
    learner's own model may be far faster or slower than the course's). Each token is the lab's stream() event plus "piece", the token decoded on its
    own (what the probability bars call it). A prompt that leaves no room in the context raises
    LabError. The columns take turns, a few tokens each (see Turns); `cancel` (the worker's event)
    ends the loop before the next token, so a restarted run does not wait for the old one's batch.
    """
    import time

    from studyapp.lab.common import LabError
    from studyapp.lab.generate import stream
    from studyapp.lab.prompts import context_problem
    from studyapp.lab.tokenizer import encode_prompt

    model, tokenizer = loaded["model"], loaded["tokenizer"]
    ids = encode_prompt(tokenizer, prompt, chat)
    problem = context_problem(len(ids), loaded["context"])
    if problem:
        raise LabError(problem)
    yield {"prompt": tokenizer.decode(ids, skip_special_tokens=False), "n_prompt": len(ids)}
    batch: list[dict] = []
    last = 0.0
    tokens = stream(model, tokenizer, prompt, max_new_tokens=max_new_tokens, temperature=temperature,
                    top_k=top_k, top_p=top_p, seed=seed, greedy=greedy, chat=chat, return_dist=True)
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
            yield {"tokens": batch}
            batch, last = [], now
