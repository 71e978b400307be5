"""Generation: load a model folder, stream tokens one at a time (for the GUI), generate in batches (for evaluation).

    studyapp lab generate --model sft "What is the capital of France?"

`stream` runs its own loop over the KV cache so the GUI can show each token as it comes and, if
asked, the top next-token probabilities at that step. `generate_batch` left-pads a list of prompts
and decodes them together; the report never loops over prompts one by one. Both work for any local
Hugging Face causal-LM folder, not only the lab's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator, Sequence

from .common import MODELS_DIR, LabError
from .modeling import load_causal_lm
from .tokenizer import encode_prompt, stop_ids

MODEL_NAMES = ("base", "sft", "rlhf")


def resolve_model(name_or_path, models_dir=None) -> Path:
    """'base', 'sft', 'rlhf' name a shipped (or freshly trained) checkpoint; anything else is a path."""
    if str(name_or_path) in MODEL_NAMES:
        return Path(models_dir or MODELS_DIR) / str(name_or_path)
    return Path(name_or_path)


def load_model(folder, device: str | None = None):
    """(model, tokenizer) from a local folder, validated first (see modeling.validate_folder)."""
    return load_causal_lm(resolve_model(folder), device)


def context_length(model) -> int:
    c = model.config
    return int(getattr(c, "n_positions", None) or getattr(c, "max_position_embeddings", None) or 2048)


def _filter_logits(logits, top_k: int, top_p: float):
    """Top-k then nucleus filtering on a [batch, vocab] tensor (top_k=0 and top_p=1 disable them)."""
    import torch

    if top_k and top_k > 0:
        kth = torch.topk(logits, min(top_k, logits.size(-1))).values[..., -1, None]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if top_p < 1.0:
        sorted_logits, idx = torch.sort(logits, descending=True)
        cum = torch.softmax(sorted_logits, dim=-1).cumsum(-1)
        drop = cum - torch.softmax(sorted_logits, dim=-1) > top_p  # keep the token that crosses p
        sorted_logits = sorted_logits.masked_fill(drop, float("-inf"))
        logits = torch.full_like(logits, float("-inf")).scatter(-1, idx, sorted_logits)
    return logits


def stream(model, tokenizer, prompt: str, *, max_new_tokens: int = 40, temperature: float = 1.0,
           top_k: int = 0, top_p: float = 1.0, seed: int | None = None, greedy: bool = False,
           chat: bool = True, return_dist: bool = False, dist_k: int = 8) -> Iterator[dict]:
    """Yield {"id", "text", ["dist"]} for each new token until a stop token or the context limit.

    "text" is the new piece of decoded text (a token that ends inside a multi-byte character yields
    "" and the character comes with the next one). "dist" lists the dist_k most likely next tokens
    as (token text, probability) before sampling, for the GUI's distribution view.
    """
    import torch

    ids = encode_prompt(tokenizer, prompt, chat)
    limit = context_length(model)
    if len(ids) >= limit:
        raise LabError(f"the prompt is {len(ids)} tokens long; this model's context holds {limit}")
    stops = set(stop_ids(tokenizer))
    device = next(model.parameters()).device
    gen = torch.Generator(device=device)
    if seed is not None:
        gen.manual_seed(seed)
    else:
        gen.seed()
    new: list[int] = []
    printed = ""
    past = None
    x = torch.tensor([ids], device=device)
    with torch.inference_mode():
        for _ in range(min(max_new_tokens, limit - len(ids))):
            out = model(input_ids=x, past_key_values=past, use_cache=True)
            past = out.past_key_values
            logits = out.logits[0, -1].float()
            probs = None
            if greedy or temperature <= 0:
                tok = int(torch.argmax(logits))
            else:
                filtered = _filter_logits((logits / temperature)[None], top_k, top_p)[0]
                probs = torch.softmax(filtered, dim=-1)
                tok = int(torch.multinomial(probs, 1, generator=gen))
            event: dict = {"id": tok}
            if return_dist:
                p = torch.softmax(logits / (temperature if temperature > 0 and not greedy else 1.0), -1)
                top = torch.topk(p, dist_k)
                event["dist"] = [(tokenizer.decode([i]), float(v)) for v, i in
                                 zip(top.values.tolist(), top.indices.tolist())]
            if tok in stops:
                return
            new.append(tok)
            text = tokenizer.decode(new, skip_special_tokens=True)
            if text.endswith("\ufffd"):  # half of a multi-byte character: wait for the rest
                event["text"] = ""
            else:
                event["text"], printed = text[len(printed):], text
            yield event
            x = torch.tensor([[tok]], device=device)


def generate_text(model, tokenizer, prompt: str, **kw) -> str:
    """The whole streamed reply as one string (convenience for the CLI and tests)."""
    ids = [e["id"] for e in stream(model, tokenizer, prompt, **kw)]
    return tokenizer.decode(ids, skip_special_tokens=True)


def generate_batch(model, tokenizer, prompts: Sequence[str], *, max_new_tokens: int = 24,
                   greedy: bool = True, temperature: float = 1.0, top_k: int = 0, top_p: float = 1.0,
                   seed: int | None = 0, chat: bool = True, batch_size: int = 64) -> list[str]:
    """Replies to many prompts, decoded in left-padded batches; stops each row at <|end|>/eos."""
    import torch

    from .tokenizer import pad_batch

    device = next(model.parameters()).device
    limit = context_length(model)
    if seed is not None:
        torch.manual_seed(seed)
    out: list[str] = []
    stops = stop_ids(tokenizer)
    for i in range(0, len(prompts), batch_size):
        chunk = [encode_prompt(tokenizer, p, chat) for p in prompts[i: i + batch_size]]
        ids, att = pad_batch(chunk, tokenizer.pad_token_id, side="left")
        n_new = max(1, min(max_new_tokens, limit - ids.shape[1]))
        kw = dict(do_sample=False) if greedy else dict(do_sample=True, temperature=temperature,
                                                       top_k=top_k, top_p=top_p)
        with torch.inference_mode():
            res = model.generate(input_ids=ids.to(device), attention_mask=att.to(device),
                                 max_new_tokens=n_new, eos_token_id=stops,
                                 pad_token_id=tokenizer.pad_token_id, **kw)
        for row in res[:, ids.shape[1]:].tolist():
            cut = next((j for j, t in enumerate(row) if t in stops), len(row))
            out.append(tokenizer.decode(row[:cut], skip_special_tokens=True))
    return out
