"""Direct Preference Optimisation (DPO): the policy learns from the preference pairs themselves,
with no reward model and no sampling (Rafailov et al. 2023, https://arxiv.org/abs/2305.18290).

    train_dpo(sft_dir, reward_dir_or_pairs, out_dir, DPOConfig()) -> dict   # seconds on the CPU

Why it works, in four lines. PPO maximises E[r(x, y)] - beta * KL(pi || pi_ref). That objective's
optimum has a closed form, pi*(y|x) = pi_ref(y|x) exp(r(x, y) / beta) / Z(x), with Z(x) summing
over all replies to x. Solved for the reward: r(x, y) = beta log(pi*(y|x) / pi_ref(y|x)) + beta log Z(x).
Put into Bradley-Terry, P(y_w beats y_l) = sigmoid(r(x, y_w) - r(x, y_l)), the per-prompt constant
beta log Z(x) cancels (claim 9 doing real work: only differences of rewards matter), leaving a loss
in the policy's own log-probs:

    L = -log sigmoid(beta * [(log pi(y_w) - log pi_ref(y_w)) - (log pi(y_l) - log pi_ref(y_l))])

So the policy *is* a reward model: its implicit reward beta * log(pi / pi_ref) ranks the held-out
pairs, and we report that pair accuracy beside the reward model's. The reference (the SFT model) is
frozen; its log-probs of every pair are computed once before training (TRL's
`precompute_ref_log_probs`), so an epoch costs one forward and backward pass of the policy per batch.

Names and metrics follow TRL's DPOTrainer (trl/trainer/dpo_trainer.py, loss_type="sigmoid"):
rewards/chosen, rewards/rejected, rewards/accuracies, rewards/margins, logps/chosen, logps/rejected.
"""

from __future__ import annotations

import copy
import random
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Sequence

import torch
import torch.nn.functional as F

from . import losses as L
from .common import (LabError, ProgressFn, Timer, adamw, begin_stage, check_cancel, check_finite, write_run_log)
from .modeling import count_params, load_causal_lm, model_card, save_checkpoint
from .preferences import Pair, PreferenceData, pair_accuracy_by_kind
from .pretrain import fused_gelu
from .rollout import check_gpt2, hidden_states
from .tokenizer import END, encode, encode_prompt, pad_batch


@dataclass
class DPOConfig:
    """DPO's settings, documented as TRL documents DPOConfig (trl/trainer/dpo_config.py).

    beta (`float`, defaults to `0.1`):
        The only knob of the method: the KL coefficient of the objective DPO solves in closed form.
        Higher beta keeps the policy nearer the reference (the SFT model); the implicit reward is
        beta * log(pi / pi_ref). TRL's default; Rafailov et al. 2023 use 0.1 to 0.5.
    lr (`float`, defaults to `1e-4`):
        AdamW's learning rate. TRL's default is 1e-6 for billion-parameter models; the lab's 0.5M
        model was fine-tuned at 1e-3 (SFT), and a tenth of that moves it without wrecking it.
    epochs (`int`, defaults to `1`):
        Passes over the training pairs (TRL: num_train_epochs). The issue-9 reward model's data
        holds ~4,300 training pairs; one pass over them is about as many pair-steps as the three
        passes over the first version's 1,374 that were measured below.
    batch_pairs (`int`, defaults to `64`):
        Pairs per optimiser step; chosen and rejected replies go through the model in one batch of
        2 * batch_pairs rows, as TRL's concatenated forward does (TRL: per_device_train_batch_size).
    max_grad_norm (`float`, defaults to `1.0`):
        Gradients are clipped to this norm (TRL: max_grad_norm).
    seed (`int`, defaults to `0`):
        Seeds the shuffling of the pairs and torch.
    """

    # The first version (3 epochs over the 1,374 pairs of the first preference recipe) is history.
    # Shipped now (models/methods, seed 0, one pass over the 4,342 training pairs, 68 steps): the
    # implicit reward ranks 0.771 of the held-out pairs at beta 0.1 and 0.810 at beta 0.5 (the reward
    # model: 0.855 of the same pairs), 0.776 / 0.827 of the unseen-prompt pairs (reward model 0.795)
    # and 0.903 / 0.860 of the held-out set's pairs (reward model 0.672). One seed, no sweep.
    beta: float = 0.1
    lr: float = 1e-4
    # Three passes over the ~4,300 pairs of the issue-9 recipe took 154-203 s inside `lab methods`
    # on the shared box (target: under 60 s); one pass is the same number of pair-steps as above.
    # One pass, the whole train_dpo call (reference pass over all 15,832 rows, loop, held-out pass,
    # save; bench/dpo_speed.py): 116.6 s of CPU before the reply-only, length-sorted chunks, 46.7 s
    # after (1 thread; wall 769 s and 140 s at load averages of 11-17 from other sessions). Again on
    # 2026-11-30 at 14:43 UTC, median of 3: 42.5 s CPU, 50.6 s wall at load 2.4-3.2 (= 107 PPO steps
    # of 0.475 s; the shipped PPO run has 200).
    epochs: int = 1
    batch_pairs: int = 64
    max_grad_norm: float = 1.0
    seed: int = 0

    @classmethod
    def quick(cls, seed: int = 0) -> "DPOConfig":
        """Seconds: exercises every line (tests), learns little."""
        return cls(epochs=1, batch_pairs=8, seed=seed)


