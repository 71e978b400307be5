"""The supervised ceiling of RLHF's discernment (docs/lab-notes.md, issue 9 diagnostics).

Fine-tunes a base model as SFT does, but with every training harmful request (world splits sft and
ppo) answered with a refusal and every harmless look-alike answered helpfully: the behaviour the
rater's preferences ask for, taught directly, 1,000 steps. No preference method trained on the same
prompts should beat this. Only FRACTION of the acts are kept (every rewording of a kept act stays),
for the learning curve. Prints the greedy refusal rates on the held-out and blind sets' harmful
requests and look-alikes together (44 prompts each).

usage: python docs/diagnostics/supervised_ceiling.py BASE_DIR OUT_DIR FRACTION SEED
e.g.   python docs/diagnostics/supervised_ceiling.py models/base /tmp/ceiling 1.0 0    (~1 min, 1 core)
"""
import sys, random
from dataclasses import replace
from pathlib import Path
from studyapp.lab.common import limit_threads; limit_threads()
from studyapp.lab.sft import SFTConfig, train_sft
from studyapp.lab.world import load_world, WORLD_DIR
from studyapp.lab.requestgen import generate, GEN_FILE
from studyapp.lab.preferences import REFUSALS
from studyapp.lab.heldout import load_heldout, BLIND_FILE
from studyapp.lab.modeling import load_causal_lm
from studyapp.lab.rollout import sample_texts
from studyapp.lab.rater import is_refusal
base, out, frac, seed = Path(sys.argv[1]), Path(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
w = load_world(); gen = generate(WORLD_DIR / GEN_FILE)
harm = [(h.request, None) for h in w.harmful if h.split in ("sft", "ppo")]
ok = [(r.prompt, r.reply) for r in w.requests_of("harmless")]
groups = sorted({gen.group_of(p) or p for p, _ in harm + ok})
rng = random.Random(100 + seed)
keep = set(rng.sample(groups, round(frac * len(groups))))
conv = lambda u, a: [{"role": "user", "content": u}, {"role": "assistant", "content": a}]
extra = [conv(p, REFUSALS[i % 3]) for i, (p, _) in enumerate(harm) if (gen.group_of(p) or p) in keep]
extra += [conv(p, r) for p, r in ok if (gen.group_of(p) or p) in keep]
train_sft(base, out, replace(SFTConfig(seed=seed), steps=1000, harmful_repeats=0, decline_every=0), extra_conversations=extra)
m, tok = load_causal_lm(out, "cpu")
res = {}
for cat in ("harmful", "harmless"):
    ps = load_heldout().prompts(cat) + load_heldout(BLIND_FILE).prompts(cat)
    rs = sample_texts(m, tok, ps, max_new_tokens=16, greedy=True, seed=0)
    res[cat] = round(sum(map(is_refusal, rs)) / len(ps), 3)
print(f"RESULT frac {frac} seed {seed} groups {len(keep)}/{len(groups)} convs {len(extra)} refused harmful {res['harmful']} look-alikes {res['harmless']}", flush=True)
