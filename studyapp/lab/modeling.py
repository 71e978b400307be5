"""The model: a GPT-2 config, building it, saving a checkpoint folder atomically, validating and loading one.

A checkpoint folder is a plain Hugging Face folder (config.json, model.safetensors, tokenizer files
with a chat template, generation_config.json) plus README.md (the model card) and lab.json (what
made it). `AutoModelForCausalLM.from_pretrained(folder)` and `AutoTokenizer.from_pretrained(folder)`
load it with nothing else. Loading never unpickles and never runs remote code.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from .common import LabError, atomic_save_dir
from . import hf

WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json")
TOKENIZER_FILES = ("tokenizer.json", "tokenizer.model", "vocab.json")


@dataclass
class ModelConfig:
    """The GPT-2 shape. The defaults are the smallest model that learns the world quickly on a CPU."""

    n_layer: int = 2
    n_embd: int = 128
    n_head: int = 4
    n_positions: int = 64
    vocab_size: int = 1024


def build_model(cfg: ModelConfig, tokenizer, *, seed: int | None = None):
    """A freshly initialised GPT2LMHeadModel whose special ids match `tokenizer`."""
    import torch
    GPT2Config, GPT2LMHeadModel = hf.transformers().GPT2Config, hf.transformers().GPT2LMHeadModel

    if seed is not None:
        torch.manual_seed(seed)
    config = GPT2Config(
        vocab_size=max(cfg.vocab_size, len(tokenizer)),
        n_positions=cfg.n_positions,
        n_embd=cfg.n_embd,
        n_layer=cfg.n_layer,
        n_head=cfg.n_head,
        # No dropout: the runs are short and the data is generated; dropout only slows learning.
        resid_pdrop=0.0,
        embd_pdrop=0.0,
        attn_pdrop=0.0,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    # Eager attention: on small CPU matrices it measured faster than sdpa (LAB-NOTES).
    config._attn_implementation = "eager"
    with hf.building():
        model = GPT2LMHeadModel(config)
    set_generation_defaults(model, tokenizer)
    return model


def set_generation_defaults(model, tokenizer) -> None:
    """Make plain `model.generate` stop at <|end|> or end-of-text and pad with <|pad|>."""
    from .tokenizer import stop_ids

    gc = model.generation_config
    gc.eos_token_id = stop_ids(tokenizer)
    gc.pad_token_id = tokenizer.pad_token_id
    gc.bos_token_id = tokenizer.bos_token_id


def count_params(model) -> int:
    # Tied input/output embeddings are counted once.
    return sum(p.numel() for p in {id(p): p for p in model.parameters()}.values())


# ----------------------------------------------------------------------------- saving


def save_checkpoint(model, tokenizer, out_dir, *, card: str, meta: dict, extra_files: dict[str, str] | None = None) -> Path:
    """Write model + tokenizer + model card + lab.json into out_dir atomically.

    Everything is written into a temporary sibling folder first; out_dir is replaced only once all
    files are on disk, so a failure (or a cancel) leaves the previous checkpoint as it was.
    """
    out_dir = Path(out_dir)
    with atomic_save_dir(out_dir) as tmp:
        model.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
        (tmp / "README.md").write_text(card, encoding="utf-8")
        (tmp / "lab.json").write_text(json.dumps(meta, indent=2, default=str), encoding="utf-8")
        for name, text in (extra_files or {}).items():
            (tmp / name).write_text(text, encoding="utf-8")
    return out_dir


def model_card(title: str, *, command: str, seed: int, figures: dict, notes: str = "") -> str:
    """A short README.md for a checkpoint folder: what it is, how it was made, what it measured."""
    lines = [f"# {title}", "", notes.strip(), "", "## How it was made", "", "```", command, "```", "",
             f"Seed: {seed}", "", "## Figures", ""]
    for k, v in figures.items():
        lines.append(f"- {k}: {round(v, 4) if isinstance(v, float) else v}")
    lines += ["", "Load it with `AutoModelForCausalLM.from_pretrained(folder)` and "
              "`AutoTokenizer.from_pretrained(folder)`; the chat template is in the tokenizer.", ""]
    return "\n".join(lines)


# ----------------------------------------------------------------------------- validating and loading


def validate_folder(folder, kind: str = "causal-lm") -> dict:
    """Check a model folder before loading it; return its config dict or raise a clear LabError.

    kind is "causal-lm" or "sequence-classification". Checks: the folder exists, config.json is
    readable, safetensors weights are present (pickled .bin weights are refused), the architecture
    fits, tokenizer files exist and the tokenizer's ids fit the model's embedding table.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise LabError(f"{folder}: model folder not found")
    cfg_path = folder / "config.json"
    if not cfg_path.exists():
        raise LabError(f"{folder}: config.json is missing; is this a Hugging Face model folder?")
    try:
        config = json.loads(cfg_path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise LabError(f"{cfg_path}: unreadable config ({exc})") from exc
    if not any((folder / w).exists() for w in WEIGHT_FILES):
        if any(folder.glob("*.bin")) or any(folder.glob("*.pt")):
            raise LabError(f"{folder}: only pickled weights (.bin/.pt) found; the lab loads safetensors only")
        raise LabError(f"{folder}: model.safetensors is missing")
    archs = config.get("architectures") or []
    # GPT-2's causal LM class is called GPT2LMHeadModel; most others end in ForCausalLM.
    wants = ("ForCausalLM", "LMHeadModel") if kind == "causal-lm" else ("ForSequenceClassification",)
    if not any(a.endswith(wants) for a in archs):
        need = "causal language model" if kind == "causal-lm" else "sequence-classification (reward) model"
        raise LabError(
            f"{folder}: holds a {', '.join(archs) or 'model of unknown architecture'}, "
            f"but a {need} is needed here"
        )
    if not any((folder / t).exists() for t in TOKENIZER_FILES):
        raise LabError(f"{folder}: tokenizer files are missing (tokenizer.json)")
    tok_json = folder / "tokenizer.json"
    vocab_size = config.get("vocab_size") or (config.get("text_config") or {}).get("vocab_size")
    if tok_json.exists() and vocab_size:
        try:
            tj = json.loads(tok_json.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise LabError(f"{tok_json}: unreadable tokenizer ({exc})") from exc
        ids = list((tj.get("model") or {}).get("vocab", {}).values()) if isinstance(
            (tj.get("model") or {}).get("vocab"), dict) else []
        ids += [t.get("id", 0) for t in tj.get("added_tokens", [])]
        if ids and max(ids) >= vocab_size:
            raise LabError(
                f"{folder}: the tokenizer does not match the model: it uses token id {max(ids)} "
                f"but the model has only {vocab_size} embeddings"
            )
    return config


def load_tokenizer(folder):
    AutoTokenizer = hf.transformers().AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(str(folder), local_files_only=True, trust_remote_code=False)
    except Exception as exc:  # noqa: BLE001 - any failure here means a broken folder for the learner
        raise LabError(f"{folder}: could not load the tokenizer ({exc})") from exc


def load_causal_lm(folder, device: str | None = None):
    """(model, tokenizer) from a validated folder, in eval mode on `device` (default: best available)."""
    AutoModelForCausalLM = hf.transformers().AutoModelForCausalLM

    from .common import pick_device

    validate_folder(folder, "causal-lm")
    tokenizer = load_tokenizer(folder)
    try:
        with hf.building():
            model = AutoModelForCausalLM.from_pretrained(
                str(folder), local_files_only=True, trust_remote_code=False, use_safetensors=True)
    except Exception as exc:  # noqa: BLE001
        raise LabError(f"{folder}: could not load the model ({exc})") from exc
    if len(tokenizer) > model.get_input_embeddings().num_embeddings:
        raise LabError(f"{folder}: the tokenizer has {len(tokenizer)} tokens but the model only "
                       f"{model.get_input_embeddings().num_embeddings} embeddings")
    if tokenizer.pad_token_id is None:
        # A user's folder may lack a pad token; batching needs one, and eos is the usual stand-in.
        tokenizer.pad_token = tokenizer.eos_token
    model.to(device or pick_device()).eval()
    return model, tokenizer


def read_meta(folder) -> dict:
    p = Path(folder) / "lab.json"
    return json.loads(p.read_text(encoding="utf-8")) if p.exists() else {}


def config_dict(cfg) -> dict:
    return asdict(cfg)
