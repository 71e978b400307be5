"""Malformed model folders: each is refused before torch loads anything, by a message that names
the file (and the field, for a size). A folder is built by hand here, so no model is trained."""
import json
import struct

import pytest

from studyapp import config as cfg
from studyapp.lab.common import LabError
from studyapp.lab.modeling import validate_folder

CONFIG = {"architectures": ["GPT2LMHeadModel"], "model_type": "gpt2", "n_embd": 16, "n_layer": 1,
          "n_head": 2, "n_positions": 32, "vocab_size": 50}
TOKENIZER = {"model": {"type": "BPE", "vocab": {"a": 0, "b": 1}, "merges": []},
             "added_tokens": [{"id": 2, "content": "<|pad|>", "special": True}]}


def safetensors_bytes() -> bytes:
    header = json.dumps({"__metadata__": {"format": "pt"}}).encode()
    return struct.pack("<Q", len(header)) + header


def make_folder(root, config=None, tokenizer=None, files=None):
    folder = root / "m"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps(CONFIG if config is None else config))
    (folder / "model.safetensors").write_bytes(safetensors_bytes())
    (folder / "tokenizer.json").write_text(json.dumps(TOKENIZER if tokenizer is None else tokenizer))
    for name, data in (files or {}).items():
        path = folder / name
        if data is None:
            path.unlink()
        else:
            path.write_bytes(data if isinstance(data, bytes) else data.encode())
    return folder


def with_config(**changes):
    return {"config": {**CONFIG, **changes}}


def index(weight_map):
    return json.dumps({"metadata": {}, "weight_map": weight_map})


SHARDED = {"model.safetensors": None, "model-00001-of-00001.safetensors": safetensors_bytes()}

