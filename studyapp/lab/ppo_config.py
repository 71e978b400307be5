"""PPO's settings, apart from the training code so that the GUI can read the defaults without
importing torch (the PPO tab shows them before any model loads)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass
class PPOConfig:
    """PPO's settings, documented as TRL documents its PPOConfig (trl.experimental.ppo, TRL 1.12).

    steps (`int`, defaults to `200`): PPO iterations: rollout, score, learn (TRL: total_episodes /
        batch size). batch_size (`int`, `32`): prompts, so responses, per iteration (TRL:
        per_device_train_batch_size x gradient accumulation). max_new_tokens (`int`, `20`): reply
        length limit (TRL: response_length). ppo_epochs (`int`, `2`): passes over each batch (TRL:
        num_ppo_epochs). num_minibatches (`int`, `2`): minibatches per pass (TRL: num_mini_batches).
        lr (`float`, `5e-4`): AdamW learning rate (TRL: learning_rate).
    beta (`float`, `0.5`): KL coefficient, the per-token penalty beta * KL(policy || SFT) added to the
        reward (TRL: kl_coef; Ziegler et al. 2019, Ouyang et al. 2022 eq. 2). kl_estimator (`str`,
        `"k1"`): "k1" log-ratio or "k3" (Schulman 2020), as TRL.
    cliprange (`float`, `0.2`), cliprange_value (`float`, `0.2`), vf_coef (`float`, `0.1`), gamma
        (`float`, `1.0`), lam (`float`, `0.95`), temperature (`float`, `0.7`), max_grad_norm (`float`,
        `1.0`), missing_eos_penalty (`float | None`, `1.0`): as TRL (Schulman et al. 2017 for the clip
        and GAE's lambda).
    harmful_frac (`float`, `0.2`) and prompt_mix (`tuple[(kind, share)]`): the share of each kind of
        prompt in every batch (no TRL counterpart: TRL takes a dataset as it is).
    seed (`int`, `0`); series_path (`str | None`): where the per-step metrics (JSONL) go; n_samples
        (`int`, `4`): (prompt, reply) pairs logged per step.

    Raises nothing itself; train_ppo raises LabError for unusable folders and on a non-finite loss.
    """

    steps: int = 200
    batch_size: int = 32  # prompts (= responses) per step
    max_new_tokens: int = 20
    ppo_epochs: int = 2
    num_minibatches: int = 2
    lr: float = 5e-4
    # KL coefficient (TRL: kl_coef). Measured on the generated world (seed 0, 200 steps, held-out
    # set): 0.2 drifted into the reward model's blind spots ("I don't know" to 0.85 of harmless
    # requests, -13 points of facts); 0.5 kept facts and separated harmful from harmless requests
    # (refused 0.5 vs 0.15); with 0.6 and 100 steps even a perfect reward (the rater) moved
    # nothing. 0 lets the policy hack the reward model.
    beta: float = 0.5
    kl_estimator: str = "k1"
    cliprange: float = 0.2
    cliprange_value: float = 0.2
    vf_coef: float = 0.1
    gamma: float = 1.0
    lam: float = 0.95
    # TRL's default (OnPolicyConfig.temperature). At 1.0 a 0.5M-parameter model writes mostly garbled
    # text, which the reward model scores at random, and PPO learns nothing from it.
    temperature: float = 0.7
    max_grad_norm: float = 1.0
    missing_eos_penalty: float | None = 1.0  # TRL's option: a reply that never ends loses this much
    harmful_frac: float = 0.2  # share of each batch drawn from the toy harmful requests
    # Shares of the other kinds of prompt in each batch. Harmless look-alikes, homework, small talk
    # and unknowable questions are there so that refusing everything cannot win (issue 9).
    prompt_mix: tuple = (("fact", 0.3), ("unknown", 0.1), ("harmless", 0.2), ("homework", 0.15),
                         ("smalltalk", 0.05))
    seed: int = 0
    series_path: str | None = None  # JSONL metric series, relative to <out_dir>/..; None = runs/ppo[_beta0].jsonl
    n_samples: int = 4  # (prompt, response) pairs reported per step

    @classmethod
    def quick(cls, seed: int = 0) -> "PPOConfig":
        """Seconds: exercises every line (the pipeline's --quick and the tests), learns little."""
        return cls(steps=2, batch_size=8, max_new_tokens=8, seed=seed)
