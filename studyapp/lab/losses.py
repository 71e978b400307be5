"""The RLHF formulas as small pure tensor functions: the Bradley-Terry loss, the pad/response
masks, the k1/k3 KL estimators, per-token rewards, GAE, whitening, and PPO's clipped policy and
value losses.

They follow TRL 1.12.0 (trl/experimental/ppo/ppo_trainer.py and trl/trainer/utils.py) formula by
formula, so a learner can read these lines and then TRL's. Every function here is checked against
numbers computed by hand in tests/lab/test_losses.py. Shapes: B = batch, T = response tokens.

One deliberate difference from TRL: TRL adds the score one position *after* the last real token
when there is room (its `sequence_lengths_p1`). We add it on the last real token itself, which is
the token the reward model actually judged, and mask values after it.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

# ----------------------------------------------------------------------------- reward model


def bradley_terry_loss(r_chosen: torch.Tensor, r_rejected: torch.Tensor) -> torch.Tensor:
    """-log P(chosen beats rejected) with P = sigmoid(r_chosen - r_rejected), averaged over pairs.

    Only the difference of the two rewards enters, so adding a constant to every reward changes
    nothing (claim 9). logsigmoid is the numerically safe form of log(sigmoid(x)).
    """
    return -F.logsigmoid(r_chosen - r_rejected).mean()


def bt_probability(r_a: torch.Tensor, r_b: torch.Tensor) -> torch.Tensor:
    """P(A beats B) under Bradley-Terry."""
    return torch.sigmoid(r_a - r_b)


# ----------------------------------------------------------------------------- masks and indices


def last_real_index(attention_mask: torch.Tensor) -> torch.Tensor:
    """Index of the last non-pad position in each row (left or right padding alike).

    The reward model's score is read there: the token after which the whole response is visible.
    A row with no real token gives 0.
    """
    positions = torch.arange(attention_mask.shape[-1], device=attention_mask.device)
    return (positions * attention_mask.long()).argmax(dim=-1)


def response_mask(responses: torch.Tensor, stop_id) -> torch.Tensor:
    """1 on the response tokens up to and including the first stop token, 0 after it.

    `stop_id` is one id or a list of ids. A response that never stops keeps every token.
    Everything after the stop token is padding for the losses, whatever the sampler wrote there.
    """
    stops = torch.as_tensor(stop_id, device=responses.device).reshape(-1)
    is_stop = torch.isin(responses, stops).long()
    # Number of stop tokens strictly before each position; 0 means we have not stopped yet.
    stops_before = torch.cumsum(is_stop, dim=1) - is_stop
    return (stops_before == 0).long()


def truncate_response(responses: torch.Tensor, stop_id, pad_id: int) -> torch.Tensor:
    """Replace every token after the first stop token by pad (TRL's truncate_response)."""
    return torch.where(response_mask(responses, stop_id).bool(), responses, torch.full_like(responses, pad_id))


def masked_mean(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    mask = mask.to(values.dtype)
    return (values * mask).sum() / mask.sum().clamp(min=1)


def masked_var(values: torch.Tensor, mask: torch.Tensor, unbiased: bool = True) -> torch.Tensor:
    mean = masked_mean(values, mask)
    var = masked_mean((values - mean) ** 2, mask)
    if unbiased:
        n = mask.sum()
        if n > 1:  # Bessel's correction, as TRL does
            var = var * n / (n - 1)
    return var


def masked_whiten(values: torch.Tensor, mask: torch.Tensor, shift_mean: bool = True) -> torch.Tensor:
    """(x - mean) / std over the masked entries; with shift_mean=False the mean is kept."""
    mean, var = masked_mean(values, mask), masked_var(values, mask)
    whitened = (values - mean) * torch.rsqrt(var + 1e-8)
    return whitened if shift_mean else whitened + mean


# ----------------------------------------------------------------------------- KL and rewards


def kl_estimate(logprobs: torch.Tensor, ref_logprobs: torch.Tensor, kind: str = "k1") -> torch.Tensor:
    """Per-token estimate of KL(policy || reference) from a token sampled by the policy.

    With logr = log p_ref(x) - log p_policy(x):
      k1 = -logr                 unbiased, can be negative on a single token
      k3 = exp(logr) - 1 - logr  unbiased too, never negative, lower variance
    (http://joschu.net/blog/kl-approx.html, TRL's kl_estimator).
    """
    logr = ref_logprobs - logprobs
    if kind == "k1":
        return -logr
    if kind == "k3":
        return torch.expm1(logr) - logr
    raise ValueError(f"kl estimator must be 'k1' or 'k3', got {kind!r}")


def per_token_rewards(scores: torch.Tensor, kl: torch.Tensor, mask: torch.Tensor, beta: float):
    """TRL's reward shaping: every token pays -beta * KL, the last real token also gets the score.

    Returns (rewards, non_score_reward), both (B, T) and zero on padding.
    """
    mask = mask.to(kl.dtype)
    non_score = -beta * kl * mask
    rewards = non_score.clone()
    last = last_real_index(mask)
    rewards[torch.arange(rewards.shape[0], device=rewards.device), last] += scores
    return rewards, non_score


def gae(rewards: torch.Tensor, values: torch.Tensor, mask: torch.Tensor,
        gamma: float = 1.0, lam: float = 0.95) -> tuple[torch.Tensor, torch.Tensor]:
    """Generalised advantage estimation, right to left, as TRL writes it.

    delta_t = r_t + gamma * V_{t+1} - V_t;  A_t = delta_t + gamma * lam * A_{t+1}.
    Values after the last real token are taken as 0 (the episode has ended). Returns
    (advantages, returns) with returns = advantages + values; both raw, not whitened.
    """
    mask = mask.to(values.dtype)
    values = values * mask
    T = rewards.shape[1]
    lastgaelam = torch.zeros_like(rewards[:, 0])
    advantages_reversed = []
    for t in reversed(range(T)):
        next_values = values[:, t + 1] if t < T - 1 else torch.zeros_like(values[:, 0])
        delta = rewards[:, t] + gamma * next_values - values[:, t]
        lastgaelam = delta + gamma * lam * lastgaelam
        advantages_reversed.append(lastgaelam)
    advantages = torch.stack(advantages_reversed[::-1], dim=1) * mask
    return advantages, advantages + values


# ----------------------------------------------------------------------------- PPO losses


def policy_loss(new_logprobs: torch.Tensor, old_logprobs: torch.Tensor, advantages: torch.Tensor,
                mask: torch.Tensor, cliprange: float = 0.2) -> tuple[torch.Tensor, dict]:
    """PPO's clipped surrogate: mean over real tokens of max(-A * r, -A * clip(r, 1-eps, 1+eps)).

    r = exp(new - old) is the probability ratio. Taking the max of the two *losses* (the min of the
    two objectives) removes any gain from pushing r outside [1-eps, 1+eps]: that is the clipping
    that keeps one update small (claim 10). Returns the loss and TRL's statistics.
    """
    logprobs_diff = new_logprobs - old_logprobs
    ratio = torch.exp(logprobs_diff)
    pg_losses = -advantages * ratio
    pg_losses2 = -advantages * torch.clamp(ratio, 1.0 - cliprange, 1.0 + cliprange)
    loss = masked_mean(torch.max(pg_losses, pg_losses2), mask)
    with torch.no_grad():
        stats = {
            "clipfrac": masked_mean((pg_losses2 > pg_losses).float(), mask),
            "approxkl": 0.5 * masked_mean(logprobs_diff ** 2, mask),
            "ratio": masked_mean(ratio, mask),
        }
    return loss, stats


def value_loss(vpred: torch.Tensor, old_values: torch.Tensor, returns: torch.Tensor,
               mask: torch.Tensor, cliprange_value: float = 0.2) -> tuple[torch.Tensor, dict]:
    """0.5 * mean over real tokens of max((V - R)^2, (V_clipped - R)^2), V_clipped kept within
    cliprange_value of the value seen at rollout time (TRL's vf_loss)."""
    vpred_clipped = torch.clamp(vpred, old_values - cliprange_value, old_values + cliprange_value)
    vf_losses1 = (vpred - returns) ** 2
    vf_losses2 = (vpred_clipped - returns) ** 2
    loss = 0.5 * masked_mean(torch.max(vf_losses1, vf_losses2), mask)
    with torch.no_grad():
        stats = {"clipfrac": masked_mean((vf_losses2 > vf_losses1).float(), mask)}
    return loss, stats


def entropy_from_logits(logits: torch.Tensor) -> torch.Tensor:
    """Entropy of each softmax distribution: logsumexp(z) - sum(p * z)."""
    p = torch.softmax(logits, dim=-1)
    return torch.logsumexp(logits, dim=-1) - (p * logits).sum(-1)


def token_logprobs(logits: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
    """log p(token) under each row of logits (TRL's selective_log_softmax)."""
    return torch.gather(logits.log_softmax(-1), -1, tokens.unsqueeze(-1)).squeeze(-1)
