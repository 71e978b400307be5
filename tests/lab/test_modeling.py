"""Model folders: saved folders load with plain transformers; broken ones give clear errors."""

import json
import shutil

import pytest
from transformers import AutoModelForCausalLM, AutoTokenizer

from studyapp.lab import LabError
from studyapp.lab.generate import load_model
from studyapp.lab.modeling import validate_folder


@pytest.fixture
def folder(tmp_path, tiny_model_dir):
    dst = tmp_path / "m"
    shutil.copytree(tiny_model_dir, dst)
    return dst


def test_folder_loads_with_plain_transformers(folder):
    model = AutoModelForCausalLM.from_pretrained(folder, local_files_only=True)
    tok = AutoTokenizer.from_pretrained(folder, local_files_only=True)
    assert model.config.model_type == "gpt2" and tok.pad_token == "<|pad|>"
    assert (folder / "README.md").exists() and (folder / "model.safetensors").exists()
    m, t = load_model(folder, "cpu")
    assert not m.training


def test_missing_folder_and_files(tmp_path, folder):
    with pytest.raises(LabError, match="model folder not found"):
        validate_folder(tmp_path / "nope")
    (folder / "model.safetensors").unlink()
    with pytest.raises(LabError, match="model.safetensors is missing"):
        load_model(folder)


def test_pickled_weights_are_refused(folder):
    (folder / "model.safetensors").rename(folder / "pytorch_model.bin")
    with pytest.raises(LabError, match="safetensors only"):
        load_model(folder)


def test_missing_tokenizer(folder):
    for name in ("tokenizer.json",):
        (folder / name).unlink()
    with pytest.raises(LabError, match="tokenizer files are missing"):
        load_model(folder)


def test_wrong_architecture(folder):
    cfg = json.loads((folder / "config.json").read_text())
    cfg["architectures"] = ["BertForMaskedLM"]
    (folder / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(LabError, match="BertForMaskedLM.*causal language model"):
        load_model(folder)
    with pytest.raises(LabError, match="sequence-classification"):
        validate_folder(folder, "sequence-classification")


def test_tokenizer_model_mismatch(folder):
    cfg = json.loads((folder / "config.json").read_text())
    cfg["vocab_size"] = 100  # fewer embeddings than the tokenizer has tokens
    (folder / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(LabError, match="tokenizer does not match the model"):
        load_model(folder)
