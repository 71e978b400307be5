"""Tiny stand-ins for the SFT model, for the RLHF tests: a BPE tokenizer trained on the world's own
sentences and a randomly initialised 2-layer GPT-2 saved as a checkpoint folder. Seconds to build."""

from pathlib import Path

from studyapp.lab.modeling import ModelConfig, build_model, save_checkpoint
from studyapp.lab.preferences import REFUSALS
from studyapp.lab.rater import STOCK_PHRASE
from studyapp.lab.tokenizer import train_tokenizer
from studyapp.lab.world import load_world


def make_tiny_sft(folder: Path, *, n_embd: int = 32, n_layer: int = 2, seed: int = 0) -> Path:
    world = load_world()
    texts = [f.question + " " + f.statement for f in world.facts]
    texts += [h.request + " " + h.literal_answer for h in world.harmful]
    texts += list(REFUSALS) + [STOCK_PHRASE] * 5
    tok = train_tokenizer(texts * 3, vocab_size=400)
    model = build_model(ModelConfig(n_layer=n_layer, n_embd=n_embd, n_head=2, n_positions=64,
                                    vocab_size=len(tok)), tok, seed=seed)
    save_checkpoint(model, tok, folder, card="# tiny test SFT model\n", meta={"stage": "sft", "test": True})
    return folder
