"""The same figures over several seeds of the whole pipeline: mean and range, never one chosen seed.

    studyapp lab seeds RUN_DIR [RUN_DIR ...] [--out DIR]

Each RUN_DIR is a folder `studyapp lab train --seed N --out RUN_DIR` wrote (it holds report.json).
Writes seeds.json and seeds.md into --out (default: the shipped models folder): per figure, the
value of every seed, the mean, the range, and whether the effect holds on every seed. The
lessons and the claims tab quote the shipped seed's figures beside this table, so a learner can
see when an effect depends on the seed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

from .common import LabError

# (label, path into report.json). Held-out figures first: they are the result; template beside.
FIGURES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("base: bare questions continued as a document (held-out set)", ("base", "behaviour", "heldout", "greedy", "continues")),
    ("SFT: seen facts answered (training wording)", ("sft", "behaviour", "facts", "template", "greedy", "correct")),
    ("SFT: seen facts answered (held-out wording)", ("sft", "behaviour", "facts", "heldout", "greedy", "correct")),
    ("SFT: harmful requests obeyed (held-out set)", ("sft", "behaviour", "harmful", "heldout", "greedy", "obeyed")),
    ("SFT: harmful requests refused, sampled (held-out set)", ("sft", "behaviour", "harmful", "heldout", "sampled", "refused")),
    ("SFT: unknowable questions answered with an invented fact (held-out set)", ("sft", "behaviour", "unknowable", "heldout", "greedy", "invents")),
    ("RLHF: seen facts answered (training wording)", ("rlhf", "behaviour", "facts", "template", "greedy", "correct")),
    ("RLHF: seen facts answered (held-out wording)", ("rlhf", "behaviour", "facts", "heldout", "greedy", "correct")),
    ("RLHF: harmful requests refused (training prompts)", ("rlhf", "behaviour", "harmful", "template", "greedy", "refused")),
    ("RLHF: harmful requests refused (held-out set)", ("rlhf", "behaviour", "harmful", "heldout", "greedy", "refused")),
    ("RLHF: harmless look-alikes refused (held-out set)", ("rlhf", "behaviour", "harmless", "heldout", "greedy", "refused")),
    ("RLHF: harmless look-alikes answered 'I don't know' (held-out set)", ("rlhf", "behaviour", "harmless", "heldout", "greedy", "dont_know")),
    ("RLHF: homework guided (held-out set)", ("rlhf", "behaviour", "homework", "heldout", "greedy", "guides")),
    ("RLHF: homework refused (held-out set)", ("rlhf", "behaviour", "homework", "heldout", "greedy", "refused")),
    ("RLHF: small talk refused (held-out set)", ("rlhf", "behaviour", "smalltalk", "heldout", "greedy", "refused")),
    ("RLHF: small talk answered 'I don't know' (held-out set)", ("rlhf", "behaviour", "smalltalk", "heldout", "greedy", "dont_know")),
    ("RLHF: unknowable questions answered 'I don't know' (held-out set)", ("rlhf", "behaviour", "unknowable", "heldout", "greedy", "dont_know")),
    ("reward model: pair accuracy on prompts it never saw", ("reward", "unseen_prompt_accuracy")),
    ("reward model: pair accuracy on the held-out set's prompts", ("reward", "heldout_set_accuracy")),
    # The same targets on the blind set (resources/eval/heldout_blind.tsv), greedy.
    ("SFT: seen facts answered (blind set)", ("sft", "behaviour", "facts", "blind", "greedy", "correct")),
    ("RLHF: seen facts answered (blind set)", ("rlhf", "behaviour", "facts", "blind", "greedy", "correct")),
    ("RLHF: harmful requests refused (blind set)", ("rlhf", "behaviour", "harmful", "blind", "greedy", "refused")),
    ("RLHF: harmless look-alikes refused (blind set)", ("rlhf", "behaviour", "harmless", "blind", "greedy", "refused")),
    ("RLHF: homework guided (blind set)", ("rlhf", "behaviour", "homework", "blind", "greedy", "guides")),
    ("RLHF: small talk refused (blind set)", ("rlhf", "behaviour", "smalltalk", "blind", "greedy", "refused")),
    ("RLHF: unknowable questions answered 'I don't know' (blind set)", ("rlhf", "behaviour", "unknowable", "blind", "greedy", "dont_know")),
)


def _get(d, path):
    for k in path:
        d = d.get(k) if isinstance(d, dict) else None
    return d


def summarise(run_dirs: Sequence[str | Path]) -> dict:
    """{"seeds": [...], "figures": [{label, values, mean, min, max}]} over the runs' report.json.

    Raises LabError naming the folder when one has no readable report.json.
    """
    reports = []
    for d in map(Path, run_dirs):
        path = d / "report.json"
        try:
            rep = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise LabError(f"{path}: no readable report ({exc}); run `studyapp lab train --out {d.name}` first") from exc
        reports.append(rep)
    figures = []
    for label, path in FIGURES:
        values = [_get(r, path) for r in reports]
        nums = [v for v in values if isinstance(v, (int, float))]
        figures.append({"label": label, "path": ".".join(path), "values": values,
                        "mean": round(sum(nums) / len(nums), 4) if nums else None,
                        "min": min(nums) if nums else None, "max": max(nums) if nums else None})
    return {"runs": [Path(d).name for d in run_dirs], "figures": figures}


def render_markdown(summary: dict) -> str:
    runs = summary["runs"]
    head = "| figure | " + " | ".join(runs) + " | mean | range |\n|---|" + "---|" * (len(runs) + 2) + "\n"
    fmt = lambda v: f"{v:.2f}" if isinstance(v, (int, float)) else "-"  # noqa: E731
    rows = "".join(f"| {f['label']} | " + " | ".join(fmt(v) for v in f["values"])
                   + f" | {fmt(f['mean'])} | {fmt(f['min'])}-{fmt(f['max'])} |\n" for f in summary["figures"])
    return ("# The pipeline over several seeds\n\nEvery figure measured greedily on each run's own models; "
            "the held-out set is resources/eval/heldout.tsv, the blind set resources/eval/heldout_blind.tsv. A wide range means the effect depends on the "
            "seed.\n\n" + head + rows)


def write(summary: dict, out_dir: str | Path) -> None:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "seeds.json").write_text(json.dumps(summary, indent=1), encoding="utf-8")
    (out / "seeds.md").write_text(render_markdown(summary), encoding="utf-8")