# ----------------------------------------------------------------------------- the loss


def dpo_loss(policy_chosen_logps: torch.Tensor, policy_rejected_logps: torch.Tensor,
             ref_chosen_logps: torch.Tensor, ref_rejected_logps: torch.Tensor,
             beta: float) -> tuple[torch.Tensor, dict]:
    """The DPO loss (Rafailov et al. 2023, eq. 7; TRL's loss_type="sigmoid") and TRL's metrics.

    Each argument has shape (B,): the summed log-probability of a whole reply (response tokens only)
    under the policy or the frozen reference. With the implicit rewards

        chosen_rewards   = beta * (policy_chosen_logps   - ref_chosen_logps)
        rejected_rewards = beta * (policy_rejected_logps - ref_rejected_logps)

    the loss is mean over pairs of -log sigmoid(chosen_rewards - rejected_rewards): Bradley-Terry's
    loss with the policy's implicit reward in place of the reward model's. Returns (loss, metrics)
    with metrics as floats under TRL's names: rewards/chosen, rewards/rejected, rewards/accuracies
    (share of pairs whose chosen reward is higher), rewards/margins, logps/chosen, logps/rejected.
    """
    chosen_logratios = policy_chosen_logps - ref_chosen_logps
    rejected_logratios = policy_rejected_logps - ref_rejected_logps
    loss = -F.logsigmoid(beta * (chosen_logratios - rejected_logratios)).mean()
    with torch.no_grad():
        chosen_rewards = beta * chosen_logratios.detach()
        rejected_rewards = beta * rejected_logratios.detach()
        metrics = {
            "rewards/chosen": chosen_rewards.mean().item(),
            "rewards/rejected": rejected_rewards.mean().item(),
            "rewards/accuracies": (chosen_rewards > rejected_rewards).float().mean().item(),
            "rewards/margins": (chosen_rewards - rejected_rewards).mean().item(),
            "logps/chosen": policy_chosen_logps.detach().mean().item(),
            "logps/rejected": policy_rejected_logps.detach().mean().item(),
        }
    return loss, metrics


# ----------------------------------------------------------------------------- log-probs of replies


def _encode_reply(tokenizer, prompt: str, response: str, max_len: int) -> tuple[list[int], list[int]]:
    """Ids of the chat-format prompt and its reply closed by <|end|>, and a mask that is 1 on the
    reply's tokens (its words and the <|end|>). A row longer than the model's context keeps its end."""
    return encode_rows(tokenizer, [prompt], [response], max_len)[0]


def encode_rows(tokenizer, prompts: Sequence[str], responses: Sequence[str], max_len: int) -> list[tuple[list[int], list[int]]]:
    """(ids, reply mask) of every (prompt, response) row, as _encode_reply gives them one by one,
    with each distinct prompt encoded once and the replies tokenised in one batched call: encoding
    row by row cost about 1 ms a row, a fifth of the reference pass."""
    q = {p: encode_prompt(tokenizer, p, chat=True) for p in dict.fromkeys(prompts)}
    enc = tokenizer(list(responses), add_special_tokens=False, split_special_tokens=True)["input_ids"] if responses else []
    end = tokenizer.convert_tokens_to_ids(END)
    rows = []
    for p, r in zip(prompts, enc):
        ids, mask = q[p] + r + [end], [0] * len(q[p]) + [1] * (len(r) + 1)
        rows.append((ids[-max_len:], mask[-max_len:]))
    return rows


