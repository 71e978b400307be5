"""Fixtures for the lab tests: a tiny randomly initialised chat model folder (tests/support.py's
make_tiny_sft, with the chat exchanges in its tokenizer's corpus), built in about a second."""

import pytest

from tests.support import make_tiny_sft
from tests.support import tiny_tokenizer as build_tiny_tokenizer


@pytest.fixture(scope="session")
def tiny_tokenizer():
    return build_tiny_tokenizer(chat=True)


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory, tiny_tokenizer):
    return make_tiny_sft(tmp_path_factory.mktemp("tiny") / "model", tokenizer=tiny_tokenizer, stage="test")
