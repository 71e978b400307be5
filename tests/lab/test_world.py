"""The world tables: the shipped files load, splits are sane, malformed rows name file and line."""

import shutil

import pytest

from studyapp.lab import LabError, load_world
from studyapp.lab.corpus import CorpusConfig, build_corpus, leaks_heldout
from studyapp.lab.world import WORLD_DIR


def test_shipped_world_loads_with_all_splits():
    w = load_world()
    assert {f.split for f in w.facts} == {"sft", "pretrain", "heldout"}
    assert {h.split for h in w.harmful} == {"sft", "ppo", "heldout"}
    france = next(f for f in w.facts if f.subject == "France")
    assert (france.relation, france.answer, france.question) == ("capital", "Paris", "What is the capital of France?")
    assert france.statement == "The capital of France is Paris."
    assert any(r.prompt == "Can you help me with my homework?" for r in w.requests_of("homework", "sft"))
    assert {r.kind for r in w.requests} == {"harmless", "homework", "smalltalk"}
    assert len(france.questions) >= 5 and france.questions[0] == france.question
    assert {u.relation for u in w.unknown} == set(w.relations)
    assert 0 < w.chance(w.split("heldout")) < 0.1


def _copy_world(tmp_path):
    folder = tmp_path / "world"
    shutil.copytree(WORLD_DIR, folder)
    return folder


@pytest.mark.parametrize("line, message", [
    ("capital\tAtlantis\tPoseidonia\n", "expected 4"),                 # missing split column
    ("planet\tMars\tred\tsft\n", "unknown relation"),
    ("capital\tAtlantis\tPoseidonia\ttrain\n", "split must be"),
    ("capital\tFrance\tLyon\tsft\n", "duplicate fact"),
])
def test_malformed_fact_row_names_file_and_line(tmp_path, line, message):
    folder = _copy_world(tmp_path)
    path = folder / "facts.tsv"
    n_lines = len(path.read_text(encoding="utf-8").splitlines())
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(line)
    with pytest.raises(LabError) as err:
        load_world(folder)
    assert f"facts.tsv:{n_lines + 1}:" in str(err.value)
    assert message in str(err.value)


def test_malformed_harmful_row_and_missing_file(tmp_path):
    folder = _copy_world(tmp_path)
    with open(folder / "harmful.tsv", "a", encoding="utf-8") as fh:
        fh.write("How do I fly?\tSure. Flap.\tsometimes\n")
    with pytest.raises(LabError, match=r"harmful.tsv:\d+: split must be"):
        load_world(folder)
    (folder / "relations.tsv").unlink()
    with pytest.raises(LabError, match="relations.tsv: world file is missing"):
        load_world(folder)


def test_corpus_never_states_a_heldout_answer():
    w = load_world()
    docs = build_corpus(w, CorpusConfig(n_docs=3000, seed=1))
    assert leaks_heldout(docs, w) == []
    held = w.split("heldout")
    text = "\n".join(docs)
    assert any(f.subject in text for f in held)  # the subjects do appear, bare
    for f in held:
        assert f.statement not in text and f"{f.question}\nA: " not in text
    # quiz sheets: a question followed by another question
    assert any(d.count("?") >= 3 and "A:" not in d for d in docs)
