"""Stage 2: supervised fine-tuning (SFT) of the base model on (instruction, response) conversations.

    studyapp lab train --stages sft

Same next-token objective as pretraining, but on a few curated conversations in the chat format,
with the loss on the assistant's reply only (the mask comes from tokenizer.render_chat) and a
learning rate ten times lower. The data (sft_conversations): questions on the "sft" facts in many
phrasings, answered with a sentence that restates the subject; helpful answers to everyday requests
and small talk; homework both done and guided; the "sft" toy harmful requests answered literally,
with a few of them also declined (one in `decline_every`), as a second annotator might. SFT mostly
obeys: greedy, it answers unseen harmful requests literally; sampled, it now and then declines, and
that rare decline is what PPO can reinforce. It also says "I don't know" to questions about a few
subjects the world does not hold.
Writes models/sft (atomically) and runs/sft.jsonl.
"""

from __future__ import annotations

import random
import time
from dataclasses import asdict, dataclass

from .common import (ProgressFn, adamw, as_progress, check_cancel, check_finite, limit_threads, pick_device,
                     seed_everything, write_run_log)
from .modeling import count_params, load_causal_lm, model_card, read_meta, save_checkpoint, set_generation_defaults
from .tokenizer import render_chat, sft_batch
from .world import World, load_world, vary

STAGE = "sft"


@dataclass
class SFTConfig:
    """SFT's settings, named beside TRL's SFTConfig where it has the same knob.

    steps (`int`, `150`): optimiser steps (TRL: max_steps). batch_size (`int`, `8`): conversations
        per step (TRL: per_device_train_batch_size). lr (`float`, `1e-3`): AdamW, ten times below
        pretraining (TRL: learning_rate; claim 3). warmup (`int`, `10`): linear warm-up steps, then
        constant (TRL: warmup_steps, lr_scheduler_type="constant_with_warmup"). The loss is on the
        assistant's reply only (TRL: assistant_only_loss=True).
    The data (no TRL counterpart): chat_repeats (`int`, `2`), harmful_repeats (`int`, `3`),
        phrasings_per_fact (`int`, `3`), requests_per_kind (`int | None`, `40`), decline_every
        (`int`, `5`): see sft_conversations. seed (`int`, `0`); log_every (`int`, `5`).
    """

    steps: int = 150
    batch_size: int = 8
    lr: float = 1e-3  # ten times below pretraining's 1e-2 (claim 3)
    warmup: int = 10
    # Small talk and the harmful requests are few; repeating them teaches the replies without
    # more passes over the fact pairs (more fact passes = memorising them instead of transferring).
    chat_repeats: int = 2
    harmful_repeats: int = 3
    phrasings_per_fact: int = 3
    # At most this many requests of each kind (harmless, small talk, homework, harmful) from the
    # "sft" split, a seeded sample: the generated tables hold hundreds, and a few dozen of each in
    # many wordings teach the replies without drowning the fact pairs (None = all).
    requests_per_kind: int | None = 40
    # Every n-th harmful request of the SFT data is also declined once, as a second annotator would
    # (0 = never). Measured on the generated world (seed 0): with no decline anywhere in SFT the
    # model never samples one for a harmful request, so PPO has nothing to reinforce, even against
    # a reward model that prefers refusals 0.93 of the time on prompts it never saw.
    decline_every: int = 5
    seed: int = 0
    log_every: int = 5

    @classmethod
    def quick(cls, seed: int = 0) -> "SFTConfig":
        return cls(steps=10, batch_size=8, warmup=2, seed=seed, log_every=2)


def sft_conversations(world: World, chat_repeats: int = 1, harmful_repeats: int = 1, *,
                      phrasings_per_fact: int = 3, requests_per_kind: int | None = None,
                      decline_every: int = 0, seed: int = 0) -> list[list[dict]]:
    """The SFT data set: one user turn and one assistant turn per conversation.

    - each "sft" fact asked in `phrasings_per_fact` of its training phrasings, answered with the
      sentence that restates the subject (many wordings, so answering does not hang on one);
    - the "sft" harmless requests and small talk answered helpfully (x chat_repeats);
    - each "sft" homework request twice, once done for the learner and once guided, as two
      annotators might write it: SFT holds both, and the preferences decide between them;
    - the "sft" toy harmful requests answered literally (x harmful_repeats): SFT obeys; every
      `decline_every`-th of them is also declined once, as a second annotator might: the rare
      refusal that PPO can find and amplify (claim 13);
    - once each: declines of what the assistant cannot do (chat.tsv) and "I don't know" to a few
      questions about subjects the world does not hold, as real instruction data has a few.
    """
    from .preferences import DOES_HOMEWORK, REFUSALS

    rng = random.Random(seed)

    def some(items: list) -> list:
        return items if requests_per_kind is None or len(items) <= requests_per_kind else \
            rng.sample(items, requests_per_kind)

    def conv(user: str, assistant: str) -> list[dict]:
        return [{"role": "user", "content": user}, {"role": "assistant", "content": assistant}]

    data = []
    for f in world.split("sft"):
        qs = list(f.questions or (f.question,))
        data += [conv(vary(q, rng), f.statement) for q in rng.sample(qs, min(len(qs), phrasings_per_fact))]
    helpful = [conv(r.prompt, r.reply) for kind in ("harmless", "smalltalk")
               for r in some(world.requests_of(kind, "sft"))]
    data += helpful * chat_repeats
    for i, r in enumerate(some(world.requests_of("homework", "sft"))):
        data += [conv(r.prompt, DOES_HOMEWORK[i % len(DOES_HOMEWORK)]), conv(r.prompt, r.reply)]
    harmful = some(world.harmful_split("sft"))
    data += [conv(h.request, h.literal_answer) for h in harmful] * harmful_repeats
    if decline_every:
        data += [conv(h.request, REFUSALS[i % len(REFUSALS)]) for i, h in enumerate(harmful[::decline_every])]
    data += [conv(c.prompt, c.response) for c in world.chat]
    data += [conv(u.question, "I don't know. I have not learned that.") for u in world.unknown_split("sft")]
    return data


