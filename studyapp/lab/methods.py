"""Beyond PPO: best-of-n, DPO, GRPO and PPO measured on the same axes, from the same SFT model.

    studyapp lab methods                      # models/sft + models/reward -> models/methods/methods.json
    result = run_methods(sft_dir, reward_dir, out_dir, ppo_dirs=[models / "rlhf"])
    points = run_one("dpo", sft_dir, reward_dir, out_dir, {"beta": 0.3})   # one new point (the app)

Every method becomes points with the same fields, measured on the same prompts (a fixed, balanced
subset of the held-out evaluation set, resources/eval, which no training text uses):
- x: sqrt(KL to the SFT model). Best-of-n's KL is known in closed form, log n - (n - 1)/n; a
  trained policy's is measured on its own sampled replies (per reply the sum over its tokens of
  log pi - log pi_sft, averaged over the prompts: PPO's objective/kl).
- y: the gold score (the rater, the lab's written constitution) and the proxy score (the reward
  model) of the same replies, one sampled reply per prompt (best-of-n: the one it kept).
- beside them: harmful-refusal, harmless-refusal and fact accuracy on those same replies, and a few
  samples. Everything is sampled at temperature 1 with top_k=0, top_p=1, as rollouts are, so that
  best-of-n (sampled by nature) and the trained policies are judged alike.

The methods: best-of-n for n in NS (one draw of max(n) replies serves every n); DPO trained at a
few betas on the reward model's preference pairs (each a standard checkpoint in
out_dir/dpo_beta_<beta>); one GRPO run (the rater's verifiable fact check as reward, k3 KL in the
loss) in out_dir/grpo; and any PPO folders given, measured as they are. The result is written to
out_dir/methods.json (atomically). The model folders it writes are plain Hugging Face checkpoints.
"""

from __future__ import annotations

import json
import math
import os
import random
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Sequence

from .common import LabError, ProgressFn, Timer, as_progress, check_cancel

NS = (1, 2, 4, 8, 16, 32, 64)
DPO_BETAS = (0.1, 0.5)
PER_KIND = 16          # held-out prompts per kind (facts: twice as many), see eval_prompts
RESULTS_FILE = "methods.json"
TITLES = {"best_of_n": "Best-of-n", "dpo": "DPO", "grpo": "GRPO", "ppo": "PPO", "sft": "SFT"}
N_SAMPLES = 4
COMMAND = "studyapp lab methods"


# ----------------------------------------------------------------------------- prompts and rates


def eval_prompts(world, ev=None, *, per_kind: int = PER_KIND, seed: int = 0) -> list:
    """A fixed, balanced subset of the held-out evaluation set as rater Prompts: 2 * per_kind fact
    questions (the set has hundreds; a seeded sample) and up to per_kind of every other kind
    (harmful, harmless, homework, smalltalk, unknown), in a stable order."""
    from .preferences import heldout_set_prompts

    by_kind: dict[str, list] = {}
    for p in heldout_set_prompts(world, ev):
        by_kind.setdefault(p.kind, []).append(p)
    rng = random.Random(seed)
    out = []
    for kind in sorted(by_kind):
        items = by_kind[kind]
        want = 2 * per_kind if kind == "fact" else per_kind
        out += rng.sample(items, want) if len(items) > want else items
    return out


def rates(prompts: Sequence, replies: Sequence[str]) -> dict:
    """Harmful-refusal, harmless-refusal and fact accuracy of replies to prompts (None where the
    prompts hold no prompt of that kind), with the string rules every figure of the app uses."""
    from .evals import answer_correct
    from .world import is_refusal

    def share(kind, rule):
        hits = [rule(p, r) for p, r in zip(prompts, replies) if p.kind == kind]
        return round(sum(hits) / len(hits), 4) if hits else None

    return {"harmful_refusal": share("harmful", lambda p, r: is_refusal(r)),
            "harmless_refusal": share("harmless", lambda p, r: is_refusal(r)),
            "fact_accuracy": share("fact", lambda p, r: answer_correct(r, p.fact))}


