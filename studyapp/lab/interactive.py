"""The logic behind the app's RLHF pipeline tab, reward-model playground and HHH explorer (no Qt).

    sample_responses(sft, tok, "What is the capital of France?", k=4)  -> 2-4 Responses, one batch
    ranking_pairs(prompt, ranked_texts)                                 -> k(k-1)/2 Pairs (claim 7)
    finetune_reward(reward_dir, pairs, out_dir)                         -> accuracy before/after, BT probs
    bt_probability(r_a, r_b, shift)                                     -> claim 9, in plain floats
    load_scenarios(); rate_candidates(world, scenario, cands, weights)  -> claims 13 and 14

Everything here runs on the learner's real models: the SFT model samples, the lab's reward model is
fine-tuned with the Bradley-Terry loss, the lab's rater judges. torch loads only inside the
functions that need it, so the UI may import this module at start-up.
"""

from __future__ import annotations

import json
import math
import random
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from .common import RESOURCES_DIR, LabError, Timer, as_progress, check_cancel, check_finite
from .preferences import REFUSALS, Pair, candidate_pool
from .rater import Judgement, Prompt, Rater, RaterWeights, fact_prompt, harmful_prompt
from .world import HarmfulRequest, World, load_world

MAX_PROMPT_CHARS = 200  # the lab's models hold 64 tokens; a longer prompt leaves no room to answer
LEARNER = "learner"  # the split of pairs that come from the learner's own rankings


def check_prompt(text: str) -> str:
    """The prompt, stripped, or a LabError the learner can act on."""
    text = (text or "").strip()
    if not text:
        raise LabError("Type a prompt or pick one from the list first.")
    if len(text) > MAX_PROMPT_CHARS:
        raise LabError(f"The prompt is {len(text)} characters long; the lab's small models read at most "
                       f"{MAX_PROMPT_CHARS} (about 60 tokens). Shorten it.")
    return text


# ----------------------------------------------------------------------------- prompts the rater knows


def course_prompts(world: World | None = None) -> list[tuple[str, str]]:
    """(label, prompt) for the prompt pickers: a few facts of each split, harmful requests, small talk."""
    world = world or load_world()
    out = []
    labels = {"sft": "fact taught in SFT", "pretrain": "fact seen in pretraining only",
              "heldout": "fact the model never saw"}
    for split, n in (("sft", 3), ("pretrain", 3), ("heldout", 2)):
        out += [(labels[split], f.question) for f in world.split(split)[:n]]
    out += [("harmful request", h.request) for h in world.harmful_split("ppo")[:3]]
    out += [("harmful request, never trained on", h.request) for h in world.harmful_split("heldout")[:1]]
    out += [("small talk", c.prompt) for c in world.chat if "homework" in c.prompt.lower()][:1]
    return out


def judged_prompt(world: World, text: str) -> Prompt | None:
    """The rater's view of a prompt: a fact question or a harmful request it knows; None otherwise."""
    key = text.strip().lower()
    for f in world.facts:
        if f.question.lower() == key:
            return fact_prompt(f)
    for h in world.harmful:
        if h.request.lower() == key:
            return harmful_prompt(h)
    return None


# ----------------------------------------------------------------------------- stage 1: sample and rank


@dataclass(frozen=True)
class Response:
    text: str
    source: str  # "SFT model" or "written example: ..." (never passed off as a model's words)

    @property
    def sampled(self) -> bool:
        return not self.source.startswith("written")


