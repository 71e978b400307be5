"""The engine's reader of a lab GPT-2 folder without transformers, for one-shot commands.

    model, tokenizer = engine.load_for_command("models/sft")   # the only caller: validates, then quick.load
    for event in engine.stream(model, tokenizer, "Hi"): ...

Part of the engine (engine.py), in a file of its own for two reasons: engine.py plus this reader
would pass the project's 500-line limit for a module, and this file must never import transformers
(test_generate_quick checks that `studyapp lab generate` leaves it unimported). Only engine.py
imports it (an import-linter contract in pyproject.toml says so); nothing here checks a folder or a
prompt: engine.load_for_command validates the folder once (modeling.validate_folder) and hands this
module the config.json it read, and prompts go through engine.encode like every other model's.

Why it exists: importing transformers costs about 3.5 s of CPU before a single token (it pulls in
scikit-learn, torch.distributed and torch._dynamo for features the lab never uses), twice torch's
own import; a command that answers one prompt pays it every time, and `studyapp lab generate` must
answer in under 3 s (bench/cli_generate.py). The lab's checkpoints are plain GPT-2 (config.json,
model.safetensors, tokenizer.json), so this module reads them with safetensors and tokenizers, both
already needed by transformers, and runs the same weights with the same modules torch provides. The
model answers `model(input_ids=..., past_key_values=..., use_cache=True)` with `.logits` and
`.past_key_values` as GPT2LMHeadModel does, and has `.transformer` and `.lm_head` with GPT-2's
layout, so engine.stream_ids and rollout.hidden_states run on it unchanged; a test checks its
logits against transformers' GPT2LMHeadModel. The tokenizer answers the calls the lab's tokenizer
helpers make (encode with split_special_tokens, decode, get_vocab, ...).

Anything else (another architecture, an option this forward does not implement, a folder without
tokenizer.json) returns None and the engine loads it with transformers as before.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from types import SimpleNamespace

# GPT-2 config options this forward implements only at these values.
_REQUIRED = {"model_type": "gpt2", "scale_attn_by_inverse_layer_idx": False, "reorder_and_upcast_attn": False,
             "add_cross_attention": False}
_ACTIVATIONS = ("gelu_new",)


class QuickTokenizer:
    """tokenizer.json through the tokenizers library, with the names of the Hugging Face fast
    tokenizer that the lab's tokenizer helpers use."""

    def __init__(self, folder: Path):
        from tokenizers import Tokenizer

        self._tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._vocab = self._tok.get_vocab(with_added_tokens=True)
        cfg = _read(folder / "tokenizer_config.json")
        special = _read(folder / "special_tokens_map.json")

        def token(name):
            value = special.get(name, cfg.get(name))
            return value.get("content") if isinstance(value, dict) else value

        self.eos_token, self.pad_token = token("eos_token"), token("pad_token") or token("eos_token")
        self.eos_token_id = self._vocab.get(self.eos_token) if self.eos_token else None
        self.pad_token_id = self._vocab.get(self.pad_token) if self.pad_token else None
        self.chat_template = cfg.get("chat_template")

    def get_vocab(self) -> dict:
        return dict(self._vocab)

    def __len__(self) -> int:
        return self._tok.get_vocab_size(with_added_tokens=True)

    def convert_tokens_to_ids(self, token: str) -> int | None:
        return self._vocab.get(token)

    def encode(self, text: str, add_special_tokens: bool = False, split_special_tokens: bool = False) -> list[int]:
        # As PreTrainedTokenizerFast: split_special_tokens encodes "<|end|>" typed by a person as text.
        self._tok.encode_special_tokens = split_special_tokens
        return self._tok.encode(text, add_special_tokens=add_special_tokens).ids

    def decode(self, ids, skip_special_tokens: bool = False) -> str:
        return self._tok.decode(list(ids), skip_special_tokens=skip_special_tokens)


