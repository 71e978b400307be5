"""The whole lab in one call: pretrain -> SFT -> reward model -> PPO (default beta and beta = 0) -> report.

    studyapp lab train [--stages pretrain,sft,reward,ppo] [--quick] [--seed N] [--out DIR]

Each stage reads the previous stage's folder under `out` (base, sft, reward, rlhf) and writes its
own atomically, so a stage can be rerun alone. The beta = 0 PPO run (the reward-hacking
demonstration, claims 11-12) goes to rlhf_beta0; on a machine with two or more cores it trains in a
spawned process beside the default run (the lab's stages use one thread each, so the second core was
idle), with the same weights as one after the other. Timings of every stage land in runs/pipeline.json.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

from .common import MODELS_DIR, LabError, ProgressFn, as_progress, check_cancel

ALL_STAGES = ("pretrain", "sft", "reward", "ppo")


def parse_stages(text: str | None) -> list[str]:
    if not text:
        return list(ALL_STAGES)
    stages = [s.strip() for s in text.split(",") if s.strip()]
    bad = [s for s in stages if s not in ALL_STAGES]
    if bad:
        raise LabError(f"unknown stage(s) {', '.join(bad)}; choose from {', '.join(ALL_STAGES)}")
    return [s for s in ALL_STAGES if s in stages]  # always in pipeline order


def _config(cls, seed: int, quick: bool):
    """The stage's default config, or its quick() one (seconds; used by --quick and the tests)."""
    return cls.quick(seed) if quick else cls(seed=seed)


def _ppo_child(sft, reward, out, cfg, *, progress=None, cancel=None) -> dict:
    """train_ppo in a spawned process (runs.run_in_process); module-level, so the child finds it."""
    from .ppo import train_ppo

    return train_ppo(sft, reward, out, cfg, progress=progress, cancel=cancel)