def sample_responses(model, tokenizer, prompt: str, k: int = 4, *, seed: int = 0, temperature: float = 1.0,
                     max_new_tokens: int = 24, world: World | None = None) -> list[Response]:
    """k different responses to one prompt, sampled from the model in one batch.

    A well-trained small model often says the same thing twice; we draw 3k samples in the one batch
    and keep the first k distinct ones. If fewer than k differ, the lab's own hand-made variants
    (preferences.candidate_pool: the right answer, a wrong one, a refusal, ...) fill the rest,
    labelled as written examples, just as the lab's preference data mixes them with samples.
    """
    import torch

    from .generate import generate_batch
    from .rollout import decode_responses, encode_prompts, sample
    from .losses import response_mask
    from .tokenizer import stop_ids

    prompt = check_prompt(prompt)
    _few_threads()
    if not 2 <= k <= 4:
        raise LabError(f"rank 2 to 4 responses at a time (asked for {k})")
    n = 3 * k
    if _is_gpt2(model):
        device = next(model.parameters()).device
        ids, att = encode_prompts(tokenizer, [prompt] * n, device)
        if ids.shape[1] >= model.config.n_positions - 4:
            raise LabError("The prompt fills the model's whole context; shorten it.")
        gen = torch.Generator(device=device).manual_seed(seed)
        stop = stop_ids(tokenizer)
        resp = sample(model, ids, att, max_new_tokens=max_new_tokens, stop=stop, pad_id=tokenizer.pad_token_id,
                      temperature=max(temperature, 1e-3), generator=gen)
        texts = decode_responses(tokenizer, resp, response_mask(resp, stop))
    else:  # a learner's own (non-GPT-2) model: the generic batched path
        texts = generate_batch(model, tokenizer, [prompt] * n, max_new_tokens=max_new_tokens, greedy=False,
                               temperature=temperature, seed=seed)
    out: list[Response] = []
    for t in texts:
        t = t.strip()
        if t and t not in {r.text for r in out}:
            out.append(Response(t, "SFT model"))
        if len(out) == k:
            return out
    world = world or load_world()
    judged = judged_prompt(world, prompt)
    fill = candidate_pool(judged, world, random.Random(seed)) if judged else \
        [("refusal", REFUSALS[0]), ("no answer", "I don't know.")]
    for tag, text in fill:
        if len(out) == k:
            break
        if text not in {r.text for r in out}:
            out.append(Response(text, f"written example: {tag}"))
    return out


def _is_gpt2(model) -> bool:
    """The lab's lean sampling loop knows GPT-2 blocks only (rollout.check_gpt2 without raising)."""
    tr = getattr(model, "transformer", None)
    return tr is not None and hasattr(tr, "h") and hasattr(tr.h[0], "attn") and hasattr(tr.h[0].attn, "c_attn")


def ranking_pairs(prompt: str, ranked: Sequence[str]) -> list[Pair]:
    """Every ordered pair of a ranking, best first: k responses give k(k-1)/2 pairs (claim 7)."""
    pairs = []
    for i in range(len(ranked)):
        for j in range(i + 1, len(ranked)):
            if ranked[i].strip() != ranked[j].strip():  # the same text twice is no preference
                pairs.append(Pair(prompt, ranked[i], ranked[j], f"your #{i + 1} > your #{j + 1}",
                                  float(j - i), LEARNER))
    return pairs


def rater_ranking(world: World, prompt: str, texts: Sequence[str],
                  weights: RaterWeights | None = None) -> list[tuple[int, Judgement]] | None:
    """The rater's order of `texts` (indexes, best first, with each judgement); None for a prompt it
    cannot judge (the rater checks answers against the world's tables, so it knows only those)."""
    judged = judged_prompt(world, prompt)
    if judged is None:
        return None
    rater = Rater(world, weights)
    scored = [(i, rater.rate(judged, t)) for i, t in enumerate(texts)]
    return sorted(scored, key=lambda s: -s[1].total)


def rater_agreement(world: World, pairs: Sequence[Pair]) -> dict:
    """How many of the learner's pairs the rater would have ordered the same way. The held-out test
    is the rater's, so pairs that disagree with it teach the reward model to score lower there."""
    rater = Rater(world)
    out = {"agree": 0, "disagree": 0, "tie": 0, "unjudged": 0}
    for p in pairs:
        judged = judged_prompt(world, p.prompt)
        if judged is None:
            out["unjudged"] += 1
            continue
        d = rater.score(judged, p.chosen) - rater.score(judged, p.rejected)
        out["agree" if d > 1e-9 else "disagree" if d < -1e-9 else "tie"] += 1
    return out


# ----------------------------------------------------------------------------- models, loaded once


def _few_threads() -> None:
    """One CPU thread, as the lab's RLHF stages use: on these tiny matrices a second thread only
    waits, and with busy cores we measured a 24-token reply at 7 s with 2 threads, 0.16 s with 1."""
    from .common import limit_threads

    limit_threads()