def _read(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _modules():
    """GPT-2's modules on plain torch.nn, built on first use (torch is imported here, not above)."""
    import torch
    from torch import nn

    class Conv1D(nn.Module):   # GPT-2's linear layer: weight (in, out), as transformers.pytorch_utils.Conv1D
        def __init__(self, n_in: int, n_out: int):
            super().__init__()
            self.weight = nn.Parameter(torch.empty(n_in, n_out))
            self.bias = nn.Parameter(torch.empty(n_out))

        def forward(self, x):
            return torch.addmm(self.bias, x.view(-1, x.size(-1)), self.weight).view(x.size()[:-1] + (-1,))

    class NewGELU(nn.Module):  # transformers.activations.NewGELUActivation, the same expression
        def forward(self, x):
            return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))

    class MLP(nn.Module):
        def __init__(self, c: int, inner: int):
            super().__init__()
            self.c_fc, self.c_proj, self.act = Conv1D(c, inner), Conv1D(inner, c), NewGELU()

        def forward(self, x):
            return self.c_proj(self.act(self.c_fc(x)))

    class Block(nn.Module):
        def __init__(self, c: int, inner: int, eps: float):
            super().__init__()
            self.ln_1, self.ln_2 = nn.LayerNorm(c, eps=eps), nn.LayerNorm(c, eps=eps)
            self.attn = nn.Module()
            self.attn.c_attn, self.attn.c_proj = Conv1D(c, 3 * c), Conv1D(c, c)
            self.mlp = MLP(c, inner)

    class Transformer(nn.Module):
        def __init__(self, config):
            super().__init__()
            c, inner = config.n_embd, config.n_inner or 4 * config.n_embd
            self.config = config
            self.wte, self.wpe = nn.Embedding(config.vocab_size, c), nn.Embedding(config.n_positions, c)
            self.h = nn.ModuleList(Block(c, inner, config.layer_norm_epsilon) for _ in range(config.n_layer))
            self.ln_f = nn.LayerNorm(c, eps=config.layer_norm_epsilon)

    class QuickGPT2(nn.Module):
        def __init__(self, config):
            super().__init__()
            self.config = config
            self.transformer = Transformer(config)
            self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)

        def forward(self, input_ids, past_key_values=None, use_cache: bool = True, attention_mask=None):
            from .rollout import hidden_states

            cache = list(past_key_values) if past_key_values is not None else []
            past = cache[0][0].shape[2] if cache else 0
            if attention_mask is None:
                attention_mask = torch.ones(input_ids.shape[0], past + input_ids.shape[1], dtype=torch.long,
                                            device=input_ids.device)
            h = hidden_states(self.transformer, input_ids, attention_mask, cache=cache)
            return SimpleNamespace(logits=self.lm_head(h), past_key_values=cache if use_cache else None)

    return QuickGPT2


def supported(folder, config: dict | None = None) -> bool:
    """Whether `load` can read this folder: a GPT-2 causal LM with the options this forward knows,
    one model.safetensors and a tokenizer.json. `config` is the folder's config.json as
    modeling.validate_folder returned it; without it the folder is validated here (False if broken)."""
    folder = Path(folder)
    if config is None:
        config = _validated_config(folder)
    if not config or "GPT2LMHeadModel" not in (config.get("architectures") or []):
        return False
    if any(config.get(k, v) != v for k, v in _REQUIRED.items()):
        return False
    if config.get("activation_function", "gelu_new") not in _ACTIVATIONS:
        return False
    return all((folder / f).is_file() for f in ("model.safetensors", "tokenizer.json"))


def _validated_config(folder: Path) -> dict | None:
    from .common import LabError
    from .modeling import validate_folder

    try:
        return validate_folder(folder, "causal-lm")
    except LabError:
        return None


def load(folder, device: str = "cpu", config: dict | None = None):
    """(model, tokenizer) of a lab GPT-2 folder without transformers, in eval mode; None when the
    folder is not one `supported` accepts. `config`: what modeling.validate_folder returned for the
    folder (engine.load_for_command passes it); without it the folder is validated here."""
    folder = Path(folder)
    raw = config if config is not None else _validated_config(folder)
    if not supported(folder, raw or {}):
        return None
    from safetensors.torch import load_file

    config = SimpleNamespace(n_embd=raw["n_embd"], n_head=raw["n_head"], n_layer=raw["n_layer"],
                             n_positions=raw["n_positions"], vocab_size=raw["vocab_size"],
                             n_inner=raw.get("n_inner"), layer_norm_epsilon=raw.get("layer_norm_epsilon", 1e-5),
                             scale_attn_weights=raw.get("scale_attn_weights", True), model_type="gpt2")
    # Built on the CPU and then given the file's tensors: the lab's models are tiny, and building on
    # the "meta" device would import torch._dynamo (3 s) to initialise weights nobody keeps.
    model = _modules()(config)
    state = load_file(str(folder / "model.safetensors"), device=device)
    tied = raw.get("tie_word_embeddings", True)
    if tied or "lm_head.weight" not in state:
        state["lm_head.weight"] = state.get("transformer.wte.weight")
    want = set(model.state_dict())
    if any(state.get(k) is None for k in want):
        return None   # a layout this forward does not know: transformers loads it
    # Old GPT-2 files also hold the causal mask as a buffer (attn.bias, attn.masked_bias): not weights.
    model.load_state_dict({k: state[k] for k in want}, strict=True, assign=True)
    if tied:
        model.lm_head.weight = model.transformer.wte.weight
    tokenizer = QuickTokenizer(folder)
    if len(tokenizer) > config.vocab_size:
        return None   # transformers' loader words this problem for the learner
    return model.eval().requires_grad_(False), tokenizer
