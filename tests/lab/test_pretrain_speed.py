"""Pretraining's speed changes keep its numbers: the fused GELU computes transformers' gelu_new to
float rounding (forward and gradients), and the malloc policy changes no number at all."""
import sys

import torch

from studyapp.lab.modeling import load_causal_lm
from studyapp.lab.pretrain import fused_gelu, keep_freed_memory


def test_fused_gelu_gives_the_same_logits_and_gradients(tiny_model_dir):
    plain, _ = load_causal_lm(tiny_model_dir, "cpu")
    fused, _ = load_causal_lm(tiny_model_dir, "cpu")
    assert fused_gelu(fused) == len(fused.transformer.h) and fused_gelu(fused) == 0   # swapped once
    ids = torch.randint(0, plain.config.vocab_size, (3, 20), generator=torch.Generator().manual_seed(0))
    outs = []
    for model in (plain, fused):
        model.train()
        out = model(input_ids=ids, labels=ids)
        out.loss.backward()
        outs.append((out.logits.detach(), [p.grad.clone() for p in model.parameters()]))
    (la, ga), (lb, gb) = outs
    assert torch.allclose(la, lb, atol=1e-5)
    assert all(torch.allclose(a, b, atol=1e-5, rtol=1e-4) for a, b in zip(ga, gb))
    assert "gelu_new" == fused.config.activation_function      # what is saved does not change


def test_malloc_policy_applies_on_linux_only():
    assert keep_freed_memory() == sys.platform.startswith("linux")


def test_quick_pretraining_saves_an_eager_checkpoint_with_gelu_new(tmp_path):
    import json

    from studyapp.lab.pretrain import PretrainConfig, train_base

    summary = train_base(PretrainConfig.quick(), tmp_path / "base")
    config = json.loads((tmp_path / "base" / "config.json").read_text())
    assert config["activation_function"] == "gelu_new" and config.get("_attn_implementation", "eager") == "eager"
    assert "_attn_implementation" not in config and summary["steps"] == 20
    model, _ = load_causal_lm(tmp_path / "base", "cpu")   # a standard checkpoint: it loads and runs
    assert model(input_ids=torch.tensor([[1, 2, 3]])).logits.shape[-1] == config["vocab_size"]
