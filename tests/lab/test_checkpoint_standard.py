"""Every folder the lab writes is a standard Hugging Face checkpoint: plain transformers, with the
idioms a learner types, gives what the lab's own code gives (issue 9)."""

import pytest
import torch
from transformers import (AutoModelForCausalLM, AutoModelForSequenceClassification, AutoTokenizer,
                          pipeline)

from studyapp.lab.generate import generate_batch, load_model
from studyapp.lab.tokenizer import ASSISTANT, END, encode, encode_prompt, render_chat

PROMPTS = ["What is the capital of France?", "Hello!", "Tell me the opposite of hot."]


def test_tokenizer_gives_only_what_gpt2_takes_and_pads_left(tiny_model_dir):
    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    enc = tok(PROMPTS, padding=True, return_tensors="pt")
    assert set(enc) == {"input_ids", "attention_mask"}
    assert enc["attention_mask"][:, -1].all(), "left padding: every row ends on a real token"
    assert not enc["attention_mask"][:, 0].all()


def test_generate_from_the_plain_idiom_equals_the_labs_greedy_batch(tiny_model_dir):
    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    enc = tok(PROMPTS, padding=True, return_tensors="pt")
    out = model.generate(**enc, max_new_tokens=8, do_sample=False, pad_token_id=tok.pad_token_id)
    plain = [tok.decode(row[enc["input_ids"].shape[1]:], skip_special_tokens=True) for row in out]
    lab_model, lab_tok = load_model(tiny_model_dir, "cpu")
    ours = generate_batch(lab_model, lab_tok, PROMPTS, chat=False, max_new_tokens=8)
    # The lab stops a row at <|end|>/eos; plain generate stops at eos only, so compare the lab's
    # text as a prefix of the plain one.
    for p, o in zip(plain, ours):
        assert p.startswith(o), (p, o)
    single = model.generate(**tok(PROMPTS[0], return_tensors="pt"), max_new_tokens=8, do_sample=False)
    assert tok.decode(single[0], skip_special_tokens=True).startswith(PROMPTS[0] + ours[0].rstrip())


def test_chat_template_and_pipeline(tiny_model_dir):
    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    msgs = [{"role": "user", "content": PROMPTS[0]}]
    ids = tok.apply_chat_template(msgs, add_generation_prompt=True)
    assert ids == encode_prompt(tok, PROMPTS[0], chat=True)
    gen = pipeline("text-generation", model=str(tiny_model_dir), tokenizer=tok, device="cpu")
    out = gen(PROMPTS[0], max_new_tokens=4, do_sample=False)
    assert out[0]["generated_text"].startswith(PROMPTS[0])


def test_typed_special_tokens_are_text_not_control_tokens(tiny_tokenizer):
    end_id = tiny_tokenizer.convert_tokens_to_ids(END)
    assistant_id = tiny_tokenizer.convert_tokens_to_ids(ASSISTANT)
    text = "What does <|end|><|assistant|> mean?"
    ids = encode_prompt(tiny_tokenizer, text, chat=True)
    # Exactly one <|end|> (closing the user turn) and one <|assistant|> (the generation prompt).
    assert ids.count(end_id) == 1 and ids.count(assistant_id) == 1
    assert ids[-2:] == [end_id, assistant_id]
    assert tiny_tokenizer.decode(encode(tiny_tokenizer, text)) == text
    conv_ids, mask = render_chat(tiny_tokenizer, [{"role": "user", "content": "<|end|>"},
                                                  {"role": "assistant", "content": "ok"}])
    assert conv_ids.count(end_id) == 2


def test_reward_folder_scores_the_same_through_plain_transformers(tmp_path):
    from studyapp.lab import reward as R
    from tests.support import make_tiny_sft

    sft_dir = make_tiny_sft(tmp_path / "sft")
    sft, tok = load_model(sft_dir, "cpu")
    rm = R.build_reward_model(sft)
    torch.nn.init.normal_(rm.score.weight, std=0.5)  # a non-zero head, so scores differ
    R.save_reward_model(rm, tok, tmp_path / "reward", card="# rm\n", meta={"stage": "reward"})
    lab_rm, lab_tok = R.load_reward_model(tmp_path / "reward", "cpu")
    responses = ["The capital of France is Paris.", "I'm sorry, I can't help with that.", "Hi!"]
    ours = R.score(lab_rm, lab_tok, PROMPTS, responses)

    plain_tok = AutoTokenizer.from_pretrained(tmp_path / "reward")
    plain_rm = AutoModelForSequenceClassification.from_pretrained(tmp_path / "reward").eval()
    texts = [plain_tok.apply_chat_template([{"role": "user", "content": p}, {"role": "assistant", "content": r}],
                                           tokenize=False) for p, r in zip(PROMPTS, responses)]
    with torch.no_grad():
        batched = plain_rm(**plain_tok(texts, padding=True, return_tensors="pt")).logits[:, 0].tolist()
        single = [plain_rm(**plain_tok(t, return_tensors="pt")).logits[0, 0].item() for t in texts]
    assert batched == pytest.approx(ours, abs=1e-4)
    assert single == pytest.approx(ours, abs=1e-4)
