"""The chat format: one rendering, a loss mask on assistant tokens only, a real pad token."""

from transformers import AutoTokenizer

from studyapp.lab.tokenizer import (ASSISTANT, END, EOT, PAD, USER, format_prompt, pad_batch, render_chat,
                                    sft_batch)

CONV = [{"role": "user", "content": "What is the capital of France?"},
        {"role": "assistant", "content": "The capital of France is Paris."}]


def test_mask_is_one_exactly_on_the_assistant_reply(tiny_tokenizer):
    tok = tiny_tokenizer
    ids, mask = render_chat(tok, CONV)
    assert len(ids) == len(mask)
    masked = [i for i, m in zip(ids, mask) if m]
    assert tok.decode(masked) == "The capital of France is Paris." + END
    unmasked = [i for i, m in zip(ids, mask) if not m]
    assert tok.decode(unmasked) == USER + "What is the capital of France?" + END + ASSISTANT


def test_render_matches_the_saved_chat_template(tiny_model_dir, tiny_tokenizer):
    tok = AutoTokenizer.from_pretrained(tiny_model_dir, local_files_only=True)
    ids, _ = render_chat(tiny_tokenizer, CONV)
    assert tok.apply_chat_template(CONV, tokenize=True) == ids
    prompt = tok.apply_chat_template(CONV[:1], tokenize=False, add_generation_prompt=True)
    assert prompt == format_prompt("What is the capital of France?")


def test_pad_is_its_own_token(tiny_tokenizer):
    tok = tiny_tokenizer
    assert tok.pad_token == PAD and tok.eos_token == EOT
    assert tok.pad_token_id != tok.eos_token_id


def test_sft_batch_ignores_padding_and_prompt(tiny_tokenizer):
    tok = tiny_tokenizer
    short = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]
    ids, att, labels = sft_batch(tok, [CONV, short], max_len=64)
    assert ids.shape == labels.shape == att.shape
    row = 1
    n_real = int(att[row].sum())
    assert (ids[row, n_real:] == tok.pad_token_id).all()
    assert (labels[row, n_real:] == -100).all() and (att[row, n_real:] == 0).all()
    kept = labels[row][labels[row] != -100].tolist()
    assert tok.decode(kept) == "Hello!" + END


def test_left_padding_keeps_last_token_real(tiny_tokenizer):
    ids, att = pad_batch([[5, 6, 7], [8]], pad_id=1, side="left")
    assert ids.tolist() == [[5, 6, 7], [1, 1, 8]] and att.tolist() == [[1, 1, 1], [0, 0, 1]]
