"""Fixtures for the lab tests: a tiny randomly initialised chat model folder, built in about a second."""

import pytest

from studyapp.lab.modeling import ModelConfig, build_model, save_checkpoint
from studyapp.lab.tokenizer import train_tokenizer
from studyapp.lab.world import load_world


def tiny_texts():
    world = load_world()
    texts = [f.question + " " + f.statement for f in world.facts]
    texts += [c.prompt + " " + c.response for c in world.chat]
    return texts * 2


@pytest.fixture(scope="session")
def tiny_tokenizer():
    return train_tokenizer(tiny_texts(), vocab_size=400)


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory, tiny_tokenizer):
    folder = tmp_path_factory.mktemp("tiny") / "model"
    model = build_model(ModelConfig(n_layer=2, n_embd=32, n_head=2, n_positions=64, vocab_size=len(tiny_tokenizer)),
                        tiny_tokenizer, seed=0)
    save_checkpoint(model, tiny_tokenizer, folder, card="# tiny test model\n", meta={"stage": "test"})
    return folder
