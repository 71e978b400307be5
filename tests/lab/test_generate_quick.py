"""`studyapp lab generate` reads a lab GPT-2 folder without transformers (lab/quick.py): the same
logits, the same tokens and the same text as the transformers model, and no transformers import."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from studyapp.lab import quick
from studyapp.lab.common import LabError
from studyapp.lab.engine import load_for_command
from studyapp.lab.generate import generate_text, load_model, stream
from studyapp.lab.tokenizer import encode, encode_prompt, stop_ids

ROOT = Path(__file__).resolve().parents[2]
PROMPTS = ["What is the capital of France?", "Hello!", "Say <|end|> and stop"]


def test_logits_and_cache_match_transformers(tiny_model_dir):
    hf_model, hf_tok = load_model(tiny_model_dir, "cpu")
    model, tok = quick.load(tiny_model_dir)
    ids = torch.tensor([encode_prompt(hf_tok, PROMPTS[0], True)])
    with torch.no_grad():
        want = hf_model(ids).logits
        got = model(input_ids=ids).logits
        assert got.shape == want.shape
        assert torch.allclose(got, want, atol=1e-5)
        # One token at a time with the cache: the same logits as the whole sequence at once.
        out, past = None, None
        for t in range(ids.shape[1]):
            out = model(input_ids=ids[:, t:t + 1], past_key_values=past, use_cache=True)
            past = out.past_key_values
        assert torch.allclose(out.logits[0, -1], want[0, -1], atol=1e-5)


def test_tokenizer_answers_as_the_transformers_one(tiny_model_dir):
    _, hf_tok = load_model(tiny_model_dir, "cpu")
    _, tok = quick.load(tiny_model_dir)
    for text in PROMPTS + ["", "naïve café ünïcode"]:
        assert encode(tok, text) == encode(hf_tok, text)     # a typed "<|end|>" stays text
        for chat in (True, False):
            assert encode_prompt(tok, text, chat) == encode_prompt(hf_tok, text, chat)
        ids = encode_prompt(hf_tok, text, True)
        for skip in (True, False):
            assert tok.decode(ids, skip_special_tokens=skip) == hf_tok.decode(ids, skip_special_tokens=skip)
    assert stop_ids(tok) == stop_ids(hf_tok)
    assert (tok.pad_token_id, tok.eos_token_id, len(tok)) == (hf_tok.pad_token_id, hf_tok.eos_token_id, len(hf_tok))


def test_streamed_replies_equal_the_transformers_model(tiny_model_dir):
    hf = load_model(tiny_model_dir, "cpu")
    fast = quick.load(tiny_model_dir)
    for prompt in PROMPTS:
        for kw in ({"greedy": True}, {"seed": 3, "temperature": 1.0}, {"seed": 5, "top_k": 5, "top_p": 0.9}):
            want = [e["id"] for e in stream(*hf, prompt, max_new_tokens=12, **kw)]
            got = [e["id"] for e in stream(*fast, prompt, max_new_tokens=12, **kw)]
            assert got == want and got
    assert generate_text(*fast, "Hello!", max_new_tokens=8, greedy=True) == \
        generate_text(*hf, "Hello!", max_new_tokens=8, greedy=True)


def test_other_folders_fall_back_to_transformers(tiny_model_dir, tmp_path):
    odd = tmp_path / "odd"
    shutil.copytree(tiny_model_dir, odd)
    cfg = json.loads((odd / "config.json").read_text())
    cfg["activation_function"] = "relu"
    (odd / "config.json").write_text(json.dumps(cfg))
    assert quick.load(odd) is None and not quick.supported(odd)
    model, _ = load_for_command(odd, "cpu")   # transformers loads what quick.py does not implement
    assert type(model).__name__ == "GPT2LMHeadModel"
    model, _ = load_for_command(tiny_model_dir, "cpu")
    assert type(model).__name__ == "QuickGPT2"


def test_a_damaged_folder_is_refused_naming_the_file(tiny_model_dir, tmp_path):
    # The engine validates before its transformers-free reader opens anything: the learner reads
    # which file is wrong, never a safetensors traceback.
    broken = tmp_path / "broken"
    shutil.copytree(tiny_model_dir, broken)
    (broken / "model.safetensors").write_bytes(b"PK\x03\x04 a zip, not weights")
    with pytest.raises(LabError, match="model.safetensors: is not a safetensors file"):
        load_for_command(broken, "cpu")
    assert quick.load(broken) is None and not quick.supported(broken)


def test_lab_generate_never_imports_transformers(tiny_model_dir):
    code = ("import sys; from studyapp.cli import main; rc = main(['lab', 'generate', '--model', sys.argv[1], "
            "'--seed', '3', '--max-new-tokens', '8', 'Hello!']); "
            "print('TRANSFORMERS' if 'transformers' in sys.modules else 'CLEAN'); sys.exit(rc)")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    res = subprocess.run([sys.executable, "-c", code, str(tiny_model_dir)], capture_output=True, text=True,
                         env=env, timeout=300)
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[-1] == "CLEAN"
    hf = load_model(tiny_model_dir, "cpu")
    want = "".join(e["text"] for e in stream(*hf, "Hello!", max_new_tokens=8, seed=3, temperature=0.7))
    assert want and lines[0] == want          # the reply the transformers model gives


@pytest.mark.parametrize("name", ["sft", "rlhf"])
def test_shipped_folders_are_read_without_transformers(name):
    folder = ROOT / "models" / name
    assert (folder / "config.json").is_file(), f"models/{name} ships with the repository and is missing"
    assert quick.supported(folder)
