"""The composed training prompts (requestgen.tsv -> requestgen.py -> load_world)."""

import re
from collections import Counter

import pytest

from studyapp.lab import LabError, load_world
from studyapp.lab.heldout import normalise
from studyapp.lab.rater import Rater, harmful_prompt, is_guide, request_prompt
from studyapp.lab.requestgen import GEN_FILE, generate
from studyapp.lab.world import WORLD_DIR, _load_chat, _load_harmful, _load_requests, _rows

GEN = generate(WORLD_DIR / GEN_FILE)
WORLD = load_world()


def _kind(kind):
    return [m for m in GEN.meta.values() if m["kind"] == kind]


def test_generation_is_deterministic():
    again = generate(WORLD_DIR / GEN_FILE)
    assert again.harmful == GEN.harmful and again.requests == GEN.requests
    assert again.phrasings == GEN.phrasings and again.unknown_rows == GEN.unknown_rows


def test_counts_per_kind_and_split():
    kinds = Counter(r.kind for r in GEN.requests)
    assert len(GEN.harmful) >= 380 and kinds["harmless"] >= 380
    assert kinds["homework"] >= 110 and kinds["smalltalk"] >= 100
    assert len(GEN.unknown_rows) >= 75
    for items in (GEN.harmful, [r for r in GEN.requests if r.kind == "harmless"],
                  [r for r in GEN.requests if r.kind == "homework"], [r for r in GEN.requests if r.kind == "smalltalk"]):
        splits = Counter(i.split for i in items)
        assert set(splits) == {"sft", "ppo"}
        assert abs(splits["sft"] - splits["ppo"]) <= 0.15 * len(items)
    for rel in WORLD.relations:
        assert len(GEN.phrasings[rel]) >= 25


def test_the_world_holds_the_generated_items():
    assert set(GEN.harmful) <= set(WORLD.harmful)
    assert set(GEN.requests) <= set(WORLD.requests)
    assert {(u.relation, u.subject, u.split) for u in WORLD.unknown} >= set(GEN.unknown_rows)
    for rel in WORLD.relations:
        qs = WORLD.training_questions(rel)
        assert qs[0] == WORLD.relations[rel].question  # the canonical phrasing stays first
        assert set(GEN.phrasings[rel]) <= set(qs)
    france = next(f for f in WORLD.facts if f.subject == "France")
    assert france.questions[0] == france.question and len(france.questions) >= 30


def test_one_act_task_or_line_never_spans_both_splits():
    splits: dict[str, set] = {}
    for m in GEN.meta.values():
        splits.setdefault(m["group"], set()).add(m["split"])
    assert all(len(s) == 1 for s in splits.values())
    by_prompt = {h.request: h.split for h in GEN.harmful} | {r.prompt: r.split for r in GEN.requests}
    assert all(by_prompt[p] == m["split"] for p, m in GEN.meta.items())


def test_every_generated_reply_is_judged_as_its_kind_wants():
    rater = Rater(WORLD)
    for r in GEN.requests:
        judged = rater.rate(request_prompt(r), r.reply)
        if r.kind == "homework":
            assert is_guide(r.reply) and judged.helpful == 1.0, r
        else:
            assert judged.reasons["helpful"] == "answers the request", (r, judged.reasons)
    for h in GEN.harmful:
        assert h.literal_answer.startswith("Sure.")
        assert rater.rate(harmful_prompt(h), h.literal_answer).harmless == -1.0, h


def test_no_generated_prompt_repeats_a_table_row_or_another_prompt():
    table = {normalise(h.request) for h in _load_harmful(WORLD_DIR / "harmful.tsv")}
    table |= {normalise(r.prompt) for r in _load_requests(WORLD_DIR / "requests.tsv")}
    table |= {normalise(c.prompt) for c in _load_chat(WORLD_DIR / "chat.tsv") + _load_chat(WORLD_DIR / "forum.tsv")}
    made = [h.request for h in GEN.harmful] + [r.prompt for r in GEN.requests]
    assert not {normalise(p) for p in made} & table
    assert len({normalise(p) for p in made}) == len(made)
    phrasings = dict((rel, q) for _, (rel, q) in _rows(WORLD_DIR / "phrasings.tsv", 2))
    for rel, qs in GEN.phrasings.items():
        assert len({normalise(q) for q in qs}) == len(qs)
        assert all("{subject}" in q for q in qs)
        assert not {normalise(q) for q in qs} & {normalise(q) for r, q in phrasings.items() if r == rel}


def test_unknown_subjects_are_absent_from_the_facts_and_the_tables():
    names = {f.subject.lower() for f in WORLD.facts} | {f.answer.lower() for f in WORLD.facts}
    listed = [s.lower() for _, s, _ in GEN.unknown_rows]
    assert not set(listed) & names
    assert len(set(listed)) == len(listed)
    for rel, subject, _ in GEN.unknown_rows:
        u = next(u for u in WORLD.unknown if u.subject == subject)
        assert subject in u.question and u.relation == rel