CASES = [
    # (id, folder changes, the file the message names, fragment)
    ("index-names-bin", {"files": {**SHARDED, "model.safetensors.index.json": index(
        {"wte": "model-00001-of-00001.safetensors", "h.0": "pytorch_model-00001.bin"}),
        "pytorch_model-00001.bin": b"\x80\x04K."}}, "model.safetensors.index.json",
     "weight_map names 'pytorch_model-00001.bin'; the lab loads safetensors only"),
    ("index-names-pt", {"files": {**SHARDED, "model.safetensors.index.json": index({"w": "weights.pt"})}},
     "model.safetensors.index.json", "weight_map names 'weights.pt'; the lab loads safetensors only"),
    ("index-escapes-folder", {"files": {**SHARDED, "model.safetensors.index.json": index(
        {"w": "../other/model.safetensors"})}}, "model.safetensors.index.json", "not a file in this folder"),
    ("index-absolute-path", {"files": {**SHARDED, "model.safetensors.index.json": index(
        {"w": "/etc/model.safetensors"})}}, "model.safetensors.index.json", "not a file in this folder"),
    ("index-shard-missing", {"files": {**SHARDED, "model.safetensors.index.json": index(
        {"w": "model-00002-of-00002.safetensors"})}}, "model.safetensors.index.json", "missing from the folder"),
    ("index-shard-not-text", {"files": {**SHARDED, "model.safetensors.index.json": index({"w": 5})}},
     "model.safetensors.index.json", "not a file in this folder"),
    ("index-empty-map", {"files": {**SHARDED, "model.safetensors.index.json": index({})}},
     "model.safetensors.index.json", "'weight_map' is missing or empty"),
    ("index-a-list", {"files": {**SHARDED, "model.safetensors.index.json": "[]"}},
     "model.safetensors.index.json", "'weight_map' is missing or empty"),
    ("index-not-json", {"files": {**SHARDED, "model.safetensors.index.json": "{weight_map:"}},
     "model.safetensors.index.json", "unreadable weight index (line 1, column 2"),
    ("shard-is-a-pickle", {"files": {**SHARDED, "model.safetensors.index.json": index(
        {"w": "model-00001-of-00001.safetensors"}), "model-00001-of-00001.safetensors": b"\x80\x04\x95" + b"\0" * 20}},
     "model-00001-of-00001.safetensors", "is not a safetensors file"),
    ("only-bin", {"files": {"model.safetensors": None, "pytorch_model.bin": b"\x80\x04K."}}, "m",
     "only pickled weights (.bin/.pt) found; the lab loads safetensors only"),
    ("only-pt", {"files": {"model.safetensors": None, "model.pt": b"\x80\x04K."}}, "m", "safetensors only"),
    ("no-weights", {"files": {"model.safetensors": None}}, "m", "model.safetensors is missing"),
    ("pickle-renamed", {"files": {"model.safetensors": b"\x80\x04\x95\x00\x00\x00\x00\x00\x00\x00}"}},
     "model.safetensors", "is not a safetensors file"),
    ("empty-weights", {"files": {"model.safetensors": b""}}, "model.safetensors", "is not a safetensors file"),
    ("huge-header", {"files": {"model.safetensors": struct.pack("<Q", 1 << 60) + b"{}"}},
     "model.safetensors", "is not a safetensors file"),
    ("config-not-json", {"files": {"config.json": '{"n_embd": 16,'}}, "config.json",
     "unreadable config (line 1, column 15"),
    ("config-a-list", {"config": [1, 2]}, "config.json", "expected a JSON object, got list"),
    ("config-deep", {"files": {"config.json": "[" * 100_000 + "]" * 100_000}}, "config.json", "nested too deeply"),
    ("config-not-utf8", {"files": {"config.json": b'{"a": "\xff"}'}}, "config.json", "not UTF-8"),
    ("config-huge", {"files": {"config.json": '{"pad": "' + "x" * (5 << 20) + '"}'}}, "config.json",
     "far too large for a config"),
    ("config-missing", {"files": {"config.json": None}}, "m", "config.json is missing"),
    ("architectures-a-string", with_config(architectures="GPT2LMHeadModel"), "config.json",
     "'architectures' must be a list of class names"),
    ("n_embd-huge", with_config(n_embd=10 ** 9), "config.json",
     "'n_embd' is 1,000,000,000, more than this app can load (at most 16,384 for the model's width)"),
    ("n_layer-huge", with_config(n_layer=100_000), "config.json", "'n_layer' is 100,000"),
    ("n_head-huge", with_config(n_head=5_000), "config.json", "'n_head' is 5,000"),
    ("vocab-huge", with_config(vocab_size=10 ** 8), "config.json", "'vocab_size' is 100,000,000"),
    ("positions-huge", with_config(n_positions=10 ** 9), "config.json", "'n_positions' is 1,000,000,000"),
    ("max_position_embeddings-huge", with_config(max_position_embeddings=2 ** 31), "config.json",
     "'max_position_embeddings' is 2,147,483,648"),
    ("n_inner-huge", with_config(n_inner=10 ** 7), "config.json", "'n_inner' is 10,000,000"),
    ("hidden_size-text", with_config(hidden_size="big"), "config.json",
     "'hidden_size' must be a positive whole number, got 'big'"),
    ("n_head-negative", with_config(n_head=-1), "config.json", "'n_head' must be a positive whole number"),
    ("n_layer-float", with_config(n_layer=2.5), "config.json", "'n_layer' must be a positive whole number"),
    ("n_embd-bool", with_config(n_embd=True), "config.json", "'n_embd' must be a positive whole number"),
    ("n_positions-zero", with_config(n_positions=0), "config.json", "'n_positions' must be a positive"),
    ("text_config-vocab-huge", with_config(text_config={"vocab_size": 10 ** 9}), "config.json",
     "'vocab_size' is 1,000,000,000"),
    ("too-many-params", with_config(n_embd=16_384, n_layer=256, vocab_size=50), "config.json",
     "billion parameters, more than this app can load"),
    ("tokenizer-not-json", {"files": {"tokenizer.json": "{{{{"}}, "tokenizer.json",
     "unreadable tokenizer (line 1, column 2"),
    ("tokenizer-binary", {"files": {"tokenizer.json": b"\x00\xff\xfe\x01garbage"}}, "tokenizer.json",
     "unreadable tokenizer (not UTF-8 text)"),
    ("tokenizer-a-list", {"tokenizer": []}, "tokenizer.json", "not a tokenizer (expected a JSON object"),
    ("tokenizer-no-model", {"tokenizer": {"vocab": {"a": 0}}}, "tokenizer.json", "not a tokenizer"),
    ("tokenizer-vocab-number", {"tokenizer": {"model": {"vocab": 5}}}, "tokenizer.json",
     "'model.vocab' must be a table of tokens, got int"),
    ("tokenizer-added-not-list", {"tokenizer": {"model": {"vocab": {}}, "added_tokens": "x"}}, "tokenizer.json",
     "'added_tokens' must be a list of token entries"),
    ("tokenizer-id-text", {"tokenizer": {"model": {"vocab": {"a": "zero"}}}}, "tokenizer.json",
     "token ids must be whole numbers from 0, found 'zero'"),
    ("tokenizer-id-negative", {"tokenizer": {"model": {"vocab": {"a": -4}}}}, "tokenizer.json",
     "found -4"),
    ("tokenizer-deep", {"files": {"tokenizer.json": '{"model": ' + "[" * 100_000}}, "tokenizer.json",
     "unreadable tokenizer"),
    ("tokenizer-id-past-embeddings", {"tokenizer": {"model": {"vocab": {"a": 0, "b": 77}}}}, "m",
     "the tokenizer does not match the model: it uses token id 77 but the model has only 50 embeddings"),
    ("tokenizer_config-garbage", {"files": {"tokenizer_config.json": "not json"}}, "tokenizer_config.json",
     "unreadable tokenizer config"),
    ("tokenizer_config-a-list", {"files": {"tokenizer_config.json": "[]"}}, "tokenizer_config.json",
     "expected a JSON object"),
    ("tokenizer-missing", {"files": {"tokenizer.json": None}}, "m", "tokenizer files are missing"),
]


def test_the_hand_built_folder_is_valid(tmp_path):
    assert validate_folder(make_folder(tmp_path))["n_embd"] == 16


@pytest.mark.parametrize("changes,named,fragment", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_a_malformed_model_folder_is_refused_naming_the_file(tmp_path, changes, named, fragment):
    folder = make_folder(tmp_path, **changes)
    with pytest.raises(LabError) as caught:
        validate_folder(folder)
    message = str(caught.value)
    named_path = folder if named == "m" else folder / named
    assert message.startswith(f"{named_path}: "), message
    assert fragment in message


@pytest.mark.parametrize("name", ["base", "sft", "rlhf"])
def test_the_shipped_models_pass(name):
    assert validate_folder(cfg.MODELS_DIR / name)


def test_a_tokenizer_the_library_rejects_names_its_files(tmp_path):
    from studyapp.lab.modeling import load_tokenizer
    folder = make_folder(tmp_path, tokenizer={"model": {"type": "NoSuchModel", "vocab": {"a": 0}}})
    validate_folder(folder)     # well formed JSON of the right shape; the library is the judge
    with pytest.raises(LabError, match=r"could not load the tokenizer from tokenizer\.json"):
        load_tokenizer(folder)