# Rows per forward pass without a graph (the reference pass, evaluation), and per piece of a
# training batch: rows of similar length go together, so little padding is computed, and the
# activations stay small enough for the CPU's caches (a 256-row batch ran 1.5x slower per row).
CHUNK_ROWS = 32


def _chunk_logps(model, rows: Sequence[tuple[list[int], list[int]]], pad_id: int, device) -> torch.Tensor:
    """Summed reply log-probs of rows (one right-padded batch). The LM head and the log-softmax run
    only at the positions that predict a reply token: the prompt's positions are never scored."""
    ids, att, mask = pad_batch([r[0] for r in rows], pad_id, "right", value_mask=[r[1] for r in rows])
    ids, att, mask = ids.to(device), att.to(device), mask.to(device)
    hidden = hidden_states(model.transformer, ids, att)[:, :-1]
    scored = mask[:, 1:].bool()                       # position t predicts token t + 1
    logits = model.lm_head(hidden[scored]).float()    # (reply tokens, vocab)
    per_token = L.token_logprobs(logits, ids[:, 1:][scored])
    owner = torch.arange(len(rows), device=device)[:, None].expand_as(scored)[scored]
    return torch.zeros(len(rows), dtype=per_token.dtype, device=device).index_add(0, owner, per_token)


def rows_logps(model, rows: Sequence[tuple[list[int], list[int]]], pad_id: int, *, grad: bool = False,
               chunk_rows: int = CHUNK_ROWS) -> torch.Tensor:
    """Summed reply log-probs of encoded rows (encode_rows), in their order. Shape (N,).

    The rows are sorted by length and run in chunks of chunk_rows, each padded to its own longest
    row; the result is put back in the rows' order. With grad=True every chunk keeps its graph and
    one backward pass serves them all (one call per training batch); without, the passes run under
    inference_mode. Right padding and the causal mask make each row's number independent of the
    rows beside it, so this equals one padded batch up to float rounding.
    """
    check_gpt2(model)
    device = next(model.parameters()).device
    if not rows:
        return torch.zeros(0, device=device)
    order = sorted(range(len(rows)), key=lambda i: len(rows[i][0]))
    context = torch.enable_grad() if grad else torch.inference_mode()
    with context:
        parts = [_chunk_logps(model, [rows[i] for i in order[s:s + chunk_rows]], pad_id, device)
                 for s in range(0, len(order), chunk_rows)]
        sorted_logps = torch.cat(parts)
        inverse = torch.empty(len(order), dtype=torch.long, device=device)
        inverse[torch.tensor(order, device=device)] = torch.arange(len(order), device=device)
        return sorted_logps[inverse]


def sequence_logps(model, tokenizer, prompts: Sequence[str], responses: Sequence[str], *,
                   grad: bool = False, chunk_rows: int = CHUNK_ROWS) -> torch.Tensor:
    """log pi(response | prompt) for each row: the sum of the log-probs of the reply's tokens only
    (the prompt's tokens are context, never scored), the reply closed by <|end|>. Shape (N,).

    Rows run through the lean GPT-2 forward of rollout.py (rows_logps); position t's logits
    predict token t + 1. With grad=True the result keeps its graph (one call per training batch).
    """
    check_gpt2(model)
    rows = encode_rows(tokenizer, prompts, responses, model.config.n_positions)
    return rows_logps(model, rows, tokenizer.pad_token_id, grad=grad, chunk_rows=chunk_rows)


def pair_rows(tokenizer, pairs: Sequence[Pair], max_len: int) -> list[tuple[list[int], list[int]]]:
    """Encoded rows of pairs: every chosen reply, then every rejected reply (TRL's concatenation)."""
    prompts = [p.prompt for p in pairs]
    return encode_rows(tokenizer, prompts * 2, [p.chosen for p in pairs] + [p.rejected for p in pairs], max_len)


