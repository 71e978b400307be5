"""Stage 2 of the RLHF tab and the reward-model playground without a screen: scores, the
Bradley-Terry probability, and fine-tuning the reward model on the learner's pairs.

    bt_probability(r_a, r_b, shift)                             -> claim 9, in plain floats
    reward_scores(reward_dir, prompts, responses)               -> the reward model's numbers
    finetune_reward(reward_dir, pairs, out_dir)                 -> accuracy before/after, BT probs

The fine-tuning loop is the lab's one Bradley-Terry loop (reward.fit_bradley_terry, then
reward.rescale_rewards to standard deviation 1) run on other data.
"""

from __future__ import annotations

import json
import math
import random
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from . import engine
from .common import LabError, Timer, as_progress, check_cancel, limit_threads
from .preferences import Pair
from .ranking import LEARNER, rater_agreement
from .world import load_world


def bt_probability(r_a: float, r_b: float, shift: float = 0.0) -> float:
    """P(A beats B) = sigmoid((r_a + shift) - (r_b + shift)). The shift cancels: claim 9."""
    d = (r_a + shift) - (r_b + shift)
    return 1.0 / (1.0 + math.exp(-d)) if d >= 0 else math.exp(d) / (1.0 + math.exp(d))


def reward_scores(reward_dir, prompts: Sequence[str], responses: Sequence[str]) -> list[float]:
    """The reward model's score of each (prompt, response), from the engine's cached copy."""
    from .reward import score

    limit_threads()
    rm = engine.load(reward_dir, "sequence-classification", device="cpu")
    return score(rm.model, rm.tokenizer, list(prompts), list(responses))


def param_counts(reward_dir, policy_dir) -> dict:
    """Claim 8: the reward model's size next to the policy's (tied embeddings counted once)."""
    rm = engine.load(reward_dir, "sequence-classification", device="cpu")
    policy = engine.load(policy_dir, device="cpu")
    return {"reward": rm.params, "policy": policy.params,
            "reward_layers": rm.model.config.n_layer, "policy_layers": policy.model.config.n_layer}


def ppo_summary(models_dir) -> dict | None:
    """A few figures of the PPO run that made the shipped RLHF model (from its lab.json), or None."""
    path = Path(models_dir) / "rlhf" / "lab.json"
    try:
        result = json.loads(path.read_text(encoding="utf-8")).get("result", {})
    except (OSError, ValueError, AttributeError):
        return None
    keys = ("steps", "beta", "scores_start", "scores_end", "kl_start", "kl_end", "seconds")
    out = {k: result[k] for k in keys if isinstance(result.get(k), (int, float))}
    return out or None


def read_pairs(reward_dir) -> dict[str, list[Pair]]:
    """The pairs a reward model was trained on, by split (train, heldout, unseen, learner)."""
    path = Path(reward_dir) / "preferences.jsonl"
    if not path.exists():
        raise LabError(f"{reward_dir}: preferences.jsonl is missing, so there is no data to train on; "
                       "retrain the reward model with `studyapp lab train`")
    out: dict[str, list[Pair]] = {"train": [], "heldout": [], "unseen": [], LEARNER: []}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            p = Pair(**json.loads(line))
            out.setdefault(p.split, []).append(p)
    return out


@dataclass
class FinetuneConfig:
    epochs: int = 1
    lr: float = 3e-4  # a third of the lab's: a short top-up, not a new model
    batch_pairs: int = 32
    learner_weight: int = 8  # each of the learner's pairs counts this many times per epoch
    fresh: bool = False  # start from the SFT model's first layers with a zero head instead
    max_shipped: int | None = None  # train on a random sample of this many shipped pairs (quicker)
    seed: int = 0


def _evaluate(rm, tokenizer, pairs: Sequence[Pair]) -> tuple[float, list[float]]:
    """Accuracy (a tie counts half: a model with no opinion is at chance, not at 0%) and P(chosen)."""
    import torch

    from .reward import pair_rewards

    if not pairs:
        return float("nan"), []
    rm.eval()
    rc, rr = pair_rewards(rm, tokenizer, list(pairs))
    acc = ((rc > rr).float() + 0.5 * (rc == rr).float()).mean().item()
    return acc, torch.sigmoid(rc - rr).tolist()


