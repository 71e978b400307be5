"""Many more training prompts than the hand-written tables hold, composed from resources/world/requestgen.tsv.

The hand-written tables give the reward model ~20 harmful requests and a few dozen look-alikes,
homework lines and small talk: too few to learn *why* a request is harmful, so it memorises
prompts. This module composes hundreds of each from small word lists (see the file's header):

    harmful   frame x act x owner x cue   "How can I take my sister's sweets without asking?"
    harmless  the SAME frames and cues, and acts with the SAME verbs, used innocently
              "What's the best way to steal the flag in capture the flag without getting caught?"
    homework  frame x task                "Could you do my science project tonight?" -> a guide
    smalltalk hand-written lines, and "I feel {feeling}" x feelings
    unknown   subjects no table answers, asked in the training phrasings
    phrasings opener x (question | wrap x noun phrase) x closer, per fact relation

Nothing here is random: every choice is a least-used-first sweep over the lists, so the same file
always gives the same world, and frames and cues are spread evenly over both kinds. Whether a request
is harmful depends on its act (whose thing, harm, consent, deception), never on its wording. Acts,
homework tasks and small-talk lines alternate between the "sft" and "ppo" splits; one act never
lands in both, so prompts of the other split are truly unseen.

`generate(path)` returns a Generated; `world.load_world()` adds it to the World.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .common import LabError, tsv_rows
from .items import HarmfulRequest, Request, Unknown

GEN_FILE = "requestgen.tsv"
SPLITS = ("sft", "ppo")

# table -> (min, max) number of columns after the table name
_TABLES = {
    "count": (2, 2), "frame": (2, 2), "cue": (2, 2), "owner": (2, 2),
    "harmful": (4, 4), "harmless": (4, 4),
    "hwframe": (2, 2), "hwtask": (3, 3), "hwopen": (2, 2),
    "talk": (3, 3), "feeling": (2, 2), "feelframe": (2, 2),
    "unknown": (2, 2),
    "opener": (2, 2), "core": (2, 2), "np": (2, 2), "wrap": (2, 2), "closer": (2, 2),
}
_DEFAULT_COUNTS = {"harmful": 400, "harmless": 400, "homework": 120, "phrasings": 30}


@dataclass(frozen=True)
class Act:
    kind: str  # "harmful" or "harmless"
    verb: str
    text: str  # may hold {owner}
    reply: str
    cues: tuple[str, ...]  # cue ids this act allows besides none
    split: str
    key: str  # the group: every prompt made from this act


@dataclass
class Generated:
    """Everything composed from requestgen.tsv. `meta[prompt]` says how each prompt was made."""

    harmful: list[HarmfulRequest] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)
    phrasings: dict[str, tuple[str, ...]] = field(default_factory=dict)
    unknown_rows: list[tuple[str, str, str]] = field(default_factory=list)  # (relation, subject, split)
    meta: dict[str, dict] = field(default_factory=dict)

    def add_phrasings(self, phrasings: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        """`phrasings` with the generated question templates after each relation's own (canonical first)."""
        for rel in self.phrasings:
            if rel not in phrasings:
                raise LabError(f"{GEN_FILE}: unknown relation {rel!r} (known: {', '.join(phrasings)})")
        return {rel: qs + tuple(q for q in self.phrasings.get(rel, ()) if q not in qs)
                for rel, qs in phrasings.items()}

    def unknowns(self, relations, facts, phrasings: dict[str, tuple[str, ...]]) -> list[Unknown]:
        """The unknowable subjects as Unknown items, each asked in one of its relation's phrasings
        (in turn, canonical first). A subject that some fact names raises LabError."""
        known = {f.subject.lower() for f in facts} | {f.answer.lower() for f in facts}
        out, turn = [], Counter()
        for rel, subject, split in self.unknown_rows:
            if rel not in relations:
                raise LabError(f"{GEN_FILE}: unknown relation {rel!r} (known: {', '.join(relations)})")
            if subject.lower() in known:
                raise LabError(f"{GEN_FILE}: {subject!r} is in facts.tsv, so it is not unknown")
            qs = phrasings.get(rel) or (relations[rel].question,)
            out.append(Unknown(rel, subject, split, qs[turn[rel] % len(qs)].format(subject=subject)))
            turn[rel] += 1
        return out

    def group_of(self, prompt: str) -> str | None:
        """The act, task or line a generated prompt was made from (None for other prompts): prompts
        of one group are rewordings of each other and belong on the same side of any split."""
        m = self.meta.get(prompt)
        return m["group"] if m else None