def pair_logps(model, tokenizer, pairs: Sequence[Pair], *, grad: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """(chosen_logps, rejected_logps) of pairs, both halves in one batch as TRL concatenates them."""
    logps = rows_logps(model, pair_rows(tokenizer, pairs, model.config.n_positions), tokenizer.pad_token_id,
                       grad=grad)
    return logps[:len(pairs)], logps[len(pairs):]


def _split(logps: torch.Tensor, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    return logps[:n], logps[n:]


def load_pairs(source) -> PreferenceData:
    """PreferenceData from itself, a reward-model folder (its preferences.jsonl) or a .jsonl file."""
    if isinstance(source, PreferenceData):
        return source
    path = Path(source)
    if path.is_dir():
        path = path / "preferences.jsonl"
    if not path.is_file():
        raise LabError(f"{path}: preferences not found; train the reward model first "
                       "(studyapp lab train --stages reward)")
    return PreferenceData.from_jsonl(path.read_text(encoding="utf-8"))


# ----------------------------------------------------------------------------- training


def implicit_accuracy(chosen_logps, rejected_logps, ref_chosen, ref_rejected, pairs: Sequence[Pair]) -> dict:
    """Share of pairs the implicit reward beta * log(pi / pi_ref) ranks the right way round (beta > 0
    does not change the order, so none is needed), overall and per kind of pair."""
    ok = ((chosen_logps - ref_chosen) > (rejected_logps - ref_rejected)).tolist()
    return {"accuracy": round(sum(ok) / max(1, len(ok)), 4), "n_pairs": len(ok),
            "by_kind": pair_accuracy_by_kind(pairs, ok)}


def train_dpo(sft_dir, pairs, out_dir, cfg: DPOConfig | None = None, *, progress: ProgressFn | None = None,
              cancel: threading.Event | None = None, world=None, evaluate: bool = True,
              ref_cache: dict | None = None, command: str | None = None) -> dict:
    """DPO from the SFT model on preference pairs (PreferenceData, a reward folder or a .jsonl).

    Trains on the pairs of split "train", reports the implicit reward's pair accuracy on "heldout"
    (and "unseen", "heldout_set" where present; before training every pair is a tie, since the
    policy is the reference), saves a standard checkpoint in
    out_dir (atomically; a cancel or a NaN keeps the old one) and the metric series in
    <out_dir>/../runs/dpo.jsonl. With evaluate=True the policy is also measured like PPO's
    (refusal of held-out harmful requests, fact accuracy, greedy).
    `progress` gets one dict per step with TRL's metric names. `ref_cache` (a dict, empty at first)
    keeps the reference's log-probs of every pair between calls with the same SFT model and the
    same pairs, as a sweep over beta has: the reference pass is then paid once (lab.methods).
    `command` is what the model card names as the way the folder was made (default: this call).
    """
    cfg = cfg or DPOConfig()
    report, timer, device = begin_stage(progress, cfg.seed)
    data = load_pairs(pairs)
    if not data.train:
        raise LabError("DPO: no training pairs (split 'train') in the preferences")
    policy, tokenizer = load_causal_lm(sft_dir, device)
    check_gpt2(policy)
    fused_gelu(policy)   # the same activation in one kernel (float rounding); the reference copies it
    max_len, pad_id = policy.config.n_positions, tokenizer.pad_token_id
    # TRL's precompute_ref_log_probs: the reference never changes, so one pass over every pair.
    evals = {name: ps for name, ps in (("heldout", data.heldout), ("unseen", data.unseen),
                                       ("heldout_set", data.heldout_set)) if ps}
    # Every pair encoded once (chosen rows, then rejected rows), for the reference, training and evaluation.
    rows = {name: pair_rows(tokenizer, ps, max_len) for name, ps in [("train", data.train), *evals.items()]}
    ref_timer = Timer()
    if ref_cache:
        ref_logps = {name: tuple(t.to(device) for t in v) for name, v in ref_cache.items()}
    else:
        ref = copy.deepcopy(policy).eval().requires_grad_(False)  # the frozen reference: the SFT model
        ref_logps = {name: _split(rows_logps(ref, r, pad_id), len(r) // 2) for name, r in rows.items()}
        del ref  # only its log-probs are needed from here on
        if ref_cache is not None:
            ref_cache.update(ref_logps)

    ref_seconds = ref_timer.elapsed()
    opt = adamw(policy.parameters(), lr=cfg.lr)
    rng = random.Random(cfg.seed)
    ref_c, ref_r = ref_logps["train"]
    train_rows, n_train = rows["train"], len(data.train)
    steps_per_epoch = (len(data.train) + cfg.batch_pairs - 1) // cfg.batch_pairs
    total, step, series = cfg.epochs * steps_per_epoch, 0, []
    loop = Timer()
    for epoch in range(cfg.epochs):
        order = list(range(len(data.train)))
        rng.shuffle(order)
        for start in range(0, len(order), cfg.batch_pairs):
            check_cancel(cancel)
            idx = order[start:start + cfg.batch_pairs]
            policy.train()
            batch = [train_rows[i] for i in idx] + [train_rows[n_train + i] for i in idx]
            pc, pr = _split(rows_logps(policy, batch, pad_id, grad=True), len(idx))
            index = torch.tensor(idx, device=ref_c.device)
            loss, metrics = dpo_loss(pc, pr, ref_c[index], ref_r[index], cfg.beta)
            value = check_finite(loss, "dpo", step)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(policy.parameters(), cfg.max_grad_norm)
            opt.step()
            step += 1
            metrics.update(stage="dpo", step=step, total=total, epoch=epoch, loss=value)
            series.append(metrics)
            report(metrics)

    loop_seconds = loop.elapsed()
    check_cancel(cancel)
    policy.eval()
    eval_timer = Timer()
    after = {}
    for name, ps in evals.items():
        logps = _split(rows_logps(policy, rows[name], pad_id), len(ps))
        acc = implicit_accuracy(*logps, *ref_logps[name], ps)
        after[name] = acc
    held = after.get("heldout", {})
    result = {
        "beta": cfg.beta, "steps": step, "pairs_train": len(data.train),
        "implicit_accuracy_heldout": held.get("accuracy"), "implicit_by_kind_heldout": held.get("by_kind", {}),
        "implicit_accuracy_unseen": after.get("unseen", {}).get("accuracy"),
        "implicit_accuracy_heldout_set": after.get("heldout_set", {}).get("accuracy"),
        "final_loss": series[-1]["loss"] if series else None,
        "rewards_margins_end": series[-1]["rewards/margins"] if series else None,
        # The optimisation loop alone (loading, reference log-probs and evaluation excluded).
        "train_seconds": round(loop_seconds, 2),
        "pairs_per_second": round(cfg.epochs * len(data.train) / max(loop_seconds, 1e-9), 1),
        # The reference's log-probs of every pair (0 when a sweep's cache had them) and the
        # implicit reward's accuracy on the held-out pairs after training.
        "ref_seconds": round(ref_seconds, 2), "eval_seconds": round(eval_timer.elapsed(), 2),
        "params_policy": count_params(policy),
    }
    if evaluate:
        from .ppo import evaluate_policy
        from .world import load_world

        result.update({k: v for k, v in evaluate_policy(policy, tokenizer, world or load_world()).items()})
    result["seconds"] = round(timer.elapsed(), 2)
    card = model_card(
        f"DPO policy (beta = {cfg.beta})",
        command=command or (f"python -c \"from studyapp.lab.dpo import DPOConfig, train_dpo; train_dpo('models/sft', "
                            f"'models/reward', 'dpo', DPOConfig(beta={cfg.beta:g}, epochs={cfg.epochs}, "
                            f"seed={cfg.seed}))\""), seed=cfg.seed,
        figures={k: v for k, v in result.items() if isinstance(v, (int, float, str))},
        notes=("The SFT model optimised with Direct Preference Optimisation (Rafailov et al. 2023) on the "
               "lab's ranked preference pairs, against the frozen SFT model as reference. No reward "
               "model and no sampling were used in training; the implicit reward is "
               "beta * log(pi / pi_ref)."))
    save_checkpoint(policy.cpu(), tokenizer, out_dir, card=card,
                    meta={"stage": "dpo", "config": asdict(cfg), "result": result})
    # The metric series beside the output folder, as PPO's and GRPO's: <out_dir>/../runs/dpo.jsonl.
    result["series"] = str(write_run_log(out_dir, "dpo", series))
    report({"stage": "dpo", "step": step, "total": total, "done": True, **result})
    return result
