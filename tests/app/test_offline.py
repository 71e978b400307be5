"""No network, proven: with socket creation blocked, the app starts, generates with the shipped
model, trains a short SFT run and grades a teach-it-back answer."""
import socket

import pytest

from studyapp import config as cfg
from studyapp.app import build_context, create_window


class NetworkUsed(AssertionError):
    pass


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise NetworkUsed(f"network access attempted: {args[:2]}")

    monkeypatch.setattr(socket.socket, "__init__", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    with pytest.raises(NetworkUsed):
        socket.socket()


def test_start_generate_train_and_grade_without_network(no_network, qtbot, tmp_path):
    conf = cfg.load_config({"data_dir": tmp_path / "p"}, env={}, site_file=tmp_path / "n", user_file=tmp_path / "m")
    ctx = build_context(conf)
    window = create_window(ctx)
    qtbot.addWidget(window)
    window.show()

    from studyapp.lab.generate import generate_text, load_model
    model, tok = load_model(cfg.MODELS_DIR / "sft")
    assert "Paris" in generate_text(model, tok, "What is the capital of France?", max_new_tokens=12, greedy=True)

    from studyapp.lab.sft import SFTConfig, train_sft
    result = train_sft(cfg.MODELS_DIR / "base", tmp_path / "sft", SFTConfig.quick())
    assert (tmp_path / "sft" / "model.safetensors").is_file(), result

    from studyapp.selftest import grade_sample_answer
    assert grade_sample_answer() > 0.2

    window.close()
    ctx.store.close(backup=False)