# ----------------------------------------------------------------------------- reading


def _read(path: Path) -> dict[str, list[tuple[int, list[str]]]]:
    tables: dict[str, list[tuple[int, list[str]]]] = {name: [] for name in _TABLES}
    for lineno, line, cols in tsv_rows(path, "the request generator's lexicon is missing"):
        name, rest = cols[0], cols[1:]
        if name not in _TABLES:
            raise LabError(f"{path}:{lineno}: unknown table {name!r} (known: {', '.join(_TABLES)})")
        lo, hi = _TABLES[name]
        if not lo <= len(rest) <= hi or any(not c for c in rest):
            raise LabError(f"{path}:{lineno}: a {name} row needs {lo} non-empty tab-separated "
                           f"columns after the table name ('-' for none), got {len(rest)}: {line!r}")
        tables[name].append((lineno, ["" if c == "-" else c for c in rest]))
    return tables


def _spread(total: int, n: int) -> list[int]:
    """`total` split into `n` near-equal whole parts, the larger ones first."""
    return [total // n + (1 if i < total % n else 0) for i in range(n)] if n else []


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


# ----------------------------------------------------------------------------- requests


def _acts(tables, kind: str, cue_ids: set[str], owner_ids: set[str], path: Path) -> list[Act]:
    rows = tables[kind]
    verbs: list[str] = []
    for _, (verb, *_rest) in rows:
        if verb not in verbs:
            verbs.append(verb)
    out, per_verb = [], Counter()
    for lineno, (verb, text, reply, cues) in rows:
        allowed = tuple(c for c in cues.split(",") if c) if cues else ()
        bad = [c for c in allowed if c not in cue_ids]
        if bad:
            raise LabError(f"{path}:{lineno}: unknown cue {bad[0]!r} (known: {', '.join(sorted(cue_ids))})")
        m = _OWNER.search(text)
        if m and m.group(1) and not set(m.group(1).split(",")) <= owner_ids:
            raise LabError(f"{path}:{lineno}: unknown owner in {m.group(0)!r} (known: {', '.join(sorted(owner_ids))})")
        if kind == "harmful" and not reply.startswith("Sure."):
            raise LabError(f"{path}:{lineno}: a harmful act's literal answer starts with 'Sure.': {reply!r}")
        # Acts of one verb alternate between the splits; verbs alternate which split goes first.
        split = SPLITS[(per_verb[verb] + verbs.index(verb)) % 2]
        per_verb[verb] += 1
        out.append(Act(kind, verb, text, reply, allowed, split, f"{kind}:{text}"))
    return out


_OWNER = re.compile(r"\{owner(?::([a-z,]+))?\}")


def _owner_ids(text: str, owners) -> list[str]:
    """The owner ids an act takes: all for {owner}, the listed ones for {owner:neighbour,someone}."""
    m = _OWNER.search(text)
    if not m:
        return []
    return m.group(1).split(",") if m.group(1) else [o for o, _ in owners]


def _fill(text: str, owner: str, cue: str) -> str:
    """An act with its owner in place and its cue at {cue}, or at the end when it has no {cue}."""
    text = _OWNER.sub(owner, text)
    if "{cue}" in text:
        return text.replace("{cue}", f" {cue}" if cue else "")
    return f"{text} {cue}" if cue else text


def _compose_requests(acts: list[Act], frames, cues: dict[str, str], owners, total: int,
                      cue_target: dict[str, float], taken: set[str], meta: dict) -> list[tuple[str, Act]]:
    """`total` prompts spread evenly over verbs, then over each verb's acts. For each prompt the
    cue furthest below its target share goes first, then the least-used frame and owner."""
    verbs: list[str] = []
    for a in acts:
        if a.verb not in verbs:
            verbs.append(a.verb)
    frame_n, cue_n = Counter(), Counter()
    out: list[tuple[str, Act]] = []
    made = 0
    for verb, n_verb in zip(verbs, _spread(total, len(verbs))):
        vacts = [a for a in acts if a.verb == verb]
        for act, n_act in zip(vacts, _spread(n_verb, len(vacts))):
            owner_n = Counter()
            for _ in range(n_act):
                made += 1
                options = [""] + list(act.cues)
                cue_order = sorted(options, key=lambda c: (cue_n[c] / (cue_target[c] * made + 1e-9), options.index(c)))
                own = _owner_ids(act.text, owners) or [""]
                own_order = sorted(own, key=lambda o: (owner_n[o], own.index(o)))
                frame_order = sorted(range(len(frames)), key=lambda i: (frame_n[i], i))
                pick = None
                for c in cue_order:
                    for o in own_order:
                        for fi in frame_order:
                            body = _fill(act.text, dict(owners).get(o, ""), cues[c] if c else "")
                            prompt = frames[fi][1].replace("{act}", body)
                            if prompt.lower() not in taken:
                                pick = (c, o, fi, prompt)
                                break
                        if pick:
                            break
                    if pick:
                        break
                if pick is None:  # every combination is used: the act has no more wordings
                    continue
                c, o, fi, prompt = pick
                taken.add(prompt.lower())
                cue_n[c] += 1
                owner_n[o] += 1
                frame_n[fi] += 1
                meta[prompt] = {"kind": act.kind, "frame": frames[fi][0], "cue": c, "owner": o,
                                "verb": act.verb, "group": act.key, "split": act.split}
                out.append((prompt, act))
    return out


# ----------------------------------------------------------------------------- the rest


def _homework(tables, total: int, taken: set[str], meta: dict) -> list[Request]:
    frames = [(typ, text) for _, (typ, text) in tables["hwframe"]]
    opens = [text for _, (_, text) in tables["hwopen"]]
    tasks = tables["hwtask"]
    if not (frames and opens and tasks):
        return []
    out, frame_n, by_type = [], Counter(), Counter()
    for (_, (types, task, step)), n in zip(tasks, _spread(total, len(tasks))):
        kinds = set(types.split(","))
        allowed = [i for i, (typ, _) in enumerate(frames) if typ == "do" or typ in kinds]
        first = sorted(kinds)[0]
        split = SPLITS[by_type[first] % 2]
        by_type[first] += 1
        for _ in range(n):
            for i in sorted(allowed, key=lambda i: (frame_n[i], i)):
                prompt = frames[i][1].replace("{task}", task)
                if prompt.lower() not in taken:
                    break
            else:
                break
            taken.add(prompt.lower())
            frame_n[i] += 1
            reply = f"{opens[len(out) % len(opens)]} {step}"
            meta[prompt] = {"kind": "homework", "frame": frames[i][1], "group": f"homework:{task}", "split": split}
            out.append(Request("homework", prompt, reply, split))
    return out


def _smalltalk(tables, taken: set[str], meta: dict) -> list[Request]:
    out, per_group = [], Counter()
    for _, (group, prompt, reply) in tables["talk"]:
        split = SPLITS[per_group[group] % 2]
        per_group[group] += 1
        if prompt.lower() in taken:
            continue
        taken.add(prompt.lower())
        meta[prompt] = {"kind": "smalltalk", "group": f"smalltalk:{prompt}", "split": split}
        out.append(Request("smalltalk", prompt, reply, split))
    frames = [text for _, (_, text) in tables["feelframe"]]
    for k, (_, (word, reply)) in enumerate(tables["feeling"]):
        split = SPLITS[k % 2]
        for frame in frames:
            prompt = frame.replace("{feeling}", word)
            if prompt.lower() in taken:
                continue
            taken.add(prompt.lower())
            meta[prompt] = {"kind": "smalltalk", "frame": frame, "group": f"feeling:{word}", "split": split}
            out.append(Request("smalltalk", prompt, reply, split))
    return out


def _unknown_rows(tables) -> list[tuple[str, str, str]]:
    out, per_rel = [], Counter()
    for _, (rel, subject) in tables["unknown"]:
        # One in four is answered "I don't know" in SFT (as unknown.tsv does); the rest are for PPO.
        out.append((rel, subject, "sft" if per_rel[rel] % 4 == 0 else "ppo"))
        per_rel[rel] += 1
    return out


def _phrasings(tables, per_relation: int) -> dict[str, tuple[str, ...]]:
    openers = [text for _, (_, text) in tables["opener"]] or [""]
    closers = [(mode, text) for _, (mode, text) in tables["closer"]] or [("insert", "")]
    wraps = [text for _, (_, text) in tables["wrap"]]
    rels: list[str] = []
    for table in ("core", "np"):
        for _, (rel, _) in tables[table]:
            if rel not in rels:
                rels.append(rel)
    out = {}
    for rel in rels:
        bodies = [t for _, (r, t) in tables["core"] if r == rel]
        nps = [t for _, (r, t) in tables["np"] if r == rel]
        # Interleave the questions and the wrapped noun phrases, so the first ones are all different.
        wrapped = [w.replace("{np}", nps[(i + j) % len(nps)]) for j, w in enumerate(wraps) for i in range(len(nps))] if nps else []
        pool, i = [], 0
        while i < max(len(bodies), len(wrapped)):
            pool += [b for b in (bodies[i:i + 1] + wrapped[i:i + 1])]
            i += 1
        found, seen = [], set()
        k = 0
        while len(found) < per_relation and k < len(pool) * len(openers) * len(closers):
            body = pool[k % len(pool)]
            opener = openers[(k // len(pool) + k) % len(openers)]
            mode, closer = closers[(k // len(pool) + 2 * k) % len(closers)]
            k += 1
            keep = body.startswith(("I ", "I'", "{"))
            text = f"{opener} {body if keep else body[:1].lower() + body[1:]}" if opener else _sentence(body)
            if closer and closer.lower().rstrip("!.") in opener.lower():
                continue  # "Please, ..., please?"
            if closer and mode == "insert":
                text = f"{text[:-1]}, {closer}{text[-1]}"
            elif closer:
                text = f"{text} {closer}"
            if text.lower() not in seen:
                seen.add(text.lower())
                found.append(text)
        out[rel] = tuple(found)
    return out


# ----------------------------------------------------------------------------- entry point


def generate(path: str | Path) -> Generated:
    """Compose everything from the lexicon at `path`; an absent file gives an empty Generated."""
    path = Path(path)
    gen = Generated()
    if not path.exists():
        return gen
    tables = _read(path)
    counts = dict(_DEFAULT_COUNTS)
    for lineno, (kind, number) in tables["count"]:
        if kind not in counts or not number.isdigit():
            raise LabError(f"{path}:{lineno}: a count row needs one of {', '.join(counts)} and a number")
        counts[kind] = int(number)
    frames = [(fid, text) for _, (fid, text) in tables["frame"]]
    cues = {cid: text for _, (cid, text) in tables["cue"]}
    owners = [(oid, text) for _, (oid, text) in tables["owner"]]
    taken: set[str] = set()

    harmless = _acts(tables, "harmless", set(cues), {o for o, _ in owners}, path)
    harmful = _acts(tables, "harmful", set(cues), {o for o, _ in owners}, path)
    if frames and harmless and harmful:
        # The look-alikes go first with an even target (no cue half the time); the harmful requests
        # then aim at the shares the look-alikes reached, so a cue says nothing about the kind.
        even = {"": 0.5, **{c: 0.5 / max(1, len(cues)) for c in cues}}
        made = _compose_requests(harmless, frames, cues, owners, counts["harmless"], even, taken, gen.meta)
        share = Counter(gen.meta[p]["cue"] for p, _ in made)
        target = {c: max(share[c], 0.5) / max(1, len(made)) for c in even}
        gen.requests += [Request("harmless", p, a.reply, a.split) for p, a in made]
        bad = _compose_requests(harmful, frames, cues, owners, counts["harmful"], target, taken, gen.meta)
        gen.harmful += [HarmfulRequest(p, a.reply, a.split) for p, a in bad]
    gen.requests += _homework(tables, counts["homework"], taken, gen.meta)
    gen.requests += _smalltalk(tables, taken, gen.meta)
    gen.unknown_rows = _unknown_rows(tables)
    gen.phrasings = _phrasings(tables, counts["phrasings"])
    return gen
