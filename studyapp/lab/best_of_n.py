"""Best-of-n (rejection sampling): sample n replies from the SFT model, keep the one the reward model
scores highest. No training at all, and its KL from the SFT model is known in closed form.

    out = best_of_n(policy, tokenizer, rm, rm_tokenizer, prompts, n=16)
    out.kept, out.proxy, out.gold, out.kl        # replies, reward-model scores, rater scores, log n - (n-1)/n

Its KL to the SFT model is kl_best_of_n(n) = log n - (n - 1) / n (Stiennon et al. 2020, appendix;
Gao et al. 2022, "Scaling laws for reward model overoptimization", eq. 1), so best-of-n draws the
whole proxy-vs-gold curve against sqrt(KL) without a single gradient step: the reward model's
favourite keeps rising with n, the rater's (gold) score of the same replies rises, then may fall
where the reward model is wrong (claims 11-12 as Gao et al. drew them).

Sampling is batched: the n replies of every prompt are drawn in one `sample_compact` call per chunk
of whole groups, each prompt run through the model once and its cache shared by its n replies. `sweep` draws max(n) replies once and reads
every smaller n off the same draw (the best of the first n is a best-of-n sample).

The shared axes: `measure_policy(policy, sft, ...)` puts a trained policy (PPO, DPO, GRPO) on the same
plot, its KL to the SFT model measured on sampled replies instead of known in closed form.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Sequence

import torch

from . import losses as L
from .rater import Prompt, Rater
from .reward import score_ids
from .rollout import check_gpt2, decode_responses, encode_prompts, hidden_states, position_ids
from .tokenizer import END, encode_prompt, pad_batch, stop_ids


def kl_best_of_n(n: int) -> float:
    """KL(best-of-n || pi) = log n - (n - 1) / n, in nats, for n >= 1.

    The closed form holds when the n samples are distinct with probability one (a continuous reward
    and no ties), and it is an upper bound otherwise (Beirami et al. 2024, "Theoretical guarantees
    on the best-of-n alignment policy"). n = 1 keeps the sample as it is: KL 0. It grows like
    log n, so sqrt(KL) grows very slowly: n = 64 is only about 3.2 nats.
    """
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    return math.log(n) - (n - 1) / n


@dataclass
class BestOfN:
    prompts: list[str]
    n: int
    kept: list[str]            # the reward model's favourite reply per prompt
    proxy: list[float]         # the reward model's score of each kept reply
    gold: list[float]          # the rater's score of each kept reply (None where no Prompt was given)
    kl: float                  # kl_best_of_n(n)
    candidates: list[list[str]] = field(default_factory=list)      # all n replies per prompt
    candidate_proxy: list[list[float]] = field(default_factory=list)

    def summary(self) -> dict:
        """The point this n puts on the shared axes: proxy and gold means against sqrt(KL)."""
        gold = [g for g in self.gold if g is not None]
        return {"n": self.n, "kl": self.kl, "sqrt_kl": math.sqrt(self.kl),
                "proxy": sum(self.proxy) / max(1, len(self.proxy)),
                "gold": sum(gold) / len(gold) if gold else None,
                # The sample a plain SFT rollout would have kept: the first of each group.
                "proxy_n1": sum(c[0] for c in self.candidate_proxy) / max(1, len(self.candidate_proxy))}


@torch.no_grad()
def sample_compact(model, prompt_ids: torch.Tensor, prompt_mask: torch.Tensor, *, max_new_tokens: int,
                   stop: Sequence[int], pad_id: int, temperature: float = 1.0, expand: int = 1,
                   generator: torch.Generator | None = None) -> torch.Tensor:
    """Sampled replies, as rollout.sample gives them (top_k=0, top_p=1, pad after a row's stop
    token), for best-of-n's many rows per prompt. Three things make it faster there:

    - each prompt runs through the model once and its keys and values are repeated `expand` times
      (row i of the result is a reply to prompt i // expand), not once per reply;
    - a row that has written its stop token leaves the batch (its cache rows with it), so late
      steps cost only the replies still being written: most replies end well before the limit;
    - the next token is drawn by inverse CDF (the cumulative sum of the probabilities, searched for
      one uniform number per row), an exact draw from the same distribution as torch.multinomial.
    Returns (B * expand, T) ids, T the number of steps run.
    """
    device = prompt_ids.device
    max_new_tokens = min(max_new_tokens, model.config.n_positions - prompt_ids.shape[1])
    stops = torch.tensor(list(stop), device=device)
    cache: list = []
    h = hidden_states(model.transformer, prompt_ids, prompt_mask, cache=cache)[:, -1]
    mask = prompt_mask
    if expand > 1:
        h, mask = h.repeat_interleave(expand, 0), mask.repeat_interleave(expand, 0)
        cache = [(k.repeat_interleave(expand, 0), v.repeat_interleave(expand, 0)) for k, v in cache]
    rows = h.shape[0]
    out = torch.full((rows, max(1, max_new_tokens)), pad_id, dtype=torch.long, device=device)
    alive = torch.arange(rows, device=device)
    next_pos = position_ids(mask)[:, -1:] + 1
    steps = 0
    for t in range(max_new_tokens):
        probs = torch.softmax(model.lm_head(h).float() / temperature, -1)
        u = torch.rand((len(alive), 1), generator=generator, device=device)
        nxt = torch.searchsorted(probs.cumsum(-1), u).squeeze(1).clamp_(max=probs.shape[-1] - 1)
        out[alive, t] = nxt
        steps = t + 1
        keep = ~torch.isin(nxt, stops)
        if t == max_new_tokens - 1 or not keep.any():
            break
        if not keep.all():
            alive, nxt, mask, next_pos = alive[keep], nxt[keep], mask[keep], next_pos[keep]
            cache = [(k[keep], v[keep]) for k, v in cache]
        mask = torch.cat([mask, torch.ones_like(mask[:, :1])], 1)
        h = hidden_states(model.transformer, nxt[:, None], mask, pos=next_pos, cache=cache)[:, -1]
        next_pos = next_pos + 1
    return out[:, :steps]


def _sample_rows(policy, tokenizer, prompts: Sequence[str], n: int, *, max_new_tokens: int, temperature: float,
                 seed: int, batch_rows: int):
    """Yield (prompt_ids, prompt_mask, responses, response_mask) chunk by chunk: n sampled replies per
    prompt, prompt i's replies in rows i*n .. i*n + n - 1 over the chunks (a chunk holds whole
    groups: batch_rows // n prompts, at least one)."""
    check_gpt2(policy)
    device = next(policy.parameters()).device
    gen = torch.Generator(device=device).manual_seed(seed)
    stop, pad_id = stop_ids(tokenizer), tokenizer.pad_token_id
    all_ids, all_att = encode_prompts(tokenizer, list(prompts), device)
    per_chunk = max(1, batch_rows // n)
    policy.eval()
    for i in range(0, len(prompts), per_chunk):
        ids, att = all_ids[i:i + per_chunk], all_att[i:i + per_chunk]
        keep = att.any(0)  # drop the columns that are padding in every row of this chunk
        ids, att = ids[:, keep], att[:, keep]
        resp = sample_compact(policy, ids, att, max_new_tokens=max_new_tokens, stop=stop, pad_id=pad_id,
                              temperature=temperature, expand=n, generator=gen)
        yield ids.repeat_interleave(n, 0), att.repeat_interleave(n, 0), resp, L.response_mask(resp, stop)


@torch.no_grad()
def sample_n(policy, tokenizer, prompts: Sequence[str], n: int, *, max_new_tokens: int = 20,
             temperature: float = 1.0, seed: int = 0, batch_rows: int = 256) -> list[list[str]]:
    """n sampled replies per prompt (top_k=0, top_p=1), drawn in batches of up to batch_rows rows."""
    texts: list[str] = []
    for _, _, resp, mask in _sample_rows(policy, tokenizer, prompts, n, max_new_tokens=max_new_tokens,
                                         temperature=temperature, seed=seed, batch_rows=batch_rows):
        texts += decode_responses(tokenizer, resp, mask)
    return [texts[i * n:(i + 1) * n] for i in range(len(prompts))]


@torch.no_grad()
def score_replies(rm, rm_tokenizer, prompts: Sequence[str], replies: Sequence[Sequence[str]], *,
                  batch_rows: int = 64) -> list[list[float]]:
    """The reward model's score of every reply (replies[i] are prompt i's), the same numbers as
    reward.score gives for each (prompt, reply), computed with each prompt encoded once and the
    replies tokenised in one batched call: per-row encoding cost best-of-16 a third of its time.
    Rows run sorted by length, batch_rows at a time, so a batch pads to about its own length (in
    256-row batches of the unsorted rows most positions were padding)."""
    device = next(rm.parameters()).device
    rm.eval()
    q = {p: encode_prompt(rm_tokenizer, p, chat=True) for p in dict.fromkeys(prompts)}
    flat = [r for rs in replies for r in rs]
    enc = rm_tokenizer(flat, add_special_tokens=False, split_special_tokens=True)["input_ids"] if flat else []
    end, max_len = rm_tokenizer.convert_tokens_to_ids(END), rm.config.n_positions
    # As reward.encode_exchange: prompt, reply, <|end|>; a row too long keeps its end, which is scored.
    owner = [p for p, rs in zip(prompts, replies) for _ in rs]
    rows = [(q[p] + ids + [end])[-max_len:] for p, ids in zip(owner, enc)]
    order = sorted(range(len(rows)), key=lambda i: len(rows[i]))
    scores: list[float] = [0.0] * len(rows)
    for start in range(0, len(order), batch_rows):
        chunk = order[start:start + batch_rows]
        ids, att = pad_batch([rows[i] for i in chunk], rm_tokenizer.pad_token_id, "right")
        for i, v in zip(chunk, score_ids(rm, ids.to(device), att.to(device)).float().cpu().tolist()):
            scores[i] = v
    out, i = [], 0
    for rs in replies:
        out.append(scores[i:i + len(rs)])
        i += len(rs)
    return out


def best_of_n(policy, tokenizer, rm, rm_tokenizer, prompts: Sequence[Prompt | str], n: int, *,
              rater: Rater | None = None, max_new_tokens: int = 20, temperature: float = 1.0, seed: int = 0,
              candidates: list[list[str]] | None = None,
              candidate_scores: list[list[float]] | None = None) -> BestOfN:
    """Sample n replies per prompt from `policy`, keep the reward model's favourite.

    `prompts` are rater Prompts (then the rater, given or built from the world, scores the kept
    replies: the gold score) or plain strings (no gold score). Pass `candidates` (n replies per
    prompt, e.g. from one sample_n call with the largest n) to pick from replies already drawn: the
    best of the first n of 64 samples is a best-of-n sample, so one draw serves every n), and
    `candidate_scores` (their reward-model scores) to skip scoring them again.
    """
    texts = [p.text if isinstance(p, Prompt) else p for p in prompts]
    if candidates is None:
        candidates = sample_n(policy, tokenizer, texts, n, max_new_tokens=max_new_tokens,
                              temperature=temperature, seed=seed)
    cands = [c[:n] for c in candidates]
    if any(len(c) < n for c in cands):
        raise ValueError(f"best_of_n: fewer than n = {n} candidates for some prompt")
    if candidate_scores is None:
        scores = score_replies(rm, rm_tokenizer, texts, cands)
    else:
        scores = [list(s[:n]) for s in candidate_scores]
    best = [max(range(n), key=lambda j, s=s: s[j]) for s in scores]
    kept = [c[j] for c, j in zip(cands, best)]
    proxy = [s[j] for s, j in zip(scores, best)]
    gold: list = [None] * len(texts)
    if all(isinstance(p, Prompt) for p in prompts) and prompts:
        rater = rater or Rater(_world())
        gold = [rater.score(p, t) for p, t in zip(prompts, kept)]
    return BestOfN(texts, n, kept, proxy, gold, kl_best_of_n(n), cands, scores)


def sweep(policy, tokenizer, rm, rm_tokenizer, prompts: Sequence[Prompt], ns: Sequence[int] = (1, 2, 4, 8, 16, 32, 64),
          *, rater: Rater | None = None, seed: int = 0, max_new_tokens: int = 20) -> list[dict]:
    """One point per n on the shared axes, all from one draw of max(ns) replies per prompt."""
    texts = [p.text for p in prompts]
    top = max(ns)
    cands = sample_n(policy, tokenizer, texts, top, max_new_tokens=max_new_tokens, seed=seed)
    scores = score_replies(rm, rm_tokenizer, texts, cands)
    return [best_of_n(policy, tokenizer, rm, rm_tokenizer, prompts, n, rater=rater, candidates=cands,
                      candidate_scores=scores).summary() for n in ns]


# ----------------------------------------------------------------------------- the shared axes


@torch.no_grad()
def measure_policy(policy, ref, tokenizer, rm, rm_tokenizer, prompts: Sequence[Prompt], *, rater: Rater | None = None,
                   max_new_tokens: int = 20, seed: int = 0, batch_rows: int = 256) -> dict:
    """Where a trained policy (PPO, DPO, GRPO) lands on best-of-n's axes: one sampled reply per
    prompt, its KL to `ref` (the SFT model) measured, proxy (reward model) and gold (rater) scores.

    KL(pi || ref) per reply is estimated as the sum over its tokens of log pi - log ref (k1, summed:
    PPO's objective/kl), averaged over the prompts: unbiased, though one reply can give a negative
    value. With policy = ref, the same seed and the same batch_rows, the replies are exactly
    best_of_n's n = 1 sample, so that point and this one coincide at KL 0.
    """
    texts, kls = [], []
    for ids, att, resp, mask in _sample_rows(policy, tokenizer, [p.text for p in prompts], 1,
                                             max_new_tokens=max_new_tokens, temperature=1.0, seed=seed,
                                             batch_rows=batch_rows):
        full, full_att, ctx = torch.cat([ids, resp], 1), torch.cat([att, mask], 1), ids.shape[1]
        logp = [L.token_logprobs(m.lm_head(hidden_states(m.transformer, full, full_att)[:, ctx - 1:-1]).float(), resp)
                for m in (policy, ref)]
        kls += ((logp[0] - logp[1]) * mask).sum(1).tolist()
        texts += decode_responses(tokenizer, resp, mask)
    rater = rater or Rater(_world())
    proxy = [s[0] for s in score_replies(rm, rm_tokenizer, [p.text for p in prompts], [[t] for t in texts])]
    gold = [rater.score(p, t) for p, t in zip(prompts, texts)]
    kl = sum(kls) / max(1, len(kls))
    return {"kl": kl, "sqrt_kl": math.sqrt(max(kl, 0.0)), "proxy": sum(proxy) / max(1, len(proxy)),
            "gold": sum(gold) / max(1, len(gold)), "samples": [{"prompt": p.text, "response": t}
                                                              for p, t in list(zip(prompts, texts))[:4]],
            # Every reply with its own scores, for rates measured on the same replies (lab.methods).
            "replies": texts, "replies_proxy": proxy, "replies_gold": gold, "replies_kl": kls}


def _world():
    from .world import load_world
    return load_world()