class ModelCache:
    """Loaded models by folder, reloaded when the folder's weights change (a retrained reward model)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[tuple, tuple] = {}

    @staticmethod
    def _key(kind: str, folder) -> tuple:
        weights = Path(folder) / "model.safetensors"
        stamp = weights.stat().st_mtime_ns if weights.exists() else 0
        return kind, str(Path(folder).resolve()), stamp

    def get(self, kind: str, folder):
        """(model, tokenizer); kind is "policy" or "reward". Raises LabError for a bad folder."""
        from .modeling import load_causal_lm
        from .reward import load_reward_model

        key = self._key(kind, folder)
        with self._lock:  # two tabs asking at once load the model once
            if key not in self._items:
                loader = load_causal_lm if kind == "policy" else load_reward_model
                self._items = {k: v for k, v in self._items.items() if k[:2] != key[:2]}
                self._items[key] = loader(folder, "cpu")
            return self._items[key]


models = ModelCache()


def folder_problem(folder, kind: str = "causal-lm") -> str | None:
    """Why a model folder cannot be used (absent, broken, the wrong kind), or None if it can."""
    from .modeling import validate_folder

    try:
        validate_folder(folder, kind)
    except LabError as exc:
        return str(exc)
    return None


def missing_models(models_dir, names: Sequence[str]) -> dict[str, str]:
    """{name: why it cannot be used} for each checkpoint of models_dir that is absent or broken."""
    out = {}
    for name in names:
        kind = "sequence-classification" if name == "reward" else "causal-lm"
        if (problem := folder_problem(Path(models_dir) / name, kind)) is not None:
            out[name] = problem
    return out


def param_counts(reward_dir, policy_dir) -> dict:
    """Claim 8: the reward model's size next to the policy's (tied embeddings counted once)."""
    from .modeling import count_params

    rm, _ = models.get("reward", reward_dir)
    policy, _ = models.get("policy", policy_dir)
    return {"reward": count_params(rm), "policy": count_params(policy),
            "reward_layers": rm.config.n_layer, "policy_layers": policy.config.n_layer}


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


# ----------------------------------------------------------------------------- stage 2: the reward model


def bt_probability(r_a: float, r_b: float, shift: float = 0.0) -> float:
    """P(A beats B) = sigmoid((r_a + shift) - (r_b + shift)). The shift cancels: claim 9."""
    d = (r_a + shift) - (r_b + shift)
    return 1.0 / (1.0 + math.exp(-d)) if d >= 0 else math.exp(d) / (1.0 + math.exp(d))


def reward_scores(reward_dir, prompts: Sequence[str], responses: Sequence[str]) -> list[float]:
    from .reward import score

    _few_threads()
    rm, tok = models.get("reward", reward_dir)
    return score(rm, tok, list(prompts), list(responses))


def read_pairs(reward_dir) -> dict[str, list[Pair]]:
    """The pairs a reward model was trained on, by split (train, heldout, learner)."""
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
    """
    import torch

    from . import losses as L
    from .modeling import count_params, model_card, save_checkpoint
    from .reward import build_reward_model, load_reward_model, pair_rewards

    cfg = cfg or FinetuneConfig()
    report = as_progress(progress)
    timer = Timer()
    _few_threads()
    torch.manual_seed(cfg.seed)
    data = read_pairs(reward_dir)
    learner_pairs = list(learner_pairs)
    old_learner = data.get(LEARNER, [])
    if cfg.fresh:
        if sft_dir is None:
            raise LabError("a fresh reward model needs the SFT model folder")
        sft, tokenizer = models.get("policy", sft_dir)
        rm = build_reward_model(sft)
    else:
        rm, tokenizer = load_reward_model(reward_dir, "cpu")  # a private copy: the cached one stays in use
    rm.to("cpu")

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
    steps_per_epoch = math.ceil(len(train) / cfg.batch_pairs)
    total, step, history = cfg.epochs * steps_per_epoch, 0, []
    report({"stage": "reward", "step": 0, "total": total, "held_before": held_before})
    for _ in range(cfg.epochs):
        rng.shuffle(train)
        for i in range(0, len(train), cfg.batch_pairs):
            check_cancel(cancel)
            rm.train()
            rc, rr = pair_rewards(rm, tokenizer, train[i:i + cfg.batch_pairs], grad=True)
            loss = L.bradley_terry_loss(rc, rr)
            value = check_finite(loss, "reward model", step)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(rm.parameters(), 1.0)
            opt.step()
            step += 1
            history.append(value)
            report({"stage": "reward", "step": step, "total": total, "loss": value,
                    "accuracy": (rc > rr).float().mean().item()})

    # Rewards with standard deviation 1 over the training answers, as the lab's train_reward leaves
    # them: only differences count for the ranking, but their spread sets how hard PPO pulls against
    # beta * KL, so a learner's model must mean the same beta as the shipped one.
    rm.eval()
    with torch.no_grad():
        rc, rr = pair_rewards(rm, tokenizer, train)
        rm.score.weight.div_(max(torch.cat([rc, rr]).std().item(), 1e-6))
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
    every = data["train"] + data["heldout"] + data["unseen"] + old_learner + learner_pairs
    card = model_card("Reward model (Bradley-Terry), fine-tuned on your rankings",
                      command="the RLHF pipeline tab of studyapp, stage 2", seed=cfg.seed,
                      figures={k: v for k, v in result.items() if isinstance(v, (int, float))},
                      notes=f"Trained from {reward_dir} on its pairs plus {len(learner_pairs)} of the learner's.")
    save_checkpoint(rm.eval(), tokenizer, out_dir, card=card,
                    meta={"stage": "reward", "finetune": vars(cfg), "result": result},
                    extra_files={"preferences.jsonl": "".join(json.dumps(p.as_dict()) + "\n" for p in every)})
    result.update(seconds=round(timer.elapsed(), 2), out_dir=str(out_dir))
    return result


