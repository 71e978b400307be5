"""Thread-safe access to transformers.

transformers resolves its public names lazily, and two threads that touch it for the first time
at once can see a half-built module ("module 'transformers' has no attribute 'AutoTokenizer'").
The app loads several models on worker threads at start-up, so every use goes through here: the
first call imports transformers and resolves the names the app uses under one lock.

Building or loading a model is not thread-safe either: from_pretrained() switches torch's default
device to "meta" for the whole process while it builds the empty model, so a model built at the
same moment on another thread gets weights with no data ("Cannot copy out of meta tensor").
Every construction and from_pretrained() runs inside `with hf.building():`.
"""
from __future__ import annotations

import threading

NAMES = ("AutoModel", "AutoModelForCausalLM", "AutoModelForSequenceClassification", "AutoTokenizer",
         "GPT2Config", "GPT2ForSequenceClassification", "GPT2LMHeadModel", "PreTrainedTokenizerFast")

_lock = threading.Lock()
_build_lock = threading.RLock()
_ready = None


def building() -> threading.RLock:
    """Hold this while constructing a model or calling from_pretrained()."""
    return _build_lock


def transformers():
    """The transformers module, with NAMES already resolved."""
    global _ready
    if _ready is None:
        with _lock:
            if _ready is None:
                import transformers as module
                for name in NAMES:
                    getattr(module, name)
                _ready = module
    return _ready