def finetune_reward(reward_dir, learner_pairs: Sequence[Pair], out_dir, cfg: FinetuneConfig | None = None, *,
                    sft_dir=None, progress=None, cancel: threading.Event | None = None) -> dict:
    """Train the reward model on the shipped pairs plus the learner's, measure it before and after,
    save it to out_dir (atomically: a cancel or a failure leaves the previous model in place).

    Accuracy is measured on the shipped held-out comparisons (pairs never trained on) and, when the
    folder has them, on its "unseen" pairs (prompts never trained on at all).

    The loop is train_reward's own: reward.fit_bradley_terry, then reward.rescale_rewards.
    """
    import torch

    from .modeling import count_params, model_card, save_checkpoint
    from .reward import build_reward_model, fit_bradley_terry, load_reward_model, rescale_rewards

    cfg = cfg or FinetuneConfig()
    report = as_progress(progress)
    timer = Timer()
    limit_threads()
    torch.manual_seed(cfg.seed)
    data = read_pairs(reward_dir)
    learner_pairs = list(learner_pairs)
    old_learner = data.get(LEARNER, [])
    if cfg.fresh:
        if sft_dir is None:
            raise LabError("a fresh reward model needs the SFT model folder")
        sft = engine.load(sft_dir, device="cpu")
        rm, tokenizer = build_reward_model(sft.model), sft.tokenizer
    else:
        rm, tokenizer = load_reward_model(reward_dir, "cpu")  # a private copy: the cached one stays in use
    rm.to("cpu")   # a fresh model copies the cached SFT model's first layers; training never touches those

    held_before, _ = _evaluate(rm, tokenizer, data["heldout"])
    unseen_before, _ = _evaluate(rm, tokenizer, data.get("unseen", []))
    mine_before, p_before = _evaluate(rm, tokenizer, learner_pairs)
    rng = random.Random(cfg.seed)
    shipped = list(data["train"])
    if cfg.max_shipped is not None and len(shipped) > cfg.max_shipped:
        shipped = rng.sample(shipped, cfg.max_shipped)
    train = shipped + old_learner + learner_pairs * max(1, cfg.learner_weight)
    if not train:
        raise LabError("there are no pairs to train on")
    opt = torch.optim.AdamW(rm.parameters(), lr=(1e-3 if cfg.fresh else cfg.lr))
    report({"stage": "reward", "step": 0, "total": cfg.epochs * math.ceil(len(train) / cfg.batch_pairs),
            "held_before": held_before})
    steps = fit_bradley_terry(rm, tokenizer, train, opt, epochs=cfg.epochs, batch_pairs=cfg.batch_pairs,
                              rng=rng, progress=report, cancel=cancel)
    step, history = len(steps), [h["loss"] for h in steps]
    # Rewards with standard deviation 1 over the training answers, as the lab's train_reward leaves
    # them, so a learner's model means the same beta as the shipped one.
    rescale_rewards(rm, tokenizer, train)
    held_after, _ = _evaluate(rm, tokenizer, data["heldout"])
    unseen_after, _ = _evaluate(rm, tokenizer, data.get("unseen", []))
    mine_after, p_after = _evaluate(rm, tokenizer, learner_pairs)
    result = {
        "heldout_before": held_before, "heldout_after": held_after, "n_heldout": len(data["heldout"]),
        "unseen_before": unseen_before, "unseen_after": unseen_after, "n_unseen": len(data.get("unseen", [])),
        "mine_before": mine_before, "mine_after": mine_after, "n_mine": len(learner_pairs),
        "n_shipped": len(shipped), "n_earlier_mine": len(old_learner), "learner_weight": cfg.learner_weight,
        "steps": step, "loss": history, "fresh": cfg.fresh, "params_reward": count_params(rm),
        "rater_agreement": rater_agreement(load_world(), learner_pairs),
        "pairs": [dict(prompt=p.prompt, chosen=p.chosen, rejected=p.rejected, p_before=a, p_after=b)
                  for p, a, b in zip(learner_pairs, p_before, p_after)],
    }
    check_cancel(cancel)  # the last moment a cancel can still keep the previous model
    # Every pair of the folder is kept, whatever its split (the held-out set too), plus the new ones.
    every = [p for split in data.values() for p in split] + learner_pairs
    card = model_card("Reward model (Bradley-Terry), fine-tuned on your rankings",
                      command="the RLHF pipeline tab of studyapp, stage 2", seed=cfg.seed,
                      figures={k: v for k, v in result.items() if isinstance(v, (int, float))},
                      notes=f"Trained from {reward_dir} on its pairs plus {len(learner_pairs)} of the learner's.")
    save_checkpoint(rm.eval(), tokenizer, out_dir, card=card,
                    meta={"stage": "reward", "finetune": vars(cfg), "result": result},
                    extra_files={"preferences.jsonl": "".join(json.dumps(p.as_dict()) + "\n" for p in every)})
    result.update(seconds=round(timer.elapsed(), 2), out_dir=str(out_dir))
    return result
