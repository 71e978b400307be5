"""The folders shipped in models/ work with plain transformers and nothing of studyapp (issue 9)."""

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification, AutoTokenizer

from studyapp.lab import reward as R
from studyapp.lab.common import MODELS_DIR
from studyapp.lab.generate import generate_batch, load_model

PROMPTS = ["What is the capital of France?", "Tell me the opposite of hot.", "Hello!"]


@pytest.mark.parametrize("name", ["base", "sft", "rlhf", "rlhf_beta0"])
def test_causal_folders_generate_from_the_plain_idiom_as_the_lab_does(name):
    folder = MODELS_DIR / name
    tok = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder)
    enc = tok(PROMPTS, padding=True, return_tensors="pt")
    assert set(enc) == {"input_ids", "attention_mask"} and enc["attention_mask"][:, -1].all()
    chat = [tok.apply_chat_template([{"role": "user", "content": p}], add_generation_prompt=True, tokenize=False)
            for p in PROMPTS]
    enc = tok(chat, padding=True, return_tensors="pt")
    out = model.generate(**enc, max_new_tokens=12, do_sample=False, pad_token_id=tok.pad_token_id)
    plain = [tok.decode(row[enc["input_ids"].shape[1]:], skip_special_tokens=True) for row in out]
    lab_model, lab_tok = load_model(folder, "cpu")
    ours = generate_batch(lab_model, lab_tok, PROMPTS, chat=True, max_new_tokens=12)
    for p, o in zip(plain, ours):
        assert p.startswith(o), (p, o)


def test_reward_folder_scores_as_the_lab_does_batched_and_single():
    folder = MODELS_DIR / "reward"
    replies = ["The capital of France is Paris.", "The opposite of hot is cold.", "I'm sorry, I can't help with that."]
    lab_rm, lab_tok = R.load_reward_model(folder, "cpu")
    ours = R.score(lab_rm, lab_tok, PROMPTS, replies)
    tok = AutoTokenizer.from_pretrained(folder)
    rm = AutoModelForSequenceClassification.from_pretrained(folder).eval()
    texts = [tok.apply_chat_template([{"role": "user", "content": p}, {"role": "assistant", "content": r}], tokenize=False)
             for p, r in zip(PROMPTS, replies)]
    with torch.no_grad():
        batched = rm(**tok(texts, padding=True, return_tensors="pt")).logits[:, 0].tolist()
        single = [rm(**tok(t, return_tensors="pt")).logits[0, 0].item() for t in texts]
    assert batched == pytest.approx(ours, abs=1e-4) and single == pytest.approx(ours, abs=1e-4)
