"""The tokenizer and the chat format, in one place: special tokens, rendering, the SFT loss mask, padding.

A conversation is rendered as

    <|user|>What is the capital of France?<|end|><|assistant|>The capital of France is Paris.<|end|>

and `render_chat` returns the ids together with a mask that is 1 only on the assistant's tokens
(its words and its closing <|end|>): the whole SFT loss mask lives here. Pretraining documents are
separated by <|endoftext|>; padding uses <|pad|>, a token of its own, so a padded position can
never be confused with the end of a text.

The tokenizer is a small byte-level BPE (tokenizers library) saved as a Hugging Face
PreTrainedTokenizerFast with a chat template, so `AutoTokenizer.from_pretrained(folder)
.apply_chat_template(messages)` gives exactly the ids `render_chat` gives.
"""

from __future__ import annotations

from typing import Iterable, Sequence

from .hf import transformers as transformers_module

EOT = "<|endoftext|>"
PAD = "<|pad|>"
USER = "<|user|>"
ASSISTANT = "<|assistant|>"
SYSTEM = "<|system|>"
END = "<|end|>"
SPECIAL_TOKENS = [EOT, PAD, USER, ASSISTANT, SYSTEM, END]
ROLE_TOKENS = {"user": USER, "assistant": ASSISTANT, "system": SYSTEM}

# The same format as a Jinja template, stored in tokenizer_config.json for apply_chat_template.
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{% if message['role'] not in ['user', 'assistant', 'system'] %}"
    "{{ raise_exception('unknown role: ' + message['role']) }}{% endif %}"
    "{{ '<|' + message['role'] + '|>' + message['content'] + '<|end|>' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|assistant|>' }}{% endif %}"
)


def train_tokenizer(texts: Iterable[str], vocab_size: int = 1024):
    """Train a byte-level BPE on `texts` and wrap it as a PreTrainedTokenizerFast."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    PreTrainedTokenizerFast = transformers_module().PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer=trainer)
    hf = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token=EOT,
        eos_token=EOT,
        pad_token=PAD,
        additional_special_tokens=[USER, ASSISTANT, SYSTEM, END],
        clean_up_tokenization_spaces=False,
        # GPT-2 has no token types: a tokenizer that returned token_type_ids would have them added
        # as position-like embeddings by model.generate(**tokenizer(text)), and garble the output.
        model_input_names=["input_ids", "attention_mask"],
        # Batched generation with plain transformers pads on the left (every row ends on a real token).
        padding_side="left",
    )
    hf.chat_template = CHAT_TEMPLATE
    hf.model_max_length = 1_000_000  # the model's context, not the tokenizer's, is the limit
    return hf


def is_lab_tokenizer(tokenizer) -> bool:
    """True for a tokenizer that knows our chat tokens (any other model's tokenizer is fine too)."""
    vocab = tokenizer.get_vocab()
    return all(t in vocab for t in (USER, ASSISTANT, END))


def stop_ids(tokenizer) -> list[int]:
    """Token ids that end a generated reply: <|end|> for chat, plus end-of-text."""
    ids = []
    vocab = tokenizer.get_vocab()
    if END in vocab:
        ids.append(vocab[END])
    if tokenizer.eos_token_id is not None:
        ids.append(tokenizer.eos_token_id)
    return sorted(set(ids))


def encode(tokenizer, text: str) -> list[int]:
    """Ids of `text` as plain text: a special token's spelling typed by a person ("<|end|>") is
    encoded as the characters it is made of, never as the control token, so nobody can forge a
    turn of the chat format. Control tokens are inserted by id (render_chat, encode_prompt)."""
    return tokenizer.encode(text, add_special_tokens=False, split_special_tokens=True)


# ----------------------------------------------------------------------------- chat format


def render_chat(tokenizer, messages: Sequence[dict], max_len: int | None = None) -> tuple[list[int], list[int]]:
    """Ids of a conversation and its loss mask (1 on assistant tokens and their <|end|>, else 0).

    Each message's content is encoded as plain text (see `encode`) and the role and <|end|> tokens
    are put in by id; for text that spells no special token this equals apply_chat_template's ids
    (a test checks it).
    """
    vocab = tokenizer.get_vocab()
    end_id = vocab[END]
    ids: list[int] = []
    mask: list[int] = []
    for m in messages:
        role = m["role"]
        if role not in ROLE_TOKENS:
            raise ValueError(f"unknown role {role!r}")
        body = encode(tokenizer, m["content"]) + [end_id]
        ids.append(vocab[ROLE_TOKENS[role]])
        mask.append(0)
        ids.extend(body)
        mask.extend([1 if role == "assistant" else 0] * len(body))
    if max_len is not None:
        ids, mask = ids[:max_len], mask[:max_len]
    return ids, mask


def format_prompt(user_text: str) -> str:
    """The text handed to a chat model for one user turn, ending where the assistant starts."""
    return f"{USER}{user_text}{END}{ASSISTANT}"


def encode_prompt(tokenizer, text: str, chat: bool) -> list[int]:
    """Ids of a prompt: the chat format if `chat` (using the folder's own template when it is not
    ours, so a real instruct model gets its own format), else the bare text."""
    if not chat:
        ids = encode(tokenizer, text)
        return ids if ids else [tokenizer.eos_token_id or 0]
    if is_lab_tokenizer(tokenizer):
        ids, _ = render_chat(tokenizer, [{"role": "user", "content": text}])
        return ids + [tokenizer.convert_tokens_to_ids(ASSISTANT)]
    if getattr(tokenizer, "chat_template", None):
        return tokenizer.apply_chat_template([{"role": "user", "content": text}], add_generation_prompt=True)
    return encode(tokenizer, text)


# ----------------------------------------------------------------------------- batching


def pad_batch(seqs: Sequence[Sequence[int]], pad_id: int, side: str = "right", value_mask=None):
    """Pad lists of ids into tensors: (input_ids, attention_mask[, padded value_mask]).

    side="right" for training (labels line up), side="left" for generation (every row's last token
    is real, so the next token is sampled from the same column for all rows).
    """
    import torch

    n = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), n), pad_id, dtype=torch.long)
    att = torch.zeros((len(seqs), n), dtype=torch.long)
    vm = torch.zeros((len(seqs), n), dtype=torch.long) if value_mask is not None else None
    for i, s in enumerate(seqs):
        sl = slice(0, len(s)) if side == "right" else slice(n - len(s), n)
        ids[i, sl] = torch.tensor(list(s), dtype=torch.long)
        att[i, sl] = 1
        if vm is not None:
            vm[i, sl] = torch.tensor(list(value_mask[i]), dtype=torch.long)
    return (ids, att) if vm is None else (ids, att, vm)


def sft_batch(tokenizer, conversations: Sequence[Sequence[dict]], max_len: int):
    """Input ids, attention mask and labels for SFT: labels are -100 wherever the mask is 0,
    so the loss is on the assistant's reply only and never on padding."""
    rendered = [render_chat(tokenizer, c, max_len) for c in conversations]
    ids, att, mask = pad_batch([r[0] for r in rendered], tokenizer.pad_token_id, "right",
                               value_mask=[r[1] for r in rendered])
    labels = ids.masked_fill(mask == 0, -100)
    return ids, att, labels