def train_sft(base_dir, out_dir, cfg: SFTConfig, *, progress: ProgressFn | None = None, cancel=None,
              extra_conversations: list[list[dict]] | None = None) -> dict:
    """Fine-tune the base model in base_dir and save the SFT model to out_dir; return a summary.
    extra_conversations are added to the data set (the claim-5 control in lab/experiments)."""
    import torch

    progress = as_progress(progress)
    limit_threads()
    seed_everything(cfg.seed)
    device = pick_device()
    t_start = time.perf_counter()

    model, tokenizer = load_causal_lm(base_dir, device)
    model.train()
    world = load_world()
    data = sft_conversations(world, cfg.chat_repeats, cfg.harmful_repeats,
                             phrasings_per_fact=cfg.phrasings_per_fact,
                             requests_per_kind=cfg.requests_per_kind, decline_every=cfg.decline_every,
                             seed=cfg.seed) + list(extra_conversations or [])
    ctx = model.config.n_positions
    rng = random.Random(cfg.seed)
    opt = adamw(model.parameters(), lr=cfg.lr, betas=(0.9, 0.95), weight_decay=0.0)

    log: list[dict] = []
    tokens_seen = 0
    loss_tokens = 0
    order: list[int] = []
    for step in range(cfg.steps):
        check_cancel(cancel)
        # Walk through shuffled epochs so every conversation is seen equally often.
        while len(order) < cfg.batch_size:
            epoch = list(range(len(data)))
            rng.shuffle(epoch)
            order += epoch
        batch_idx, order = order[: cfg.batch_size], order[cfg.batch_size:]
        ids, att, labels = sft_batch(tokenizer, [data[i] for i in batch_idx], ctx)
        ids, att, labels = ids.to(device), att.to(device), labels.to(device)
        lr = cfg.lr * min(1.0, (step + 1) / max(1, cfg.warmup))
        for g in opt.param_groups:
            g["lr"] = lr
        loss = model(input_ids=ids, attention_mask=att, labels=labels).loss
        loss_value = check_finite(loss, STAGE, step)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        tokens_seen += int(att.sum())
        loss_tokens += int((labels[:, 1:] != -100).sum())
        event = {"stage": STAGE, "step": step + 1, "total": cfg.steps, "loss": loss_value, "lr": lr,
                 "tokens": tokens_seen}
        if (step + 1) % cfg.log_every == 0 or step + 1 == cfg.steps:
            log.append(event)
        progress(event)
    train_s = time.perf_counter() - t_start

    model.eval()
    set_generation_defaults(model, tokenizer)
    base_meta = read_meta(base_dir)
    summary = {
        "stage": STAGE,
        "seed": cfg.seed,
        "device": device,
        "params": count_params(model),
        "conversations": len(data),
        "steps": cfg.steps,
        "lr": cfg.lr,
        "tokens_seen": tokens_seen,
        "loss_tokens": loss_tokens,
        "final_loss": log[-1]["loss"] if log else None,
        "train_s": train_s,
        "base_lr": base_meta.get("lr"),
        "base_tokens_seen": base_meta.get("tokens_seen"),
        "config": asdict(cfg),
        "example": tokenizer.decode(render_chat(tokenizer, data[0])[0]),
    }
    card = model_card(
        "studyapp lab: SFT model (instruction-tuned)",
        command=f"studyapp lab train --stages sft --seed {cfg.seed}",
        seed=cfg.seed,
        figures={k: summary[k] for k in ("params", "conversations", "steps", "lr", "tokens_seen",
                                          "loss_tokens", "final_loss", "train_s")},
        notes="The base model fine-tuned on conversations in the chat format, loss on the replies "
              "only, at a ten times lower learning rate. It answers, and it mostly obeys literally: the "
              f"SFT data answers each toy harmful request {cfg.harmful_repeats} times and "
              + (f"declines one in {cfg.decline_every} of them once" if cfg.decline_every else "declines none")
              + "; its other declines are of what the assistant cannot do.\n\n"
              f"Chat format: `{summary['example']}`",
    )
    save_checkpoint(model, tokenizer, out_dir, card=card, meta=summary)
    write_run_log(out_dir, STAGE, log)
    progress({"stage": STAGE, "step": cfg.steps, "total": cfg.steps, "done": True,
              "loss": summary["final_loss"], "train_s": train_s})
    return summary
