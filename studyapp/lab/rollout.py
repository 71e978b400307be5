"""A lean GPT-2 forward pass with a KV cache, and batched sampling on top of it, for RLHF.

PPO spends most of its time in small forward passes: one per generated token for 32 rollouts, then
a few full passes to score them and to learn. On a CPU with a 2-layer, 128-wide model the matrix
work of such a pass takes well under a millisecond; the rest is framework overhead (building
attention masks, cache objects, output dataclasses). `hidden_states` below runs the very same
modules and weights of a Hugging Face GPT-2 (`model.transformer`) with none of that overhead; a
test checks that it matches the Hugging Face forward to 1e-5. Checkpoints stay plain HF folders.

Layout conventions (TRL's): prompts are left-padded, responses follow them and are padded on the
right after their stop token; `position_ids` count real tokens only, so padding never shifts them.
"""

from __future__ import annotations

import math
from typing import Sequence

import torch

from . import losses as L
from .tokenizer import encode_prompt, pad_batch, stop_ids

_NEG = -1e9  # a finite "minus infinity": a fully masked row (a left-pad query) stays NaN-free


def position_ids(attention_mask: torch.Tensor) -> torch.Tensor:
    """Positions counted over real tokens only, so left padding does not shift them."""
    return (attention_mask.long().cumsum(-1) - 1).clamp(min=0)


def is_gpt2(model) -> bool:
    """Whether the fast path below can run this model: it knows GPT-2 blocks only."""
    tr = getattr(model, "transformer", None)
    return tr is not None and hasattr(tr, "h") and hasattr(tr.h[0], "attn") and hasattr(tr.h[0].attn, "c_attn")


def check_gpt2(model) -> None:
    """The fast path knows GPT-2 blocks only; anything else must use its own forward."""
    if not is_gpt2(model):
        raise TypeError(f"{type(model).__name__} is not a GPT-2 model; the lab's RLHF stages need GPT-2")


def hidden_states(transformer, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                  pos: torch.Tensor | None = None, cache: list | None = None) -> torch.Tensor:
    """Final hidden states of a GPT2Model for input_ids (B, T).

    attention_mask covers the cached keys plus the new tokens (B, T_cache + T). If `cache` is a list,
    each layer's keys and values are appended to it (an empty list starts a cache).
    """
    tr = transformer
    cfg = tr.config
    nh, C = cfg.n_head, cfg.n_embd
    hd = C // nh
    B, T = input_ids.shape
    if pos is None:
        pos = position_ids(attention_mask)[:, -T:]
    x = tr.wte(input_ids) + tr.wpe(pos)
    Tk = attention_mask.shape[1]
    # Query i (absolute index Tk - T + i) may look at key j if j <= its index and key j is real.
    q_idx = torch.arange(Tk - T, Tk, device=x.device)[:, None]
    k_idx = torch.arange(Tk, device=x.device)[None, :]
    allowed = (k_idx <= q_idx)[None, None] & attention_mask.bool()[:, None, None, :]
    bias = torch.zeros(allowed.shape, dtype=x.dtype, device=x.device).masked_fill(~allowed, _NEG)
    scale = 1.0 / math.sqrt(hd) if cfg.scale_attn_weights else 1.0
    for i, block in enumerate(tr.h):
        q, k, v = block.attn.c_attn(block.ln_1(x)).split(C, dim=2)
        q, k, v = (t.view(B, T, nh, hd).transpose(1, 2) for t in (q, k, v))
        if cache is not None:
            if len(cache) > i:
                k = torch.cat([cache[i][0], k], 2)
                v = torch.cat([cache[i][1], v], 2)
                cache[i] = (k, v)
            else:
                cache.append((k, v))
        att = torch.softmax((q @ k.transpose(-2, -1)) * scale + bias, dim=-1)
        y = (att @ v).transpose(1, 2).reshape(B, T, C)
        x = x + block.attn.c_proj(y)
        x = x + block.mlp(block.ln_2(x))
    return tr.ln_f(x)


# ----------------------------------------------------------------------------- sampling


@torch.no_grad()
def sample(model, prompt_ids: torch.Tensor, prompt_mask: torch.Tensor, *, max_new_tokens: int,
           stop: Sequence[int], pad_id: int, temperature: float = 1.0, greedy: bool = False,
           generator: torch.Generator | None = None) -> torch.Tensor:
    """Batched sampling with the KV cache from left-padded prompts; returns (B, T) response ids.

    No top-k and no top-p (TRL's rollouts use top_k=0, top_p=1): the sample must come from the
    policy's full distribution, or the log-probs PPO uses would describe a different policy.
    A row that has stopped gets pad from then on.
    """
    max_new_tokens = min(max_new_tokens, model.config.n_positions - prompt_ids.shape[1])
    stops = torch.tensor(list(stop), device=prompt_ids.device)
    cache: list = []
    mask = prompt_mask
    h = hidden_states(model.transformer, prompt_ids, mask, cache=cache)[:, -1]
    next_pos = position_ids(prompt_mask)[:, -1:] + 1
    done = torch.zeros(prompt_ids.shape[0], dtype=torch.bool, device=prompt_ids.device)
    tokens = []
    for t in range(max_new_tokens):
        logits = model.lm_head(h).float()
        if greedy:
            nxt = logits.argmax(-1)
        else:
            nxt = torch.multinomial(torch.softmax(logits / temperature, -1), 1, generator=generator).squeeze(1)
        nxt = torch.where(done, torch.full_like(nxt, pad_id), nxt)
        tokens.append(nxt)
        done |= torch.isin(nxt, stops)
        if done.all() or t == max_new_tokens - 1:
            break
        mask = torch.cat([mask, torch.ones_like(mask[:, :1])], 1)
        h = hidden_states(model.transformer, nxt[:, None], mask, pos=next_pos, cache=cache)[:, -1]
        next_pos = next_pos + 1
    return torch.stack(tokens, 1)


def encode_prompts(tokenizer, texts: Sequence[str], device, chat: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """Prompts as left-padded (ids, attention mask) on device, the layout `sample` takes."""
    ids, att = pad_batch([encode_prompt(tokenizer, t, chat) for t in texts], tokenizer.pad_token_id, "left")
    return ids.to(device), att.to(device)


def decode_responses(tokenizer, responses: torch.Tensor, mask: torch.Tensor) -> list[str]:
    """Each response's real tokens (mask 1) as stripped text."""
    return [tokenizer.decode(r[m.bool()].tolist(), skip_special_tokens=True).strip()
            for r, m in zip(responses.cpu(), mask.cpu())]


def sample_texts(model, tokenizer, prompts: Sequence[str], *, max_new_tokens: int = 20, greedy: bool = False,
                 seed: int = 0, batch_size: int = 128, temperature: float = 1.0, chat: bool = True) -> list[str]:
    """Responses to prompts (chat format unless chat=False) as stripped text, generated in batches
    (never one prompt at a time); GPT-2 only. engine.replies takes any model and picks this for GPT-2."""
    check_gpt2(model)
    device = next(model.parameters()).device
    gen = torch.Generator(device=device).manual_seed(seed)
    stop, out = stop_ids(tokenizer), []
    model.eval()
    for i in range(0, len(prompts), batch_size):
        ids, att = encode_prompts(tokenizer, prompts[i:i + batch_size], device, chat)
        resp = sample(model, ids, att, max_new_tokens=max_new_tokens, stop=stop, pad_id=tokenizer.pad_token_id,
                      greedy=greedy, generator=gen, temperature=temperature)
        out += decode_responses(tokenizer, resp, L.response_mask(resp, stop))
    return out
