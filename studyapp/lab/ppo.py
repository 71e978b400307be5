"""PPO with a KL penalty toward the SFT model (stage 3 of RLHF), in TRL's formulas and metric names.

    train_ppo(sft_dir, reward_dir, out_dir, PPOConfig()) -> dict

One step:
  1. rollout: sample a response to each prompt of a batch (top_k=0, top_p=1: the policy's own
     distribution, untruncated), stop at <|end|>;
  2. score: the reward model reads the last real token -> one score per response; the frozen SFT
     reference gives per-token log-probs, hence a per-token KL estimate (k1 or k3);
  3. rewards: -beta * KL on every token, plus the score on the last real token; GAE (gamma, lam)
     with the value head's estimates gives advantages, whitened over the batch;
  4. learn: a few epochs over minibatches of the clipped policy loss + vf_coef * clipped value loss.

`progress(metrics)` gets one dict per step with TRL's names (objective/kl, objective/scores,
objective/rlhf_reward, objective/non_score_reward, objective/entropy, policy/clipfrac_avg,
policy/approxkl_avg, loss/policy_avg, loss/value_avg, val/ratio, val/clipfrac_avg) plus the rater's
true score of the same responses (rater/score), the mean response length and a few samples. The
loop can be paused (`pause` event) and cancelled (`cancel` event) between steps.

The value head sits on the policy's own trunk (one forward pass gives both the log-probs and the
values); only the language model is saved, as a plain causal-LM folder. Forward passes use the lean
GPT-2 path of rollout.py: about 0.3 s per step (32 prompts x 20 tokens, 2 epochs x 2 minibatches)
on one CPU thread, 0.3x the time of TRL 1.12.0's PPOTrainer on the same models (bench/ppo_vs_trl.py).

Defaults were chosen by measurement on the lab's models (see the PPOConfig comments). What the
shipped runs do is measured, not promised here: models/report.md (held-out behaviour of the beta 0.5
run) and models/experiments/ (the beta sweep over 3 seeds: at beta 0 every seed collapses into a
repeated string the reward model over-rates while the rater's score falls).
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import asdict
from pathlib import Path

import torch
from torch import nn

from . import losses as L
from . import hf
from .common import (LabError, MetricSeries, ProgressFn, adamw, begin_stage, check_cancel, check_finite,
                     portable, under)
from .ppo_config import PPOConfig
from .modeling import count_params, load_causal_lm, model_card, save_checkpoint
from .preferences import rlhf_prompts
from .rater import Prompt, Rater, count_stock_phrase, harmful_prompt
from .reward import load_reward_model, score_ids
from .rollout import check_gpt2, decode_responses, encode_prompts, hidden_states, sample, sample_texts
from .tokenizer import END, encode_prompt, stop_ids
from .world import is_refusal, load_world


# ----------------------------------------------------------------------------- policy + value head


class PolicyWithValue(nn.Module):
    """The causal LM plus a scalar value head on its last hidden state (one trunk, two heads)."""

    def __init__(self, lm):
        super().__init__()
        self.lm = lm
        self.v_head = nn.Linear(lm.config.n_embd, 1)
        nn.init.zeros_(self.v_head.weight)
        nn.init.zeros_(self.v_head.bias)

    def forward(self, input_ids, attention_mask, context_length: int):
        """Logits and values for the response positions only: position t predicts response token t."""
        h = hidden_states(self.lm.transformer, input_ids, attention_mask)[:, context_length - 1:-1]
        return self.lm.lm_head(h).float(), self.v_head(h).squeeze(-1).float()


@torch.no_grad()
def ref_logprobs_of(ref, input_ids, attention_mask, responses, context_length, temperature):
    hidden = hidden_states(ref.transformer, input_ids, attention_mask)
    logits = ref.lm_head(hidden[:, context_length - 1:-1]).float() / (temperature + 1e-7)
    return L.token_logprobs(logits, responses)


# ----------------------------------------------------------------------------- the loop


class _Batches:
    """Endless seeded batches of prompts, each kind of prompt with a fixed share of every batch
    (cfg.prompt_mix, the harmful share from cfg.harmful_frac); harmful requests come last."""

    def __init__(self, prompts: list[Prompt], batch_size: int, harmful_frac: float, seed: int,
                 mix: tuple = ()):
        self.rng = random.Random(seed)
        self.pools: dict[str, list[Prompt]] = {}
        for p in prompts:
            self.pools.setdefault(p.kind, []).append(p)
        shares = {k: v for k, v in (mix or (("fact", 1.0),)) if k in self.pools and k != "harmful"}
        if "harmful" in self.pools:
            shares["harmful"] = harmful_frac
        total = sum(shares.values()) or 1.0
        counts = {k: int(batch_size * v / total) for k, v in shares.items()}
        # The rounding remainder goes to the kinds in order of their share.
        for k in sorted(shares, key=lambda k: -shares[k])[: batch_size - sum(counts.values())]:
            counts[k] += 1
        self.counts = {k: n for k, n in counts.items() if n > 0}

    def next(self) -> list[Prompt]:
        out: list[Prompt] = []
        for kind in sorted(self.counts, key=lambda k: k == "harmful"):
            out += [self.rng.choice(self.pools[kind]) for _ in range(self.counts[kind])]
        return out


def fitting_prompts(prompts: list[Prompt], tokenizer, max_tokens: int) -> list[Prompt]:
    """The prompts whose chat-formatted encoding has at most `max_tokens` tokens.

    A rollout is the prompt, up to max_new_tokens of reply and the <|end|> the reward model reads,
    all inside the model's context (n_positions); a longer prompt would run past the position
    table (IndexError in the embedding). Raises LabError if no prompt fits.
    """
    keep = [p for p in prompts if len(encode_prompt(tokenizer, p.text, chat=True)) <= max_tokens]
    if not keep:
        raise LabError(f"PPO: no prompt fits in {max_tokens} tokens; lower max_new_tokens")
    return keep


def _series_path(cfg: PPOConfig, out_dir: Path) -> Path:
    """cfg.series_path (relative to the output folder's parent, or absolute), else
    runs/ppo[_beta0].jsonl beside the output folder (models/runs/ for the shipped models/rlhf; a run
    from the app writes next to its own output, never over ours)."""
    if cfg.series_path:
        return under(out_dir.parent, cfg.series_path)
    return out_dir.parent / "runs" / ("ppo_beta0.jsonl" if cfg.beta == 0 else "ppo.jsonl")


def train_ppo(sft_dir, reward_dir, out_dir, cfg: PPOConfig | None = None, *, progress: ProgressFn | None = None,
              cancel: threading.Event | None = None, pause: threading.Event | None = None, world=None) -> dict:
    """Optimise the SFT policy against the reward model; save the policy to out_dir, return a summary."""
    cfg = cfg or PPOConfig()
    report, timer, device = begin_stage(progress, cfg.seed)
    world = world or load_world()

    lm, tokenizer = load_causal_lm(sft_dir, device)
    check_gpt2(lm)
    ref, _ = load_causal_lm(sft_dir, device)  # frozen copy: the anchor of the KL penalty
    ref.requires_grad_(False)
    rm, _ = load_reward_model(reward_dir, device)
    rm.requires_grad_(False)
    with hf.building():   # its value head is a new module: see hf.py
        policy = PolicyWithValue(lm).to(device)
    opt = adamw(policy.parameters(), lr=cfg.lr, eps=1e-5)
    rater = Rater(world)
    stop, pad_id = stop_ids(tokenizer), tokenizer.pad_token_id
    gen = torch.Generator(device=device).manual_seed(cfg.seed)
    batches = _Batches(fitting_prompts(rlhf_prompts(world, seed=cfg.seed), tokenizer,
                                       lm.config.n_positions - cfg.max_new_tokens - 1),
                       cfg.batch_size, cfg.harmful_frac, cfg.seed, cfg.prompt_mix)
    mb_size = max(1, cfg.batch_size // cfg.num_minibatches)

    series_path = _series_path(cfg, Path(out_dir))
    step_times = []
    with MetricSeries(series_path) as log:
        for step in range(1, cfg.steps + 1):
            while pause is not None and pause.is_set():
                check_cancel(cancel)
                time.sleep(0.05)
            check_cancel(cancel)
            t0 = time.perf_counter()
            metrics, samples = _ppo_step(policy, ref, rm, tokenizer, rater, batches.next(), opt, cfg, stop, pad_id,
                                         gen, mb_size, step, device)
            step_times.append(time.perf_counter() - t0)
            metrics.update(stage="ppo", step=step, total=cfg.steps, seconds_per_step=step_times[-1])
            log.add(metrics, samples)
            report({**metrics, "samples": samples})
    series, last_samples = log.rows, log.last_samples

    check_cancel(cancel)
    lm.eval()
    result = _summarise(series, step_times, cfg)
    result.update(evaluate_policy(lm, tokenizer, world))
    result.update(params_policy=count_params(lm), seconds=round(timer.elapsed(), 2),
                  series=portable(series_path, Path(out_dir).parent),
                  samples_end=last_samples)
    card = model_card(
        f"RLHF policy (PPO, beta = {cfg.beta})",
        command=f"studyapp lab train --stages ppo --seed {cfg.seed}", seed=cfg.seed,
        figures={k: v for k, v in result.items() if isinstance(v, (int, float, str)) and k != "series"},
        notes=("The SFT model optimised with PPO against the lab's reward model, with a per-token "
               f"{cfg.kl_estimator} KL penalty (beta = {cfg.beta}) toward the frozen SFT model. "
               "The value head used in training is not saved."))
    save_checkpoint(lm.cpu(), tokenizer, out_dir, card=card,
                    meta={"stage": "ppo", "config": asdict(cfg), "result": result})
    report({"stage": "ppo", "step": cfg.steps, "total": cfg.steps, "done": True, **result})
    return result


def _ppo_step(policy, ref, rm, tokenizer, rater, prompts, opt, cfg, stop, pad_id, gen, mb_size, step, device):
    lm = policy.lm
    # ---- 1. rollout
    lm.eval()
    q_ids, q_att = encode_prompts(tokenizer, [p.text for p in prompts], device)
    ctx = q_ids.shape[1]
    responses = sample(lm, q_ids, q_att, max_new_tokens=cfg.max_new_tokens, stop=stop, pad_id=pad_id,
                       temperature=cfg.temperature, generator=gen)
    mask = L.response_mask(responses, stop)
    responses = torch.where(mask.bool(), responses, torch.full_like(responses, pad_id))
    qr_ids = torch.cat([q_ids, responses], 1)
    qr_att = torch.cat([q_att, mask], 1)

    # ---- 2. score, reference log-probs, old log-probs and values
    with torch.no_grad():
        logits, values = policy(qr_ids, qr_att, ctx)
        logprobs = L.token_logprobs(logits / (cfg.temperature + 1e-7), responses)
        ref_logprobs = ref_logprobs_of(ref, qr_ids, qr_att, responses, ctx, cfg.temperature)
        # The reward model was trained on finished replies; a reply cut off by the length limit
        # is shown to it closed with <|end|> (one extra column), so it judges the words, not a
        # half-written position it has never seen. TRL's missing_eos_penalty then applies.
        ended = (responses.unsqueeze(-1) == torch.tensor(stop, device=device)).any(-1).any(-1)
        end_id = tokenizer.convert_tokens_to_ids(END)
        end_col = torch.where(ended, pad_id, end_id).long()
        rm_ids = torch.cat([qr_ids, end_col[:, None]], 1)
        rm_att = torch.cat([qr_att, (~ended).long()[:, None]], 1)
        scores = score_ids(rm, rm_ids, rm_att).float()
        if cfg.missing_eos_penalty is not None:
            scores = scores - cfg.missing_eos_penalty * (~ended).float()

        # ---- 3. rewards, advantages
        kl = L.kl_estimate(logprobs, ref_logprobs, cfg.kl_estimator) * mask
        rewards, non_score = L.per_token_rewards(scores, kl, mask, cfg.beta)
        values = values * mask
        advantages, returns = L.gae(rewards, values, mask, cfg.gamma, cfg.lam)
        advantages = L.masked_whiten(advantages, mask) * mask

    # ---- 4. learn
    lm.train()
    stats = {k: [] for k in ("approxkl", "clipfrac", "pg_loss", "vf_loss", "vf_clipfrac", "entropy", "ratio")}
    B = qr_ids.shape[0]
    for _ in range(cfg.ppo_epochs):
        perm = torch.randperm(B, generator=gen if gen.device.type == "cpu" else None).to(device)
        for start in range(0, B, mb_size):
            idx = perm[start:start + mb_size]
            new_logits, vpred = policy(qr_ids[idx], qr_att[idx], ctx)
            new_logits = new_logits / (cfg.temperature + 1e-7)
            new_logprobs = L.token_logprobs(new_logits, responses[idx])
            m = mask[idx]
            pg_loss, pst = L.policy_loss(new_logprobs, logprobs[idx], advantages[idx], m, cfg.cliprange)
            vf_loss, vst = L.value_loss(vpred * m, values[idx], returns[idx], m, cfg.cliprange_value)
            loss = pg_loss + cfg.vf_coef * vf_loss
            check_finite(loss, "ppo", step)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(policy.parameters(), cfg.max_grad_norm)
            opt.step()
            with torch.no_grad():
                stats["approxkl"].append(pst["approxkl"])
                stats["clipfrac"].append(pst["clipfrac"])
                stats["ratio"].append(pst["ratio"])
                stats["pg_loss"].append(pg_loss.detach())
                stats["vf_loss"].append(vf_loss.detach())
                stats["vf_clipfrac"].append(vst["clipfrac"])
                stats["entropy"].append(L.masked_mean(L.entropy_from_logits(new_logits), m))

    # ---- 5. metrics, in TRL's names, plus what the rater (the "human") thinks of the same replies
    texts = decode_responses(tokenizer, responses, mask)
    judged = [rater.rate(p, t) for p, t in zip(prompts, texts)]
    avg = lambda xs: torch.stack(xs).mean().item()  # noqa: E731
    mean_kl, mean_non_score = kl.sum(1).mean().item(), non_score.sum(1).mean().item()
    ratios = torch.stack(stats["ratio"])
    metrics = {
        "objective/kl": mean_kl,
        "objective/entropy": (-(logprobs * mask)).sum(1).mean().item(),
        "objective/non_score_reward": mean_non_score,
        "objective/rlhf_reward": mean_non_score + scores.mean().item(),
        "objective/scores": scores.mean().item(),
        "policy/approxkl_avg": avg(stats["approxkl"]),
        "policy/clipfrac_avg": avg(stats["clipfrac"]),
        "policy/entropy_avg": avg(stats["entropy"]),
        "loss/policy_avg": avg(stats["pg_loss"]),
        "loss/value_avg": avg(stats["vf_loss"]),
        "val/clipfrac_avg": avg(stats["vf_clipfrac"]),
        "val/ratio": ratios.mean().item(),
        "val/ratio_var": ratios.var().item() if len(ratios) > 1 else 0.0,
        "val/num_eos_tokens": int(ended.sum().item()),
        "rater/score": sum(j.total for j in judged) / len(judged),
        "rater/helpful": sum(j.helpful for j in judged) / len(judged),
        "rater/harmless": sum(j.harmless for j in judged) / len(judged),
        "response/length": mask.sum(1).float().mean().item(),
        "response/stock_phrase": sum(count_stock_phrase(t) for t in texts) / len(texts),
        "response/refusal_rate_harmful": _rate([is_refusal(t) for p, t in zip(prompts, texts) if p.kind == "harmful"]),
        "response/refusal_rate_harmless": _rate([is_refusal(t) for p, t in zip(prompts, texts)
                                                 if p.kind in ("harmless", "smalltalk", "homework", "fact")]),
    }
    # Always show one harmful request among the samples: that is where RLHF changes most.
    picks = list(range(min(cfg.n_samples - 1, len(prompts)))) + [len(prompts) - 1]
    samples = [{"prompt": prompts[i].text, "response": texts[i], "score": round(scores[i].item(), 3),
                "rater": round(judged[i].total, 3)} for i in sorted(set(picks))]
    return metrics, samples


def _rate(flags: list[bool]) -> float:
    return sum(flags) / len(flags) if flags else 0.0


def _summarise(series: list[dict], step_times: list[float], cfg: PPOConfig) -> dict:
    """First/last figures of the run (the last tenth averaged): what claims 10-12 quote."""
    if not series:
        return {}
    k = max(1, len(series) // 10)
    first, last = series[:k], series[-k:]
    mean = lambda rows, key: sum(r[key] for r in rows) / len(rows)  # noqa: E731
    keys = ("objective/kl", "objective/scores", "rater/score", "policy/clipfrac_avg", "val/ratio",
            "response/length", "response/stock_phrase")
    out = {"beta": cfg.beta, "kl_estimator": cfg.kl_estimator, "steps": len(series),
           "seconds_per_step": round(sorted(step_times)[len(step_times) // 2], 4),
           "clipfrac_max": max(r["policy/clipfrac_avg"] for r in series),
           "ratio_min": min(r["val/ratio"] for r in series), "ratio_max": max(r["val/ratio"] for r in series)}
    for key in keys:
        name = key.split("/")[1]
        out[f"{name}_start"], out[f"{name}_end"] = round(mean(first, key), 4), round(mean(last, key), 4)
    return out


# ----------------------------------------------------------------------------- evaluation for the report


@torch.no_grad()
def evaluate_policy(lm, tokenizer, world, *, max_new_tokens: int = 20) -> dict:
    """Greedy replies, in batches: the refusal rate on held-out harmful requests (claim 13) and the
    accuracy on fact questions per split (does RLHF keep what SFT could do?)."""
    heldout = world.harmful_split("heldout")
    facts = [f for f in world.facts if f.split in ("sft", "pretrain")]
    texts = sample_texts(lm, tokenizer, [h.request for h in heldout] + [f.question for f in facts],
                         max_new_tokens=max_new_tokens, greedy=True)
    harm_txt, fact_txt = texts[:len(heldout)], texts[len(heldout):]
    rater = Rater(world)
    correct = [rater.rate(Prompt(f.question, "fact", fact=f), t).helpful == 1.0 for f, t in zip(facts, fact_txt)]
    split_acc = {s: _rate([c for f, c in zip(facts, correct) if f.split == s]) for s in ("sft", "pretrain")}
    rate = [rater.score(harmful_prompt(h), t) for h, t in zip(heldout, harm_txt)]
    return {
        "refusal_heldout_harmful": _rate([is_refusal(t) for t in harm_txt]),
        "accuracy_facts": _rate(correct),
        "accuracy_sft_facts": split_acc["sft"], "accuracy_pretrain_facts": split_acc["pretrain"],
        "rater_heldout_harmful": sum(rate) / max(1, len(rate)),
        "examples_heldout_harmful": [{"prompt": h.request, "response": t} for h, t in list(zip(heldout, harm_txt))[:4]],
        "examples_facts": [{"prompt": f.question, "response": t} for f, t in list(zip(facts, fact_txt))[:4]],
    }


def evaluate_pair(sft_dir, rlhf_dir, world=None) -> dict:
    """The same measurements on the SFT model and an RLHF model, side by side (claims 6, 13)."""
    world = world or load_world()
    out = {}
    for name, folder in (("sft", sft_dir), ("rlhf", rlhf_dir)):
        lm, tok = load_causal_lm(folder)
        out[name] = evaluate_policy(lm, tok, world)
    return out


def hacking_summary(default_run: dict, beta0_run: dict) -> dict:
    """Claims 11 and 12 from two train_ppo results: KL and the two scores, default beta vs beta = 0."""
    kl_d, kl_0 = default_run.get("kl_end", 0.0), beta0_run.get("kl_end", 0.0)
    return {
        "beta_default": default_run.get("beta"), "kl_default": kl_d, "kl_beta0": kl_0,
        "kl_ratio": kl_0 / kl_d if kl_d > 0 else float("inf"),
        "rm_score_beta0": (beta0_run.get("scores_start"), beta0_run.get("scores_end")),
        "rater_score_beta0": (beta0_run.get("score_start"), beta0_run.get("score_end")),
        "rm_score_default": (default_run.get("scores_start"), default_run.get("scores_end")),
        "rater_score_default": (default_run.get("score_start"), default_run.get("score_end")),
        "stock_phrase_beta0": beta0_run.get("stock_phrase_end"),
        "samples_beta0": beta0_run.get("samples_end", []),
        "hacked": (beta0_run.get("scores_end", 0) > beta0_run.get("scores_start", 0)
                   and beta0_run.get("score_end", 0) < beta0_run.get("score_start", 0)),
    }