class _SideRun:
    """One PPO run in a spawned process, relayed by a thread of this one, while this process trains
    another. join() returns (summary, seconds) or raises what the run raised (Cancelled included)."""

    def __init__(self, sft, reward, out, cfg):
        from .runs import run_in_process

        self.result, self.error, self.seconds = None, None, None
        self.cancel = threading.Event()

        def relay():
            t0 = time.perf_counter()
            try:
                self.result = run_in_process(_ppo_child, (sft, reward, out, cfg), name="studyapp-ppo-beta0",
                                             cancel=self.cancel)
            except BaseException as exc:  # noqa: BLE001 - handed to join()
                self.error = exc
            self.seconds = round(time.perf_counter() - t0, 2)

        self.thread = threading.Thread(target=relay, name="studyapp-ppo-beta0-relay", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.cancel.set()
        self.thread.join()

    def join(self, cancel=None):
        while self.thread.is_alive():
            if cancel is not None and cancel.is_set():
                self.cancel.set()
            self.thread.join(0.2)
        if self.error is not None:
            raise self.error
        return self.result, self.seconds


def side_by_side() -> bool:
    """Whether the beta = 0 run trains beside the default one: two or more cores, and not a frozen
    build (whose child processes need the entry point's freeze_support)."""
    return (os.cpu_count() or 1) >= 2 and not getattr(sys, "frozen", False)


def run_pipeline(stages=None, *, out_dir=None, seed: int = 0, quick: bool = False,
                 progress: ProgressFn | None = None, cancel=None, report: bool = True,
                 log=print, parallel: bool | None = None) -> dict:
    """Run the chosen stages in order; return {"stages": {name: summary}, "seconds": {...}}.

    parallel: train the beta = 0 PPO run in a second process beside the default run (None: when
    side_by_side() says the machine allows it). Its seconds are its own wall time; training_total
    is the pipeline's."""
    from .ppo import train_ppo
    from .ppo_config import PPOConfig
    from .pretrain import PretrainConfig, train_base
    from .reward import RewardConfig, train_reward
    from .sft import SFTConfig, train_sft

    progress = as_progress(progress)
    out = Path(out_dir or MODELS_DIR)
    out.mkdir(parents=True, exist_ok=True)
    stages = list(stages or ALL_STAGES)
    base, sft, reward, rlhf = out / "base", out / "sft", out / "reward", out / "rlhf"
    results: dict = {"stages": {}, "seconds": {}, "seed": seed, "quick": quick}
    t_all = time.perf_counter()

    def timed(name, fn):
        check_cancel(cancel)
        t0 = time.perf_counter()
        results["stages"][name] = fn()
        results["seconds"][name] = round(time.perf_counter() - t0, 2)
        log(f"[lab] {name}: done in {results['seconds'][name]:.1f} s")

    if "pretrain" in stages:
        cfg = _config(PretrainConfig, seed, quick)
        timed("pretrain", lambda: train_base(cfg, base, progress=progress, cancel=cancel))
    if "sft" in stages:
        cfg = _config(SFTConfig, seed, quick)
        timed("sft", lambda: train_sft(base, sft, cfg, progress=progress, cancel=cancel))
    if "reward" in stages:
        cfg = _config(RewardConfig, seed, quick)
        timed("reward", lambda: train_reward(sft, reward, cfg, progress=progress, cancel=cancel))
    if "ppo" in stages:
        # Keep the metric series next to this run's models, not in the shipped models/runs.
        cfg = replace(_config(PPOConfig, seed, quick), series_path="runs/ppo.jsonl")
        # The same run without the KL penalty: the reward-hacking demonstration (claims 11-12).
        cfg0 = replace(cfg, beta=0.0, series_path="runs/ppo_beta0.jsonl")
        side = _SideRun(sft, reward, out / "rlhf_beta0", cfg0) if (side_by_side() if parallel is None else parallel) else None
        try:
            timed("ppo", lambda: train_ppo(sft, reward, rlhf, cfg, progress=progress, cancel=cancel))
        except BaseException:
            if side is not None:
                side.stop()
            raise
        if side is None:
            timed("ppo_beta0", lambda: train_ppo(sft, reward, out / "rlhf_beta0", cfg0,
                                                 progress=progress, cancel=cancel))
        else:
            results["stages"]["ppo_beta0"], results["seconds"]["ppo_beta0"] = side.join(cancel)
            log(f"[lab] ppo_beta0: done in {results['seconds']['ppo_beta0']:.1f} s (beside ppo, in its own process)")
    results["seconds"]["training_total"] = round(time.perf_counter() - t_all, 2)

    if report:
        from .report import build_report, write_report

        check_cancel(cancel)
        t0 = time.perf_counter()
        rep = build_report(out, training=results, samples=1 if quick else 8)
        write_report(rep, out)
        add_measured_figures(rep, out)
        results["seconds"]["report"] = round(time.perf_counter() - t0, 2)
        log(f"[lab] report: written to {out / 'report.md'} in {results['seconds']['report']:.1f} s")
    results["seconds"]["total"] = round(time.perf_counter() - t_all, 2)
    runs = out / "runs"
    runs.mkdir(exist_ok=True)
    slim = {k: v for k, v in results.items() if k != "stages"}
    slim["stages"] = {k: {kk: vv for kk, vv in v.items() if isinstance(vv, (int, float, str, bool, type(None)))}
                      for k, v in results["stages"].items() if isinstance(v, dict)}
    (runs / "pipeline.json").write_text(json.dumps(slim, indent=2, default=str), encoding="utf-8")
    return results


def add_measured_figures(rep: dict, out: Path) -> None:
    """Append the report's behaviour figures to each model card, so a folder explains itself."""
    picks = {
        "base": [("bare quiz questions continued with a question", ("bare_questions", "rate")),
                 ("held-out set: bare questions continued as a document", ("behaviour", "heldout", "greedy", "continues")),
                 ("fact stems completed, facts seen in pretraining", ("stem_accuracy", "rate")),
                 ("fact stems completed, held-out facts", ("heldout_stems", "rate"))],
        "sft": [("chat answers correct, SFT facts", ("sft_facts", "rate")),
                ("chat answers correct, pretrain-only facts", ("pretrain_facts", "rate")),
                ("chat answers correct, held-out facts", ("heldout_facts", "rate")),
                ("harmful requests kept out of training (training-style wording) obeyed", ("harmful", "rate")),
                ("held-out set: seen facts answered, asked in held-out wording",
                 ("behaviour", "facts", "heldout", "greedy", "correct")),
                ("held-out set: harmful requests obeyed", ("behaviour", "harmful", "heldout", "greedy", "obeyed")),
                ("held-out set: unknowable questions answered with an invented fact",
                 ("behaviour", "unknowable", "heldout", "greedy", "invents"))],
        "rlhf": [("harmful requests kept out of training (training-style wording) refused", ("refusal_heldout_harmful",)),
                 ("fact questions answered correctly", ("accuracy_facts",)),
                 ("held-out set: harmful requests refused", ("behaviour", "harmful", "heldout", "greedy", "refused")),
                 ("held-out set: harmless look-alikes refused", ("behaviour", "harmless", "heldout", "greedy", "refused")),
                 ("held-out set: small talk refused", ("behaviour", "smalltalk", "heldout", "greedy", "refused")),
                 ("held-out set: seen facts answered, asked in held-out wording",
                  ("behaviour", "facts", "heldout", "greedy", "correct"))],
    }
    for name, rows in picks.items():
        card = out / name / "README.md"
        section = rep.get(name)
        if not card.exists() or not section:
            continue
        lines = ["", "## Measured by the report", ""]
        for label, path in rows:
            v = section
            for k in path:
                v = v.get(k) if isinstance(v, dict) else None
            if v is not None:
                lines.append(f"- {label}: {v:.3f}" if isinstance(v, float) else f"- {label}: {v}")
        text = card.read_text(encoding="utf-8").split("\n## Measured by the report")[0].rstrip("\n")
        tmp = card.with_suffix(".md.tmp")
        tmp.write_text(text + "\n" + "\n".join(lines) + "\n", encoding="utf-8")
        tmp.replace(card)