# ----------------------------------------------------------------------------- the HHH explorer


@dataclass
class Scenario:
    id: str
    title: str
    prompt: str
    tension: str
    comply: str  # what literal compliance says ("" when the prompt is a fact question)
    examples: list[tuple[str, str]] = field(default_factory=list)  # (label, written response)


@dataclass
class Candidate:
    source: str  # "base model", "SFT model", "RLHF model" or "written example: a refusal"
    text: str
    reward: float | None = None  # the reward model's score, once measured


@dataclass
class Rated:
    candidate: Candidate
    judgement: Judgement
    rank: int  # 1 = the rater's favourite under the given weights


def load_scenarios(folder=None) -> list[Scenario]:
    """Scenarios and their written examples from hhh_scenarios.tsv and hhh_examples.tsv."""
    from .world import _rows  # the world's own TSV reader: same comments, same error messages

    folder = Path(folder or RESOURCES_DIR / "world")
    scenarios = {}
    for _, (sid, title, prompt, comply, tension) in _rows(folder / "hhh_scenarios.tsv", 5):
        scenarios[sid] = Scenario(sid, title, prompt, tension, "" if comply == "-" else comply)
    for lineno, (sid, label, text) in _rows(folder / "hhh_examples.tsv", 3):
        if sid not in scenarios:
            raise LabError(f"{folder / 'hhh_examples.tsv'}:{lineno}: unknown scenario {sid!r}")
        scenarios[sid].examples.append((label, text))
    return list(scenarios.values())


def scenario_prompt(world: World, scenario: Scenario) -> Prompt:
    """How the rater judges a scenario: as the fact question or harmful request it is, or (a request
    the world does not list, like homework) as a request whose literal compliance is `comply`."""
    judged = judged_prompt(world, scenario.prompt)
    if judged is not None:
        return judged
    if not scenario.comply:
        raise LabError(f"scenario {scenario.id}: the rater knows no answer to {scenario.prompt!r}")
    return harmful_prompt(HarmfulRequest(scenario.prompt, scenario.comply, "scenario"))


def model_responses(folders: dict[str, Path], prompt: str, *, max_new_tokens: int = 40) -> dict[str, str]:
    """Greedy replies of each model folder: the base model gets the bare text (that is how a base
    model is used: it continues documents), the others the chat format."""
    _few_threads()
    out = {}
    for name, folder in folders.items():
        model, tok = models.get("policy", folder)
        out[name] = greedy_reply(model, tok, prompt, chat=(name != "base"), max_new_tokens=max_new_tokens)
    return out


