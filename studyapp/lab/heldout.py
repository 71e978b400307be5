"""The held-out evaluation set: wording and prompts that no training text uses.

    from studyapp.lab.heldout import load_heldout, training_prompts
    ev = load_heldout()           # resources/eval/heldout.tsv
    ev.questions(fact)            # the fact asked in every held-out phrasing of its relation
    ev.prompts("harmful")         # unseen harmful requests (also harmless, homework, smalltalk)
    ev.unknowable                 # [(question, relation)] about subjects the world does not hold

The file was written apart from the training tables (by someone who did not read them), and
tests/lab/test_heldout.py proves it shares no prompt with any training text, after folding case,
punctuation and articles. The report gives every behaviour rate twice: on the training prompts
("template") and on this set ("held-out").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from .common import RESOURCES_DIR, LabError, tsv_rows
from .world import Fact, World

HELDOUT_FILE = RESOURCES_DIR / "eval" / "heldout.tsv"
BLIND_FILE = RESOURCES_DIR / "eval" / "heldout_blind.tsv"
"""A second held-out set in the same format, written blind (its author read no training text), for
checking that figures on HELDOUT_FILE were not shaped by that file having been looked at."""
CATEGORIES = ("phrasing", "harmful", "harmless", "homework", "smalltalk", "unknowable")


@dataclass
class HeldOut:
    phrasings: dict[str, list[str]] = field(default_factory=dict)  # relation -> templates with {subject}
    by_category: dict[str, list[str]] = field(default_factory=dict)
    unknowable: list[tuple[str, str]] = field(default_factory=list)  # (question, relation)

    def fact_items(self, facts) -> list[tuple[str, Fact, str]]:
        """(question, fact, wording) for each fact asked in each held-out wording of its relation."""
        return [(t.format(subject=f.subject), f, t) for f in facts for t in self.phrasings.get(f.relation, [])]

    def questions(self, fact: Fact) -> list[str]:
        return [q for q, _, _ in self.fact_items([fact])]

    def fact_prompts(self, facts) -> list[tuple[str, Fact]]:
        return [(q, f) for q, f, _ in self.fact_items(facts)]

    def prompts(self, category: str) -> list[str]:
        return list(self.by_category.get(category, []))


def load_heldout(path: str | Path | None = None) -> HeldOut:
    """Read the held-out set; a malformed row raises LabError naming the file and the line."""
    if path is None:
        return _default()
    return _load(Path(path))


@lru_cache(maxsize=1)
def _default() -> HeldOut:
    return _load(HELDOUT_FILE)


def _load(path: Path) -> HeldOut:
    ev = HeldOut()
    for lineno, line, cols in tsv_rows(path, "the held-out evaluation set is missing"):
        if len(cols) != 3 or not all(cols):
            raise LabError(f"{path}:{lineno}: expected 3 non-empty tab-separated columns: {line!r}")
        cat, text, key = cols
        if cat not in CATEGORIES:
            raise LabError(f"{path}:{lineno}: category must be one of {CATEGORIES}, got {cat!r}")
        if cat == "phrasing":
            if "{subject}" not in text:
                raise LabError(f"{path}:{lineno}: a phrasing needs {{subject}}: {text!r}")
            ev.phrasings.setdefault(key, []).append(text)
        elif cat == "unknowable":
            ev.unknowable.append((text, key))
        else:
            ev.by_category.setdefault(cat, []).append(text)
    return ev


# ----------------------------------------------------------------------------- overlap


def normalise(text: str) -> str:
    """Lower case, no punctuation, no articles, single spaces: "What's the X?" ~ "whats x"."""
    t = re.sub(r"[^a-z0-9{} ]+", "", text.lower().replace("\u2019", "'").replace("'", ""))
    return " ".join(w for w in t.split() if w not in ("a", "an", "the"))


def training_prompts(world: World) -> set[str]:
    """Every prompt string and question template any training stage uses, normalised."""
    texts: list[str] = []
    for rel in world.relations:
        texts += list(world.training_questions(rel))
    for f in world.facts:
        texts += list(f.questions)
    texts += [h.request for h in world.harmful]
    texts += [r.prompt for r in world.requests]
    texts += [u.question for u in world.unknown]
    texts += [c.prompt for c in world.chat + world.forum]
    return {normalise(t) for t in texts}


def heldout_prompts(world: World, ev: HeldOut) -> set[str]:
    """Every held-out prompt and template, normalised (templates as written, with {subject})."""
    texts = [t for ts in ev.phrasings.values() for t in ts]
    texts += [t for ts in ev.by_category.values() for t in ts]
    texts += [q for q, _ in ev.unknowable]
    return {normalise(t) for t in texts}
