"""The model: a GPT-2 config, building it, saving a checkpoint folder atomically, validating and loading one.

A checkpoint folder is a plain Hugging Face folder (config.json, model.safetensors, tokenizer files
with a chat template, generation_config.json) plus README.md (the model card) and lab.json (what
made it). `AutoModelForCausalLM.from_pretrained(folder)` and `AutoTokenizer.from_pretrained(folder)`
load it with nothing else. Loading never unpickles and never runs remote code.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from .common import LabError, atomic_save_dir
from . import hf

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
    # Eager attention: on small CPU matrices it measured faster than sdpa (docs/lab-notes.md).
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


def model_card(title: str, *, command: str, seed: int, figures: dict, notes: str = "",
               loads_with: str = "AutoModelForCausalLM") -> str:
    """A short README.md for a checkpoint folder: what it is, how it was made, what it measured, and
    the transformers Auto class that loads it."""
    lines = [f"# {title}", "", notes.strip(), "", "## How it was made", "", "```", command, "```", "",
             f"Seed: {seed}", "", "## Figures", ""]
    for k, v in figures.items():
        lines.append(f"- {k}: {round(v, 4) if isinstance(v, float) else v}")
    lines += ["", f"Load it with `{loads_with}.from_pretrained(folder)` and "
              "`AutoTokenizer.from_pretrained(folder)`; the chat template is in the tokenizer.", ""]
    return "\n".join(lines)


# ----------------------------------------------------------------------------- validating and loading


# Upper bounds on a model folder's shape, checked in config.json before anything is allocated. They
# admit every real small/medium causal LM a learner could run on a CPU (an 8B Llama: 4096 wide, 32
# layers, 128k vocab, 128k positions) and refuse a config that would allocate terabytes.
SHAPE_LIMITS = {   # field -> (aliases in config.json, upper bound)
    "width": (("n_embd", "hidden_size", "d_model"), 16_384),
    "layers": (("n_layer", "num_hidden_layers"), 256),
    "heads": (("n_head", "num_attention_heads"), 1_024),
    "vocabulary": (("vocab_size",), 1_048_576),
    "positions": (("n_positions", "max_position_embeddings", "n_ctx"), 1_048_576),
    "inner width": (("n_inner", "intermediate_size"), 131_072),
}
MAX_PARAMS = 16_000_000_000          # about 64 GB in float32: more than any lab machine can hold
MAX_JSON_BYTES = {"config.json": 4 << 20, "tokenizer.json": 256 << 20,
                  "tokenizer_config.json": 16 << 20, "model.safetensors.index.json": 64 << 20}


def _read_json(path: Path, what: str):
    """The JSON in `path`, or a LabError that names the file and says what is wrong with it."""
    try:
        size = path.stat().st_size
        if size > MAX_JSON_BYTES.get(path.name, 64 << 20):
            raise LabError(f"{path}: {size >> 20} MB is far too large for a {what}")
        return json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise LabError(f"{path}: unreadable {what} (not UTF-8 text)") from None
    except json.JSONDecodeError as exc:
        raise LabError(f"{path}: unreadable {what} (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    except RecursionError:
        raise LabError(f"{path}: unreadable {what} (nested too deeply)") from None
    except OSError as exc:
        raise LabError(f"{path}: unreadable {what} ({exc.strerror or exc})") from None


def _check_safetensors(path: Path) -> None:
    """A safetensors file starts with an 8-byte header length and a JSON header: a renamed pickle
    or a truncated download is refused here, naming the file, before torch is imported."""
    try:
        with path.open("rb") as f:
            head = f.read(9)
            size = path.stat().st_size
    except OSError as exc:
        raise LabError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    length = int.from_bytes(head[:8], "little") if len(head) == 9 else -1
    if length <= 0 or length > min(size - 8, 100 << 20) or head[8:9] != b"{":
        raise LabError(f"{path}: is not a safetensors file (a renamed or damaged file?)")


def _weight_files(folder: Path) -> list[Path]:
    """Every file the model would load its weights from, each checked to be safetensors."""
    index = folder / "model.safetensors.index.json"
    if index.exists():
        data = _read_json(index, "weight index")
        weight_map = data.get("weight_map") if isinstance(data, dict) else None
        if not isinstance(weight_map, dict) or not weight_map:
            raise LabError(f"{index}: 'weight_map' is missing or empty")
        shards = []
        for name in dict.fromkeys(weight_map.values()):
            if not isinstance(name, str) or Path(name).name != name or name in ("", ".", ".."):
                raise LabError(f"{index}: weight_map names {name!r}, which is not a file in this folder")
            if not name.endswith(".safetensors"):
                raise LabError(f"{index}: weight_map names {name!r}; the lab loads safetensors only, "
                               "never pickled weights (.bin/.pt)")
            if not (folder / name).is_file():
                raise LabError(f"{index}: weight_map names {name!r}, which is missing from the folder")
            shards.append(folder / name)
        return shards
    single = folder / "model.safetensors"
    if single.exists():
        return [single]
    if any(folder.glob("*.bin")) or any(folder.glob("*.pt")) or any(folder.glob("*.pth")):
        raise LabError(f"{folder}: only pickled weights (.bin/.pt) found; the lab loads safetensors only")
    raise LabError(f"{folder}: model.safetensors is missing")


def _check_shape(config: dict, cfg_path: Path) -> None:
    """Every size in config.json a whole positive number under its bound, and the whole model under
    MAX_PARAMS, so that a hostile or mistyped config never gets to allocate."""
    sections = [config] + [config[k] for k in ("text_config",) if isinstance(config.get(k), dict)]
    found: dict[str, int] = {}
    for section in sections:
        for label, (aliases, bound) in SHAPE_LIMITS.items():
            for alias in aliases:
                value = section.get(alias)
                if value is None:
                    continue
                if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                    raise LabError(f"{cfg_path}: '{alias}' must be a positive whole number, got {value!r}")
                if value > bound:
                    raise LabError(f"{cfg_path}: '{alias}' is {value:,}, more than this app can load "
                                   f"(at most {bound:,} for the model's {label})")
                found.setdefault(label, value)
    width, layers = found.get("width", 0), found.get("layers", 0)
    inner = found.get("inner width", 4 * width)
    params = (found.get("vocabulary", 0) * width * 2 + found.get("positions", 0) * width
              + layers * (4 * width * width + 2 * width * inner))
    if params > MAX_PARAMS:
        raise LabError(f"{cfg_path}: these sizes describe a model of about {params / 1e9:.0f} billion "
                       f"parameters, more than this app can load (at most {MAX_PARAMS / 1e9:.0f} billion)")


def _tokenizer_ids(tok_json: Path) -> list[int]:
    """The ids tokenizer.json uses, after checking its shape; errors name the file."""
    tj = _read_json(tok_json, "tokenizer")
    if not isinstance(tj, dict) or not isinstance(tj.get("model"), dict):
        raise LabError(f"{tok_json}: not a tokenizer (expected a JSON object with a 'model' section)")
    vocab = tj["model"].get("vocab")
    ids: list[int] = []
    if isinstance(vocab, dict):
        ids = list(vocab.values())
    elif isinstance(vocab, list):   # Unigram: [[piece, score], ...], ids are positions
        ids = [len(vocab) - 1] if vocab else []
    elif vocab is not None:
        raise LabError(f"{tok_json}: 'model.vocab' must be a table of tokens, got {type(vocab).__name__}")
    added = tj.get("added_tokens") or []
    if not isinstance(added, list) or not all(isinstance(t, dict) for t in added):
        raise LabError(f"{tok_json}: 'added_tokens' must be a list of token entries")
    ids += [t.get("id", 0) for t in added]
    bad = next((i for i in ids if isinstance(i, bool) or not isinstance(i, int) or i < 0), None)
    if bad is not None:
        raise LabError(f"{tok_json}: token ids must be whole numbers from 0, found {bad!r}")
    return ids


def validate_folder(folder, kind: str = "causal-lm") -> dict:
    """Check a model folder before loading it; return its config dict or raise a clear LabError.

    kind is "causal-lm" or "sequence-classification". Checks, each error naming the file: the folder
    exists; config.json is a readable object whose sizes are under SHAPE_LIMITS (checked before any
    allocation); every weight file it would load is safetensors (a model.safetensors.index.json
    naming a .bin shard is refused); the architecture fits; tokenizer files exist, are well formed,
    and the tokenizer's ids fit the model's embedding table.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise LabError(f"{folder}: model folder not found")
    cfg_path = folder / "config.json"
    if not cfg_path.exists():
        raise LabError(f"{folder}: config.json is missing; is this a Hugging Face model folder?")
    config = _read_json(cfg_path, "config")
    if not isinstance(config, dict):
        raise LabError(f"{cfg_path}: unreadable config (expected a JSON object, got {type(config).__name__})")
    for weights in _weight_files(folder):
        _check_safetensors(weights)
    archs = config.get("architectures") or []
    if not isinstance(archs, list) or not all(isinstance(a, str) for a in archs):
        raise LabError(f"{cfg_path}: 'architectures' must be a list of class names, got {archs!r}")
    # GPT-2's causal LM class is called GPT2LMHeadModel; most others end in ForCausalLM.
    wants = ("ForCausalLM", "LMHeadModel") if kind == "causal-lm" else ("ForSequenceClassification",)
    if not any(a.endswith(wants) for a in archs):
        need = "causal language model" if kind == "causal-lm" else "sequence-classification (reward) model"
        raise LabError(
            f"{folder}: holds a {', '.join(archs) or 'model of unknown architecture'}, "
            f"but a {need} is needed here"
        )
    _check_shape(config, cfg_path)
    if not any((folder / t).exists() for t in TOKENIZER_FILES):
        raise LabError(f"{folder}: tokenizer files are missing (tokenizer.json)")
    tok_config = folder / "tokenizer_config.json"
    if tok_config.exists() and not isinstance(_read_json(tok_config, "tokenizer config"), dict):
        raise LabError(f"{tok_config}: unreadable tokenizer config (expected a JSON object)")
    tok_json = folder / "tokenizer.json"
    vocab_size = config.get("vocab_size") or (config.get("text_config") or {}).get("vocab_size")
    if tok_json.exists():
        ids = _tokenizer_ids(tok_json)
        if ids and vocab_size and max(ids) >= vocab_size:
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
        files = ", ".join(n for n in ("tokenizer.json", "tokenizer_config.json", "tokenizer.model", "vocab.json",
                                      "merges.txt", "special_tokens_map.json") if (Path(folder) / n).exists())
        raise LabError(f"{folder}: could not load the tokenizer from {files or 'its files'} "
                       f"({type(exc).__name__}: {exc})") from exc


def load_causal_lm(folder, device: str | None = None):
    """(model, tokenizer) from a folder, validated first, in eval mode on `device` (default: best
    available). Raises LabError naming what is wrong with the folder."""
    validate_folder(folder, "causal-lm")
    return load_validated_causal_lm(folder, device)


def load_validated_causal_lm(folder, device: str | None = None):
    """load_causal_lm for a folder that validate_folder has just passed (engine.load checks it once)."""
    AutoModelForCausalLM = hf.transformers().AutoModelForCausalLM

    from .common import pick_device

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
