"""Stage 1: pretrain a tiny GPT-2 from scratch on the generated web-like corpus.

    studyapp lab train --stages pretrain            (or: python -m studyapp.lab.cli train ...)

Builds the corpus from the world, trains the byte-level BPE tokenizer, then trains the model on
random windows of the concatenated documents (nanoGPT style). The recipe follows docs/lab-notes.md: a
constant, high learning rate after a short warm-up, because the skill that lets SFT reach stored
facts forms only while the rate is still high. Writes models/base (atomically) and runs/pretrain.jsonl.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

from .common import (ProgressFn, Timer, adamw, as_progress, check_cancel, check_finite, limit_threads,
                     pick_device, seed_everything, write_run_log)
from .corpus import CorpusConfig, build_corpus
from .modeling import ModelConfig, build_model, count_params, model_card, save_checkpoint
from .tokenizer import EOT, train_tokenizer
from .world import load_world

STAGE = "pretrain"


@dataclass
class PretrainConfig:
    """Pretraining's settings (TRL has no pretraining trainer; names as transformers'
    TrainingArguments where they match).

    model (`ModelConfig`): GPT-2 shape (2 layers x 128 dims, 4 heads, context 64). n_docs (`int`,
        `30_000`): corpus documents generated. steps (`int`, `450`): optimiser steps (max_steps).
        batch_size (`int`, `64`): sequences of 64 tokens per step (per_device_train_batch_size).
        lr (`float`, `1e-2`): AdamW, constant after warm-up (learning_rate; the prototype measured
        that decaying it over a short run cut SFT's transfer to 0.06-0.13). warmup (`int`, `50`) (warmup_steps). weight_decay
        (`float`, `0.0`). vocab_size (`int`, `1024`): byte-level BPE. seed (`int`, `0`); log_every
        (`int`, `10`).
    """

    model: ModelConfig = field(default_factory=ModelConfig)
    n_docs: int = 30_000
    steps: int = 450
    batch_size: int = 64
    lr: float = 1e-2
    warmup: int = 50
    weight_decay: float = 0.0
    vocab_size: int = 1024
    seed: int = 0
    log_every: int = 10

    @classmethod
    def quick(cls, seed: int = 0) -> "PretrainConfig":
        """A few seconds: enough to exercise every line, not to learn the world."""
        return cls(n_docs=2_000, steps=20, batch_size=16, warmup=5, seed=seed, log_every=5)


def _lr_at(step: int, cfg: PretrainConfig) -> float:
    # Linear warm-up, then constant (decaying within a short run kills SFT transfer: docs/lab-notes.md).
    return cfg.lr * min(1.0, (step + 1) / max(1, cfg.warmup))


def tokenizer_texts(world, docs: list[str]):
    """Everything the tokenizer should see: the corpus and the chat data SFT and PPO will use."""
    yield from docs
    for f in world.facts:
        yield from f.questions
    for h in world.harmful:
        yield h.request + " " + h.literal_answer
    for c in world.chat:
        yield c.prompt + " " + c.response
    for r in world.requests:
        yield r.prompt + " " + r.reply
    for u in world.unknown:
        yield u.question


def keep_freed_memory() -> bool:
    """Ask glibc's malloc to keep freed blocks of up to 32 MB for reuse instead of handing them back
    to the OS. A training step allocates and frees the same few-MB activation tensors every step;
    returned to the OS, each comes back as fresh pages that fault in one by one (an elementwise op
    on a new 8 MB tensor ran at a sixth of its speed on a reused one). Only the allocator's policy
    changes, not a single number; the process keeps its peak heap until it exits. Returns whether
    it applied (glibc only; elsewhere a no-op). bench/pretrain_speed.py measures it."""
    import ctypes
    import sys

    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3
    return bool(mallopt(m_mmap_threshold, 32 * 1024 * 1024)) and bool(mallopt(m_trim_threshold, 1 << 30))


def fused_gelu(model) -> int:
    """Run GPT-2's "gelu_new" activation as torch's fused GELU (tanh approximation), in place.

    Both compute 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))); transformers spells it as five
    elementwise ops (and five more in backward), torch as one kernel each way: 13% of a
    pretraining step's CPU time here, the same numbers to float rounding. Only the module in
    memory changes: the saved config still says gelu_new, and every loader runs it as before.
    Returns how many activations were swapped."""
    import torch

    swapped = 0
    for block in model.transformer.h:
        if type(block.mlp.act).__name__ == "NewGELUActivation":
            block.mlp.act = torch.nn.GELU(approximate="tanh")
            swapped += 1
    return swapped


def _attention(model, kind: str) -> None:
    """The attention implementation GPT-2 runs ("eager" or "sdpa"), on the model and every layer."""
    model.config._attn_implementation = kind
    for block in model.transformer.h:
        block.attn.config._attn_implementation = kind


def train_base(cfg: PretrainConfig, out_dir, *, progress: ProgressFn | None = None, cancel=None) -> dict:
    """Pretrain and save a base model to out_dir; return a summary dict (figures for the report)."""
    import torch

    progress = as_progress(progress)
    limit_threads()
    keep_freed_memory()
    seed_everything(cfg.seed)
    device = pick_device()
    t_start = time.perf_counter()

    # ---- data: corpus -> tokenizer -> one long stream of ids
    world = load_world()
    with Timer() as t_data:
        docs = build_corpus(world, CorpusConfig(n_docs=cfg.n_docs, seed=cfg.seed))
        tokenizer = train_tokenizer(tokenizer_texts(world, docs), cfg.vocab_size)
        eot = tokenizer.convert_tokens_to_ids(EOT)
        encoded = tokenizer(docs, add_special_tokens=False)["input_ids"]
        stream = []
        for ids in encoded:
            stream.extend(ids)
            stream.append(eot)
        data = torch.tensor(stream, dtype=torch.long)
    check_cancel(cancel)

    # ---- model and optimiser
    model = build_model(cfg.model, tokenizer, seed=cfg.seed).to(device)
    fused_gelu(model)
    # torch's scaled_dot_product_attention for training (bench/pretrain_speed.py: 0.74x -> 0.79x of
    # the matmul bound with the fused GELU); the same attention to float rounding. Eager again
    # before saving, as build_model makes every lab model (the attention views need its weights).
    _attention(model, "sdpa")
    model.train()
    opt = adamw(model.parameters(), lr=cfg.lr, betas=(0.9, 0.95), weight_decay=cfg.weight_decay)
    ctx = cfg.model.n_positions
    gen = torch.Generator().manual_seed(cfg.seed)
    log: list[dict] = []

    # ---- training loop
    t_train = time.perf_counter()
    tokens_seen = 0
    for step in range(cfg.steps):
        check_cancel(cancel)
        starts = torch.randint(0, len(data) - ctx - 1, (cfg.batch_size,), generator=gen)
        batch = torch.stack([data[s: s + ctx] for s in starts.tolist()]).to(device)
        lr = _lr_at(step, cfg)
        for g in opt.param_groups:
            g["lr"] = lr
        loss = model(input_ids=batch, labels=batch).loss
        loss_value = check_finite(loss, STAGE, step)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        tokens_seen += batch.numel()
        elapsed = time.perf_counter() - t_train
        event = {"stage": STAGE, "step": step + 1, "total": cfg.steps, "loss": loss_value, "lr": lr,
                 "tokens": tokens_seen, "tokens_per_s": tokens_seen / max(elapsed, 1e-9)}
        if (step + 1) % cfg.log_every == 0 or step + 1 == cfg.steps:
            log.append(event)
        progress(event)
    train_s = time.perf_counter() - t_train

    # ---- save (atomically) with its model card and run log
    model.eval()
    summary = {
        "stage": STAGE,
        "seed": cfg.seed,
        "device": device,
        "params": count_params(model),
        "docs": len(docs),
        "corpus_tokens": int(len(data)),
        "tokens_seen": tokens_seen,
        "steps": cfg.steps,
        "lr": cfg.lr,
        "final_loss": log[-1]["loss"] if log else None,
        "data_s": t_data.seconds,
        "train_s": train_s,
        "tokens_per_s": tokens_seen / max(train_s, 1e-9),
        "total_s": time.perf_counter() - t_start,
        "config": asdict(cfg),
    }
    card = model_card(
        "studyapp lab: base model (pretrained only)",
        command=f"studyapp lab train --stages pretrain --seed {cfg.seed}",
        seed=cfg.seed,
        figures={k: summary[k] for k in ("params", "docs", "corpus_tokens", "tokens_seen", "steps",
                                          "lr", "final_loss", "train_s", "tokens_per_s")},
        notes="A GPT-2 pretrained from scratch on a generated web-like corpus (quiz sheets, "
              "encyclopedia pages, FAQ pages, tables, worksheets, lists). It continues text; it does "
              "not answer. Held-out facts never appeared with their answers.",
    )
    _attention(model, "eager")
    save_checkpoint(model, tokenizer, out_dir, card=card, meta=summary)
    write_run_log(out_dir, STAGE, log)
    progress({"stage": STAGE, "step": cfg.steps, "total": cfg.steps, "done": True, **_scalars(summary)})
    return summary


def _scalars(d: dict) -> dict:
    return {k: v for k, v in d.items() if isinstance(v, (int, float, str)) and k not in ("stage",)}

