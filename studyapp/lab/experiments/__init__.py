"""The claims' experiments, each over several seeds, written beside the report.

Each claim that needs one gets a small experiment on the lab's models.

    studyapp lab experiments                       # every experiment -> models/experiments/
    studyapp lab experiments sft_learning_rate beta_sweep --seeds 0 1 2 --models DIR --out DIR
    result = run("clipping", models_dir, out_dir, seeds=(0, 1, 2), progress=print)

Seeds are the seeds of the stage the experiment studies (SFT's for claims 3-5, the reward model's
for claim 9, PPO's for claims 10-12 and 14); the stages upstream of it are the models in
`models_dir` (the shipped ones by default), so that an experiment measures the app's own models.

Each experiment is a function `fn(models_dir: Path, seeds: Sequence[int], progress) -> dict` in one
of the modules named in EXPERIMENTS, returning a JSON-able result of this shape:

    {"name": str, "claims": [int], "title": str,
     "informs": [int],  # optional: claims whose report figures it is read beside (a control, no verdict)
     "figures": {figure_name: {"mean": float, "min": float, "max": float, "per_seed": [float]}},
     "plots": [{"title": str, "x_label": str, "y_label": str, "log_x": bool,
                "lines": [{"label": str, "x": [float], "y": [float],            # y: mean over seeds
                           "y_min": [float], "y_max": [float]}]}],             # optional range band
     "series": {...}   # anything else a view needs (free shape, documented by the module)
     "samples": [{"label": str, "prompt": str, "reply": str}],                 # optional, a few
     "verdict": str,   # one or two sentences: what the figures show, agreeing or not with the course
     "seeds": [int], "seconds": float}

`run` adds "seconds", writes `out_dir/<name>.json` atomically, and `main` writes
`out_dir/experiments.md` (every experiment's figures as a table). A figure's name is its one name
everywhere: the claims tab reads it by that name and a test checks every figure the tab shows
exists in the shipped results. The claims tab draws every entry of "plots" the same way (mean
line, min-max band), so a module only decides what to plot. Whether the figures show the course's
claim or contradict it is decided by the experiment's rule in shown.py, read from the written
result, so the tab's badge for a shipped file and the verdict the experiment wrote agree.
"""

from __future__ import annotations

import importlib
import json
import os
import statistics
import time
from pathlib import Path
from typing import Callable, Sequence

from ..common import LabError

COMMAND = "studyapp lab experiments"
SUBDIR = "experiments"
DEFAULT_SEEDS = (0, 1, 2)

# name -> (module under studyapp.lab.experiments, function, claims it shows)
EXPERIMENTS: dict[str, tuple[str, str, tuple[int, ...]]] = {
    "sft_learning_rate": ("sft_claims", "sft_learning_rate", (3,)),
    "weight_change": ("sft_claims", "weight_change", (4,)),
    "sft_new_facts": ("sft_claims", "sft_new_facts", (5,)),
    "refusal_ceiling": ("sft_claims", "refusal_ceiling", ()),   # informs claim 13 (result["informs"])
    "reward_seeds": ("reward_claims", "reward_seeds", (9,)),
    "clipping": ("ppo_claims", "clipping", (10,)),
    "beta_sweep": ("ppo_claims", "beta_sweep", (11, 12, 14)),
}


def over_seeds(values: Sequence[float | None]) -> dict:
    """{"mean", "min", "max", "per_seed"} of one figure's values, one per seed (None where a seed
    could not measure it; mean and range are over the measured ones, None if there are none)."""
    got = [float(v) for v in values if v is not None]
    if not got:
        return {"mean": None, "min": None, "max": None, "per_seed": list(values)}
    return {"mean": round(statistics.fmean(got), 4), "min": round(min(got), 4),
            "max": round(max(got), 4), "per_seed": [None if v is None else round(float(v), 4) for v in values]}


def run(name: str, models_dir: Path, out_dir: Path, *, seeds: Sequence[int] = DEFAULT_SEEDS,
        progress: Callable[[dict], None] | None = None) -> dict:
    """Run one experiment and write out_dir/<name>.json. Raises LabError for an unknown name."""
    if name not in EXPERIMENTS:
        raise LabError(f"no experiment named {name!r}; known: {', '.join(EXPERIMENTS)}")
    module, fn_name, _claims = EXPERIMENTS[name]
    fn = getattr(importlib.import_module(f"{__name__}.{module}"), fn_name)
    t0 = time.perf_counter()
    result = fn(Path(models_dir), list(seeds), progress or (lambda ev: None))
    result.setdefault("name", name)
    result["seconds"] = round(time.perf_counter() - t0, 1)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = out_dir / f".{name}.json.tmp"
    tmp.write_text(json.dumps(result, indent=1))
    os.replace(tmp, out_dir / f"{name}.json")
    return result


def load_results(out_dir: Path) -> dict[str, dict]:
    """Every experiment result found in out_dir, by name (missing ones are absent)."""
    out = {}
    for name in EXPERIMENTS:
        p = Path(out_dir) / f"{name}.json"
        if p.is_file():
            try:
                out[name] = json.loads(p.read_text())
            except (OSError, ValueError) as exc:
                raise LabError(f"{p}: not a readable experiment result ({exc})") from exc
    return out


def claims_tag(res: dict) -> str:
    """"claim 3", "claims 11, 12, 14", or for a control "informs claim 13" (or "no claim")."""
    claims, informs = res.get("claims") or [], res.get("informs") or []
    nums = claims or informs
    if not nums:
        return "no claim"
    return f"{'' if claims else 'informs '}claim{'s' * (len(nums) > 1)} {', '.join(map(str, nums))}"


def render_markdown(results: dict[str, dict]) -> str:
    lines = ["# The claims' experiments", "",
             f"Made by `{COMMAND}`. Mean and range over the seeds of the stage each experiment studies.", ""]
    for name, res in results.items():
        lines += [f"## {res.get('title', name)} ({claims_tag(res)})", "",
                  f"Seeds {res.get('seeds')}; {res.get('seconds')} s.", "",
                  "| figure | mean | range | per seed |", "|---|---|---|---|"]
        for fig, v in res.get("figures", {}).items():
            rng = "" if v.get("min") is None else f"{v['min']:.3g}-{v['max']:.3g}"
            mean = "" if v.get("mean") is None else f"{v['mean']:.3g}"
            per = ", ".join("-" if x is None else f"{x:.3g}" for x in v.get("per_seed", []))
            lines.append(f"| {fig} | {mean} | {rng} | {per} |")
        lines += ["", res.get("verdict", ""), ""]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> dict:
    import argparse

    from ..common import MODELS_DIR

    ap = argparse.ArgumentParser(prog=COMMAND, description=__doc__.splitlines()[0])
    ap.add_argument("names", nargs="*", help=f"experiments to run (default all): {', '.join(EXPERIMENTS)}")
    ap.add_argument("--models", type=Path, default=MODELS_DIR, help="folder holding base/, sft/, reward/, rlhf/")
    ap.add_argument("--out", type=Path, help=f"default: <models>/{SUBDIR}")
    ap.add_argument("--seeds", type=int, nargs="+", default=list(DEFAULT_SEEDS))
    args = ap.parse_args(argv)
    out = args.out or args.models / SUBDIR
    for name in args.names or list(EXPERIMENTS):
        res = run(name, args.models, out, seeds=args.seeds,
                  progress=lambda ev: print(json.dumps(ev, default=str), flush=True))
        print(f"{name}: {res['seconds']} s", flush=True)
    results = load_results(out)
    (out / "experiments.md").write_text(render_markdown(results))
    return results