def greedy_reply(model, tokenizer, prompt: str, *, chat: bool = True, max_new_tokens: int = 40) -> str:
    """The model's most likely reply. GPT-2 models take the lab's lean KV-cache loop (Hugging Face's
    generate costs ~10x more per token on these tiny models); any other model takes generate."""
    from .generate import generate_batch
    from .losses import response_mask
    from .rollout import decode_responses, sample
    from .tokenizer import encode_prompt, pad_batch, stop_ids

    if not _is_gpt2(model):
        return generate_batch(model, tokenizer, [prompt], max_new_tokens=max_new_tokens, greedy=True,
                              chat=chat)[0].strip()
    ids, att = pad_batch([encode_prompt(tokenizer, prompt, chat)], tokenizer.pad_token_id, "left")
    if ids.shape[1] >= model.config.n_positions - 1:
        raise LabError("The prompt fills the model's whole context; shorten it.")
    stop = stop_ids(tokenizer)
    resp = sample(model, ids, att, max_new_tokens=max_new_tokens, stop=stop, pad_id=tokenizer.pad_token_id,
                  greedy=True)
    return decode_responses(tokenizer, resp, response_mask(resp, stop))[0]


MODEL_LABELS = {"base": "base model (plain text in)", "sft": "SFT model", "rlhf": "RLHF model"}


def scenario_candidates(scenario: Scenario, folders: dict, reward_dir=None) -> tuple[str, list[Candidate]]:
    """Each model's reply, then the written examples, each scored by the reward model if one is given."""
    replies = model_responses(folders, scenario.prompt)
    candidates = [Candidate(MODEL_LABELS.get(name, name), text) for name, text in replies.items()]
    candidates += [Candidate(f"written example: {label}", text) for label, text in scenario.examples]
    if reward_dir is not None:
        scores = reward_scores(reward_dir, [scenario.prompt] * len(candidates), [c.text for c in candidates])
        for c, r in zip(candidates, scores):
            c.reward = r
    return scenario.id, candidates


def rate_candidates(world: World, scenario: Scenario, candidates: Sequence[Candidate],
                    weights: RaterWeights) -> list[Rated]:
    """Judge every candidate under the given weights and rank them (ties share a rank)."""
    rater = Rater(world, weights)
    prompt = scenario_prompt(world, scenario)
    judged = [(c, rater.rate(prompt, c.text)) for c in candidates]
    order = sorted(judged, key=lambda cj: -cj[1].total)
    out, rank, last = [], 0, None
    for n, (c, j) in enumerate(order, start=1):
        if last is None or j.total < last - 1e-9:
            rank, last = n, j.total
        out.append(Rated(c, j, rank))
    return out


def hhh_conflicts(world: World | None = None, scenarios: Sequence[Scenario] | None = None,
                  grid: Sequence[float] = (0.25, 0.5, 1.0, 2.0, 4.0)) -> dict:
    """Claim 14 measured on the written examples: for each scenario, which answer the rater puts first
    under each weighting of (helpful, honest, harmless) on a grid of positive weights (every
    criterion counts a little; a zero weight would make answers tie for trivial reasons). A scenario
    where the winner changes with the weights is one where the criteria pull against each other."""
    from itertools import product

    world = world or load_world()
    out = {}
    for s in scenarios or load_scenarios():
        cands = [Candidate(label, text) for label, text in s.examples]
        winners: dict[str, dict] = {}
        for h, o, x in product(grid, repeat=3):
            rated = rate_candidates(world, s, cands, RaterWeights(helpful=h, honest=o, harmless=x, bias=0.0))
            top = " = ".join(r.candidate.source for r in rated if r.rank == 1)   # a tie wins together
            winners.setdefault(top, dict(helpful=h, honest=o, harmless=x))
        out[s.id] = {"prompt": s.prompt, "winners": winners, "conflict": len(winners) > 1}
    return {"scenarios": out, "conflicts": sum(v["conflict"] for v in out.values()), "n_scenarios": len(out)}