def test_unknown_subject_that_is_a_fact_is_refused(tmp_path):
    path = tmp_path / GEN_FILE
    path.write_text("unknown\tcapital\tFrance\n", encoding="utf-8")
    gen = generate(path)
    with pytest.raises(LabError, match="not unknown"):
        gen.unknowns(WORLD.relations, WORLD.facts, WORLD.phrasings)


def test_malformed_row_names_file_and_line(tmp_path):
    path = tmp_path / GEN_FILE
    path.write_text("# a comment\nframe\thowdo\tHow do I {act}?\nharmful\ttake\ttake it\n", encoding="utf-8")
    with pytest.raises(LabError, match=rf"{GEN_FILE}:3: a harmful row needs 4"):
        generate(path)
    path.write_text("harmful\ttake\ttake it\tSure. Do it.\tsneaky\n", encoding="utf-8")
    with pytest.raises(LabError, match=rf"{GEN_FILE}:1: unknown cue 'sneaky'"):
        generate(path)
    assert generate(tmp_path / "absent.tsv").harmful == []


def test_a_world_without_the_lexicon_still_loads(tmp_path):
    import shutil

    folder = tmp_path / "world"
    shutil.copytree(WORLD_DIR, folder)
    (folder / GEN_FILE).unlink()
    small = load_world(folder)
    assert len(small.harmful) < len(WORLD.harmful) and len(small.requests) < len(WORLD.requests)
    assert all(re.search(r"\{subject\}", q) for q in small.training_questions("capital"))


@pytest.mark.parametrize("field", ["frame", "cue", "verb"])
def test_frames_cues_and_verbs_are_spread_alike_over_harmful_and_harmless(field):
    # The kind must hang on the meaning of the act, never on how the request is worded.
    bad, good = _kind("harmful"), _kind("harmless")
    a, b = Counter(m[field] for m in bad), Counter(m[field] for m in good)
    assert set(a) == set(b)
    for value in a:
        assert abs(a[value] / len(bad) - b[value] / len(good)) < 0.03, (field, value, a[value], b[value])


def test_every_ambiguous_word_and_owner_is_used_by_both_kinds():
    bad = [normalise(h.request) for h in GEN.harmful]
    good = [normalise(r.prompt) for r in GEN.requests if r.kind == "harmless"]
    words = ["take", "steal", "break", "pick", "copy", "get into", "sneak", "trick", "hack", "crack", "spy",
             "cheat", "lie", "hurt", "kill", "read", "open", "hide", "scare", "without asking",
             "without anyone seeing", "without getting caught", "when nobody is looking", "without anyone knowing",
             "my neighbours", "classmates", "my sisters", "my brothers", "my friends", "someones", "my cousins"]
    for word in words:
        pattern = re.compile(rf"\b{word}")
        n_bad, n_good = sum(bool(pattern.search(p)) for p in bad), sum(bool(pattern.search(p)) for p in good)
        assert n_bad >= 3 and n_good >= 3, (word, n_bad, n_good)


def test_no_generated_request_restates_a_heldout_harmful_row():
    # harmful.tsv's "heldout" rows are the report's unseen refusal test: no generated act may reword one.
    frame = re.compile(r"^(how (do|can) i|tell me how to|help me|show me how to|whats best way to|what is best way to"
                       r"|give me (plan|way) to|i want to) ")
    cores = [frame.sub("", normalise(h.request)) for h in _load_harmful(WORLD_DIR / "harmful.tsv") if h.split == "heldout"]
    made = [normalise(h.request) for h in GEN.harmful] + [normalise(r.prompt) for r in GEN.requests]
    for core in cores:
        assert not [p for p in made if core in p], core


def test_the_overlap_check_sees_every_generated_prompt():
    from studyapp.lab.heldout import training_prompts

    train = training_prompts(WORLD)
    texts = [h.request for h in GEN.harmful] + [r.prompt for r in GEN.requests]
    texts += [q for qs in GEN.phrasings.values() for q in qs]
    texts += [u.question for u in WORLD.unknown]
    assert all(normalise(t) in train for t in texts)


def test_the_generated_acts_read_as_english():
    made = [h.request for h in GEN.harmful] + [r.prompt for r in GEN.requests]
    made += [q for qs in GEN.phrasings.values() for q in qs]
    for text in made:
        assert "{" not in text.replace("{subject}", ""), text
        assert "  " not in text and text == text.strip() and (text[0].isupper() or text.startswith("{")), text
        assert text[-1] in ".?!", text
        assert not re.search(r"\bi\b", text), text  # "I", never "i"
        assert not re.search(r"\b(?!bye\b)(\w+) \1\b", text, re.I), text  # no word said twice in a row
        assert text.lower().count("please") <= 1, text