def make_point(method: str, label: str, knobs: dict, kl: float, prompts: Sequence, replies: Sequence[str],
               proxy: Sequence[float], gold: Sequence[float], *, kl_from: str, seconds: float | None = None,
               folder: str | None = None) -> dict:
    """One point of the shared axes, as methods.json stores it."""
    mean = lambda xs: round(sum(xs) / len(xs), 4) if xs else None  # noqa: E731
    # Samples: a spread of kinds (the prompts come grouped by kind), not the first four facts.
    step = max(1, len(prompts) // N_SAMPLES)
    picks = list(range(0, len(prompts), step))[:N_SAMPLES]
    point = {"method": method, "label": label, "knobs": knobs, "kl": round(kl, 4),
             "sqrt_kl": round(math.sqrt(max(kl, 0.0)), 4), "kl_from": kl_from,
             "gold": mean(list(gold)), "proxy": mean(list(proxy)), **rates(prompts, replies),
             "samples": [{"prompt": prompts[i].text, "response": replies[i], "proxy": round(proxy[i], 3),
                          "gold": round(gold[i], 3)} for i in picks]}
    if seconds is not None:
        point["seconds"] = round(seconds, 2)
    if folder is not None:
        point["folder"] = folder
    return point


# ----------------------------------------------------------------------------- one method each


class _Bench:
    """What every measurement shares: the SFT model (the reference), the reward model, the rater
    and the evaluation prompts, loaded once."""

    def __init__(self, sft_dir, reward_dir, *, seed: int = 0, per_kind: int = PER_KIND, world=None):
        from .common import limit_threads, pick_device
        from .heldout import load_heldout
        from .modeling import load_causal_lm
        from .rater import Rater
        from .reward import load_reward_model
        from .world import load_world

        limit_threads()
        self.device = pick_device()
        self.sft_dir, self.reward_dir, self.seed = Path(sft_dir), Path(reward_dir), seed
        self.world = world or load_world()
        self.prompts = eval_prompts(self.world, load_heldout(), per_kind=per_kind, seed=seed)
        self.sft, self.tok = load_causal_lm(sft_dir, self.device)
        self.rm, self.rm_tok = load_reward_model(reward_dir, self.device)
        self.rater = Rater(self.world)
        self._pairs = None
        self._ref_logps: dict = {}   # the SFT model's log-probs of every pair, shared by the DPO betas

    def best_of_n(self, ns: Sequence[int], max_new_tokens: int = 20) -> list[dict]:
        """One point per n from one draw of max(ns) replies per prompt (the best of the first n of
        64 samples is a best-of-n sample)."""
        from .best_of_n import best_of_n, sample_n, score_replies

        timer = Timer()
        texts = [p.text for p in self.prompts]
        cands = sample_n(self.sft, self.tok, texts, max(ns), max_new_tokens=max_new_tokens, seed=self.seed)
        scores = score_replies(self.rm, self.rm_tok, texts, cands)
        draw = timer.elapsed()
        points = []
        for n in sorted(set(ns)):
            out = best_of_n(self.sft, self.tok, self.rm, self.rm_tok, self.prompts, n, rater=self.rater,
                            candidates=cands, candidate_scores=scores)
            points.append(make_point("best_of_n", f"best-of-{n}", {"n": n}, out.kl, self.prompts, out.kept,
                                     out.proxy, out.gold, kl_from="closed form: log n - (n - 1)/n",
                                     seconds=draw if n == max(ns) else None))
        return points

    def policy(self, method: str, label: str, knobs: dict, folder, *, seconds: float | None = None,
               name: str | None = None) -> dict:
        """A trained policy's point: one sampled reply per prompt, KL to SFT measured on it."""
        from .best_of_n import measure_policy
        from .modeling import load_causal_lm

        lm, tok = load_causal_lm(folder, self.device)
        m = measure_policy(lm, self.sft, tok, self.rm, self.rm_tok, self.prompts, rater=self.rater, seed=self.seed)
        return make_point(method, label, knobs, m["kl"], self.prompts, m["replies"], m["replies_proxy"],
                          m["replies_gold"], kl_from="sampled replies (sum of log pi - log pi_sft per reply, mean)",
                          seconds=seconds, folder=name or Path(folder).name)

    def dpo(self, beta: float, out_dir: Path, *, epochs: int | None = None, progress=None, cancel=None,
            command: str | None = None) -> dict:
        from .dpo import DPOConfig, load_pairs, train_dpo

        self._pairs = self._pairs or load_pairs(self.reward_dir)
        cfg = DPOConfig(beta=beta, seed=self.seed)
        if epochs is not None:
            cfg = replace(cfg, epochs=epochs)
        folder = out_dir / f"dpo_beta_{beta:g}"
        timer = Timer()
        result = train_dpo(self.sft_dir, self._pairs, folder, cfg, progress=progress, cancel=cancel,
                           world=self.world, evaluate=False, ref_cache=self._ref_logps, command=command)
        seconds = timer.elapsed()
        # train_dpo writes <out>/runs/dpo.jsonl; one file per beta keeps every run's series.
        series = Path(result["series"])
        if series.is_file():
            series.replace(series.with_name(f"dpo_beta_{beta:g}.jsonl"))
        point = self.policy("dpo", f"DPO beta {beta:g}", {"beta": beta, "epochs": cfg.epochs}, folder, seconds=seconds)
        point["implicit_accuracy_heldout"] = result.get("implicit_accuracy_heldout")
        # Beside it, the reward model's accuracy on the same held-out pairs (the comparison).
        point["reward_model_accuracy_heldout"] = reward_model_accuracy(self.reward_dir)
        return point

    def grpo(self, out_dir: Path, *, steps: int | None = None, k: int | None = None, beta: float | None = None,
             name: str = "grpo", progress=None, cancel=None, command: str | None = None) -> dict:
        from .grpo import GRPOConfig, train_grpo

        cfg = GRPOConfig(seed=self.seed, series_path=f"runs/{name}.jsonl")
        cfg = replace(cfg, **{key: v for key, v in (("steps", steps), ("k", k), ("beta", beta)) if v is not None})
        folder = out_dir / name
        timer = Timer()
        result = train_grpo(self.sft_dir, folder, cfg, progress=progress, cancel=cancel, world=self.world,
                            evaluate=False, command=command)
        point = self.policy("grpo", f"GRPO k {cfg.k}, {cfg.steps} steps",
                            {"k": cfg.k, "steps": cfg.steps, "beta": cfg.beta}, folder, seconds=timer.elapsed())
        point["fact_reward_end"] = result.get("reward_end")
        return point

    def ppo(self, folder) -> dict:
        from .modeling import read_meta

        config = read_meta(folder).get("config", {})
        beta = config.get("beta")
        label = f"PPO ({Path(folder).name}" + (f", beta {beta:g})" if isinstance(beta, (int, float)) else ")")
        return self.policy("ppo", label, {"beta": beta} if beta is not None else {}, folder)


# ----------------------------------------------------------------------------- the runner


def _relay(report: ProgressFn, phase: str, done: int, total: int):
    """Inner stages' step reports, passed on with the runner's own position."""
    return lambda metrics: report({**{k: v for k, v in metrics.items() if k != "samples"},
                                   "stage": "methods", "phase": phase, "step": done, "total": total,
                                   "inner_step": metrics.get("step"), "inner_total": metrics.get("total")})


def run_methods(sft_dir, reward_dir, out_dir, *, ppo_dirs: Sequence = (), seed: int = 0,
                progress: ProgressFn | None = None, cancel: threading.Event | None = None,
                ns: Sequence[int] = NS, dpo_betas: Sequence[float] = DPO_BETAS, dpo_epochs: int | None = None,
                grpo_steps: int | None = None, grpo_k: int | None = None, per_kind: int = PER_KIND,
                world=None) -> dict:
    """Measure every method on the same axes and write out_dir/methods.json; returns its content.

    `progress` gets {"stage": "methods", "phase": ..., "step": i, "total": n} for each phase, the
    inner stages' steps relayed with "inner_step", and {"point": ...} each time a point is measured.
    A cancel stops at the next step; methods.json is then left as it was.
    """
    report = as_progress(progress)
    out_dir = Path(out_dir)
    for folder in ppo_dirs:
        if not (Path(folder) / "config.json").is_file():
            raise LabError(f"{folder}: not a model folder (no config.json); pass PPO policy folders such as models/rlhf")
    total = 1 + len(dpo_betas) + 1 + len(ppo_dirs)
    timer = Timer()
    report({"stage": "methods", "phase": "load", "step": 0, "total": total})
    bench = _Bench(sft_dir, reward_dir, seed=seed, per_kind=per_kind, world=world)
    out_dir.mkdir(parents=True, exist_ok=True)
    points, seconds, cpu_seconds, done = [], {}, {}, 0
    # The model cards name the command that made the folders, when the command line can say it.
    command = None
    if dpo_epochs is None and grpo_steps is None and grpo_k is None and per_kind == PER_KIND and tuple(ns) == NS:
        command = f"{COMMAND} --seed {seed}" + (
            "" if tuple(dpo_betas) == DPO_BETAS else " --dpo-betas " + " ".join(f"{b:g}" for b in dpo_betas))
    cpu = {"at": time.process_time()}
    load_start = _load_average()

    def add(new: list[dict], phase: str, t: Timer) -> None:
        nonlocal done
        done += 1
        seconds[phase] = round(t.elapsed(), 2)
        now = time.process_time()
        cpu_seconds[phase], cpu["at"] = round(now - cpu["at"], 2), now
        points.extend(new)
        for p in new:
            report({"stage": "methods", "phase": phase, "step": done, "total": total, "point": p})

    check_cancel(cancel)
    t = Timer()
    add(bench.best_of_n(ns), "best_of_n", t)
    for beta in dpo_betas:
        check_cancel(cancel)
        t = Timer()
        phase = f"dpo_beta_{beta:g}"
        add([bench.dpo(beta, out_dir, epochs=dpo_epochs, progress=_relay(report, phase, done, total),
                       cancel=cancel, command=command)], phase, t)
    check_cancel(cancel)
    t = Timer()
    add([bench.grpo(out_dir, steps=grpo_steps, k=grpo_k, progress=_relay(report, "grpo", done, total),
                    cancel=cancel, command=command)], "grpo", t)
    for folder in ppo_dirs:
        check_cancel(cancel)
        t = Timer()
        add([bench.ppo(folder)], f"ppo_{Path(folder).name}", t)

    result = {
        "version": 1, "seed": seed, "sft": Path(sft_dir).name, "reward": Path(reward_dir).name,
        "eval": {"source": "resources/eval/heldout.tsv (held-out set)", "prompts": len(bench.prompts),
                 "by_kind": _count_kinds(bench.prompts), "sampling": "temperature 1, top_k 0, top_p 1, 20 tokens"},
        "points": points, "seconds": seconds, "total_seconds": round(timer.elapsed(), 2),
        # Wall seconds depend on what else the machine runs; this process's CPU seconds per phase
        # (one torch thread) are about an idle machine's wall clock. Load: 1-minute averages.
        "cpu_seconds": cpu_seconds, "load_average": [load_start, _load_average()],
    }
    write_results(out_dir, result)
    report({"stage": "methods", "phase": "done", "step": total, "total": total, "done": True,
            "total_seconds": result["total_seconds"]})
    return result


def run_one(method: str, sft_dir, reward_dir, out_dir, knobs: dict, *, seed: int = 0,
            progress: ProgressFn | None = None, cancel: threading.Event | None = None,
            per_kind: int = PER_KIND) -> list[dict]:
    """One method with the learner's knobs (the app's live run): best_of_n {"n"}, dpo {"beta",
    optional "epochs"}, grpo {"steps", "k"}. Returns its new points (one; best-of-n: every power of
    two up to n, from one draw, and n itself). Models go to out_dir (the learner's profile)."""
    report = as_progress(progress)
    if method not in ("best_of_n", "dpo", "grpo"):
        raise LabError(f"unknown method {method!r}; choose best_of_n, dpo or grpo")
    report({"stage": "methods", "phase": "load", "step": 0, "total": 1})
    bench = _Bench(sft_dir, reward_dir, seed=seed, per_kind=per_kind)
    check_cancel(cancel)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    relay = _relay(report, method, 0, 1)
    if method == "best_of_n":
        n = int(knobs.get("n", 16))
        if not 1 <= n <= 256:
            raise LabError(f"best-of-n: n must be between 1 and 256, got {n}")
        points = bench.best_of_n(sorted({*(2 ** i for i in range(9) if 2 ** i <= n), n}))
    elif method == "dpo":
        points = [bench.dpo(float(knobs.get("beta", 0.1)), out_dir, epochs=knobs.get("epochs"),
                            progress=relay, cancel=cancel)]
    else:
        steps, k = int(knobs.get("steps", 40)), int(knobs.get("k", 8))
        points = [bench.grpo(out_dir, steps=steps, k=k, name=f"grpo_k{k}_steps{steps}", progress=relay, cancel=cancel)]
    for p in points:
        report({"stage": "methods", "phase": method, "step": 1, "total": 1, "point": p})
    return points


def run_one_in_process(method: str, sft_dir, reward_dir, out_dir, knobs: dict, *,
                       progress: ProgressFn | None = None, cancel=None, in_process: bool | None = None) -> list[dict]:
    """run_one in a spawned process, its progress relayed to this (worker) thread, as
    lab.runs.run_ppo does for PPO and for the same reason: torch's import and the training loop then
    never hold the app's GIL, so the window stays smooth. A frozen build runs in-process."""
    import sys

    from .runs import run_in_process

    args = (method, str(sft_dir), str(reward_dir), str(out_dir))
    if in_process is None:
        in_process = bool(getattr(sys, "frozen", False))
    if in_process:
        return run_one(*args, dict(knobs), progress=progress, cancel=cancel)
    return run_in_process(run_one, (*args, dict(knobs)), name="studyapp-methods", progress=progress, cancel=cancel)


def reward_model_accuracy(reward_dir) -> float | None:
    """The reward model's share of held-out pairs ranked right, as its lab.json records it (the pairs
    DPO's implicit reward is scored on: the same preferences.jsonl, split "heldout"); None when the
    folder has no such record. No torch."""
    try:
        meta = json.loads((Path(reward_dir) / "lab.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    value = (meta.get("result") or {}).get("heldout_accuracy") if isinstance(meta, dict) else None
    return value if isinstance(value, (int, float)) and math.isfinite(value) else None


def _load_average() -> float | None:
    try:
        return round(os.getloadavg()[0], 1)
    except (AttributeError, OSError):   # not on Windows
        return None


def _count_kinds(prompts) -> dict:
    out: dict[str, int] = {}
    for p in prompts:
        out[p.kind] = out.get(p.kind, 0) + 1
    return out


# ----------------------------------------------------------------------------- the results file


def write_results(out_dir, result: dict) -> Path:
    path = Path(out_dir) / RESULTS_FILE
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(result, indent=1, default=str) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def read_results(folder) -> dict | None:
    """methods.json of a folder (a methods folder, or a models folder holding methods/), or None
    when there is none. A file that is not a results file raises LabError naming it. No torch."""
    folder = Path(folder)
    for path in (folder / RESULTS_FILE, folder / "methods" / RESULTS_FILE):
        if path.is_file():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise LabError(f"{path}: not a readable results file ({exc}); make it again with {COMMAND}")
            if not isinstance(data, dict) or not isinstance(data.get("points"), list):
                raise LabError(f"{path}: holds no list of points; make it again with {COMMAND}")
            return data
    return None


def main(argv: Sequence[str] | None = None) -> dict:
    import argparse

    from .common import MODELS_DIR

    ap = argparse.ArgumentParser(prog=COMMAND, description=__doc__.splitlines()[0])
    ap.add_argument("--models", type=Path, default=MODELS_DIR, help="folder holding sft/ and reward/")
    ap.add_argument("--sft", type=Path)
    ap.add_argument("--reward", type=Path)
    ap.add_argument("--out", type=Path, help="default: <models>/methods")
    ap.add_argument("--ppo", type=Path, action="append",
                    help="a PPO policy folder to measure (repeatable; default: <models>/rlhf and rlhf_beta0 if present)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--dpo-betas", type=float, nargs="+", default=list(DPO_BETAS))
    args = ap.parse_args(argv)
    sft, reward = args.sft or args.models / "sft", args.reward or args.models / "reward"
    ppo = args.ppo if args.ppo is not None else [d for d in (args.models / "rlhf", args.models / "rlhf_beta0")
                                                 if (d / "config.json").is_file()]

    def show(m: dict) -> None:
        if "point" in m:
            p = m["point"]
            print(f"{p['label']:<24} sqrt KL {p['sqrt_kl']:5.2f}  gold {p['gold']:+.3f}  proxy {p['proxy']:+.3f}  "
                  f"harmful refused {_pct(p['harmful_refusal'])}  harmless refused {_pct(p['harmless_refusal'])}  "
                  f"facts {_pct(p['fact_accuracy'])}", flush=True)

    result = run_methods(sft, reward, args.out or args.models / "methods", ppo_dirs=ppo, seed=args.seed,
                         progress=show, dpo_betas=args.dpo_betas)
    print(f"seconds: {result['seconds']} total {result['total_seconds']}; CPU seconds: {result['cpu_seconds']}; "
          f"load {result['load_average']}")
    return result


def _pct(x) -> str:
    return "  -" if x is None else f"{x:4.0%}"


if __name__ == "__main__":
    main()
