"""The engine: one cache keyed on a folder's content, one prompt check, rollouts for any model."""
import os
import shutil

import pytest

from studyapp.lab import engine
from studyapp.lab.common import LabError
from studyapp.lab.tokenizer import encode_prompt


def test_a_folder_is_loaded_once_and_again_when_it_is_rewritten(tiny_model_dir, tmp_path):
    folder = tmp_path / "copy"
    shutil.copytree(tiny_model_dir, folder)
    first = engine.load(folder, device="cpu")
    assert engine.load(folder, device="cpu") is first                   # a second tab: the same object
    assert first.context == 64 and first.params > 0 and first.kind == "causal-lm"
    weights = folder / "model.safetensors"
    stat = weights.stat()
    os.utime(weights, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # retrained in place
    second = engine.load(folder, device="cpu")
    assert second is not first
    assert sum(1 for k in engine._cache if k[2][0] == str(folder.resolve())) == 1   # the old version is gone


def test_a_bad_folder_is_refused_with_the_learners_message(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(LabError, match="config.json"):
        engine.load(tmp_path / "empty")
    assert "config.json" in engine.folder_problem(tmp_path / "empty")
    assert set(engine.missing_models(tmp_path, ("sft", "reward"))) == {"sft", "reward"}


def test_one_prompt_check_leaves_room_to_answer(tiny_model_dir):
    loaded = engine.load(tiny_model_dir, device="cpu")
    tok = loaded.tokenizer
    ids = engine.encode(tok, "Hello!", context=loaded.context)
    assert ids == encode_prompt(tok, "Hello!", True)
    with pytest.raises(LabError, match="reads at most 64 tokens"):
        engine.encode(tok, "What is the capital of France? " * 20, context=loaded.context)
    with pytest.raises(LabError, match="Shorten"):
        engine.replies(loaded.model, tok, ["What is the capital of France? " * 20], check=True)


def test_replies_are_seeded_and_greedy_replies_match_the_stream(tiny_model_dir):
    loaded = engine.load(tiny_model_dir, device="cpu")
    model, tok = loaded.model, loaded.tokenizer
    prompts = ["Hello!", "What is the capital of France?"]
    a = engine.replies(model, tok, prompts * 3, seed=1, max_new_tokens=8)
    assert a == engine.replies(model, tok, prompts * 3, seed=1, max_new_tokens=8)
    assert a != engine.replies(model, tok, prompts * 3, seed=2, max_new_tokens=8)   # the seed matters
    greedy = engine.replies(model, tok, prompts, greedy=True, max_new_tokens=8)
    assert greedy == [engine.generate_text(model, tok, p, greedy=True, max_new_tokens=8).strip() for p in prompts]


def test_best_available_and_that_device_by_name_share_one_model(tiny_model_dir):
    from studyapp.lab.common import pick_device

    # The compare tab asks for the best device, the RLHF tab for "cpu": on a CPU machine, one model.
    assert engine.load(tiny_model_dir) is engine.load(tiny_model_dir, device=pick_device())
