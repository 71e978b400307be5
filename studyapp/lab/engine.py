"""The engine: the one place that loads a model folder and runs it (nanochat's `Engine`, for our lab).

    loaded = engine.load("models/sft")                     # validated once, cached by content
    ids = engine.encode(loaded.tokenizer, "Hello!", context=loaded.context)   # the one length check
    for event in engine.stream_ids(loaded.model, loaded.tokenizer, ids): ...  # the GUI's token stream
    engine.generate_batch(model, tok, prompts)               # many prompts at once (evaluation)
    engine.replies(model, tok, ["Hi"] * 8, greedy=False)     # samples: the lean GPT-2 loop or generate

Every tab, the report and the CLI reach models through here: the compare tab streams, the RLHF tab
samples answers to rank, the HHH explorer asks for greedy replies, the report and the CLI generate.
For GPT-2 models `replies` runs rollout.py, the lean KV-cache loop that the RL stages (PPO, GRPO,
best-of-n, the reward model's data) call directly on the model they train. Loaded models live in
one cache keyed on the folder's content, so a folder shown by two tabs is loaded once and a
retrained folder is loaded afresh. A command that answers one prompt and exits loads through
`load_for_command`, which reads a lab GPT-2 folder with quick.py, this engine's own reader that
never imports transformers (a file of its own for the 500-line limit; see its docstring).

torch and transformers are imported inside the functions, so importing this module (and the app)
stays light; the module knows nothing of Qt.
"""

from __future__ import annotations

import os
import sys
import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Sequence

from .common import MODELS_DIR, LabError, limit_threads
from .prompts import context_problem
from .tokenizer import encode_prompt, stop_ids

MODEL_NAMES = ("base", "sft", "rlhf")
KINDS = ("causal-lm", "sequence-classification")   # a policy, or a reward model


def resolve_model(name_or_path, models_dir=None) -> Path:
    """'base', 'sft', 'rlhf' name a shipped (or freshly trained) checkpoint; anything else is a path."""
    if str(name_or_path) in MODEL_NAMES:
        return Path(models_dir or MODELS_DIR) / str(name_or_path)
    return Path(name_or_path)


def context_length(model) -> int:
    """How many tokens the model reads at most, its answer included."""
    c = model.config
    return int(getattr(c, "n_positions", None) or getattr(c, "max_position_embeddings", None) or 2048)


# ----------------------------------------------------------------------------- loading, cached


@dataclass(frozen=True)
class Loaded:
    """A loaded folder: the model in eval mode, its tokenizer, and what the screens show of it."""
    model: Any
    tokenizer: Any
    folder: Path
    kind: str
    context: int
    params: int


# One model object per folder version, shared by every tab and column that shows it: loading a
# folder a second time (back to the course model, the same folder in two columns, the SFT model in
# the RLHF tab and the compare tab) is then instant.
CACHE_SIZE = 6    # the three course models and three more (reward models, the learner's own); a real model can be GBs
_cache: OrderedDict[tuple, Loaded] = OrderedDict()
_lock = threading.Lock()


def folder_key(folder) -> tuple:
    """A key that changes whenever a file of the folder is rewritten (retraining a stage writes a
    new folder in its place): the resolved path and each file's name, size and modification time."""
    path = Path(folder).resolve()
    try:
        stamps = sorted((e.name, e.stat().st_mtime_ns, e.stat().st_size)
                        for e in os.scandir(path) if e.is_file())
    except OSError:   # absent or unreadable: validation says why
        stamps = []
    return str(path), tuple(stamps)


def load(folder, kind: str = "causal-lm", *, device: str | None = None, threads: int | None = None) -> Loaded:
    """The folder's model, loaded once per content version; raises LabError with a message for
    the learner (validate_folder's, checked before torch is even imported on a first load).

    `kind` is "causal-lm" (a policy) or "sequence-classification" (a reward model); `threads` is
    the torch_threads setting (None: the configured one, see common.torch_threads).
    """
    from .modeling import count_params, load_validated_causal_lm, validate_folder

    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    path = resolve_model(folder)
    stamp = folder_key(path)
    # Held for the whole load: three columns starting together would otherwise import torch and
    # transformers three times over in parallel and load a shared folder twice.
    with _lock:
        key = (kind, _device(device), stamp)
        if key not in _cache:
            validate_folder(path, kind)   # fast and clear, before torch is imported on a first load
            limit_threads(threads)
            key = (kind, _device(device), stamp)   # torch is loaded now: "best available" has a name
        else:
            limit_threads(threads)
        if key not in _cache:
            if kind == "causal-lm":
                model, tokenizer = load_validated_causal_lm(path, key[1])
            else:
                from .reward import load_reward_model   # it validates on its own: the check is cheap
                model, tokenizer = load_reward_model(path, key[1])
            for old in [k for k in _cache if k[:2] == key[:2] and k[2][0] == stamp[0]]:
                del _cache[old]   # an older version of the same folder: never shown again
            _cache[key] = Loaded(model, tokenizer, path, kind, context_length(model), count_params(model))
            while len(_cache) > CACHE_SIZE:
                _cache.popitem(last=False)   # whoever still shows it keeps its own reference
        _cache.move_to_end(key)
        return _cache[key]


def _device(device: str | None) -> str | None:
    """The device a load asks for, by name: None (best available) is "cuda" or "cpu" once torch is
    imported, so the compare tab (best available) and the RLHF tab ("cpu") share a CPU machine's
    models. Before torch is imported nothing is loaded, so None can only miss."""
    if device is not None or "torch" not in sys.modules:
        return device
    from .common import pick_device

    return pick_device()


def folder_problem(folder, kind: str = "causal-lm") -> str | None:
    """Why a model folder cannot be used (absent, broken, the wrong kind), or None if it can."""
    from .modeling import validate_folder

    try:
        validate_folder(folder, kind)
    except LabError as exc:
        return str(exc)
    return None


def missing_models(models_dir, names: Sequence[str]) -> dict[str, str]:
    """{name: why it cannot be used} for each checkpoint of models_dir that is absent or broken
    ("reward" is a reward model, any other name a policy)."""
    out = {}
    for name in names:
        kind = "sequence-classification" if name == "reward" else "causal-lm"
        if (problem := folder_problem(Path(models_dir) / name, kind)) is not None:
            out[name] = problem
    return out


def load_model(folder, device: str | None = None):
    """(model, tokenizer) from a local folder, validated first (see modeling.validate_folder).
    Not cached: the caller gets its own copy (a training stage changes its weights)."""
    from .modeling import load_causal_lm

    return load_causal_lm(resolve_model(folder), device)


def load_for_command(folder, device: str | None = None):
    """(model, tokenizer) for a command that answers a prompt and exits (`studyapp lab generate`):
    a lab GPT-2 folder is read without importing transformers (quick.py, this engine's own reader:
    about 3.5 s of CPU less per call), any other folder with transformers. Validated once either
    way (quick.py gets the config validation read); uses torch_threads. Not cached."""
    from . import quick
    from .common import pick_device
    from .modeling import load_validated_causal_lm, validate_folder

    path = resolve_model(folder)
    config = validate_folder(path, "causal-lm")
    limit_threads()
    return quick.load(path, device or pick_device(), config) or load_validated_causal_lm(path, device)


# ----------------------------------------------------------------------------- prompts


def encode(tokenizer, prompt: str, *, chat: bool = True, context: int, min_room: int = 4) -> list[int]:
    """The prompt's token ids (the chat format treats the learner's text as content only), or a
    LabError when it leaves the model fewer than `min_room` tokens to answer in: the one length
    check every screen uses (prompts.context_problem words it)."""
    ids = encode_prompt(tokenizer, prompt, chat)
    problem = context_problem(len(ids), context, min_room)
    if problem:
        raise LabError(problem)
    return ids


# ----------------------------------------------------------------------------- streaming


def _filter_logits(logits, top_k: int, top_p: float):
    """Top-k then nucleus filtering on a [batch, vocab] tensor (top_k=0 and top_p=1 disable them)."""
    import torch

    if top_k and top_k > 0:
        kth = torch.topk(logits, min(top_k, logits.size(-1))).values[..., -1, None]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if top_p < 1.0:
        sorted_logits, idx = torch.sort(logits, descending=True)
        cum = torch.softmax(sorted_logits, dim=-1).cumsum(-1)
        drop = cum - torch.softmax(sorted_logits, dim=-1) > top_p  # keep the token that crosses p
        sorted_logits = sorted_logits.masked_fill(drop, float("-inf"))
        logits = torch.full_like(logits, float("-inf")).scatter(-1, idx, sorted_logits)
    return logits


def stream_ids(model, tokenizer, ids: Sequence[int], *, max_new_tokens: int = 40, temperature: float = 1.0,
               top_k: int = 0, top_p: float = 1.0, seed: int | None = None, greedy: bool = False,
               return_dist: bool = False, dist_k: int = 8, ignore_stop: bool = False) -> Iterator[dict]:
    """Yield {"id", "text", ["dist"]} for each new token after the prompt `ids` (see `encode`)
    until a stop token or the context limit (ignore_stop=True: always max_new_tokens tokens, the
    stop tokens among them, as generate with no eos_token_id makes them; for benchmarks).

    A GPT-2 model runs rollout.hidden_states with a KV cache (the same modules and weights; a
    test checks the tokens against transformers' generate): the model's own forward spent most
    of each token building masks, cache objects and output classes. Other models run their own
    forward with past_key_values.

    "text" is the new piece of decoded text (a token that ends inside a multi-byte character yields
    "" and the character comes with the next one). "dist" lists the dist_k most likely next tokens
    as (token text, probability) before sampling, for the GUI's distribution view.
    """
    import torch

    limit = context_length(model)
    stops = _stops(tokenizer)
    device = next(model.parameters()).device
    gen = torch.Generator(device=device)
    if seed is not None:
        gen.manual_seed(seed)
    else:
        gen.seed()
    new: list[int] = []
    printed = ""
    x = torch.tensor([list(ids)], device=device)
    next_logits = _next_logits(model)
    with torch.inference_mode():
        for _ in range(min(max_new_tokens, limit - len(ids))):
            logits = next_logits(x)
            if greedy or temperature <= 0:
                tok = int(torch.argmax(logits))
            else:
                filtered = _filter_logits((logits / temperature)[None], top_k, top_p)[0]
                tok = int(torch.multinomial(torch.softmax(filtered, dim=-1), 1, generator=gen))
            event: dict = {"id": tok}
            if return_dist:
                p = torch.softmax(logits / (temperature if temperature > 0 and not greedy else 1.0), -1)
                top = torch.topk(p, min(dist_k, p.numel()))
                event["dist"] = [(tokenizer.decode([i]), float(v)) for v, i in
                                 zip(top.values.tolist(), top.indices.tolist())]
            if tok in stops and not ignore_stop:
                return
            new.append(tok)
            text = tokenizer.decode(new, skip_special_tokens=True)
            if text.endswith("\ufffd"):  # half of a multi-byte character: wait for the rest
                event["text"] = ""
            else:
                event["text"], printed = text[len(printed):], text
            yield event
            x = torch.tensor([[tok]], device=device)


_stop_cache: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _stops(tokenizer) -> frozenset:
    """stop_ids of a tokenizer, worked out once per tokenizer object: a fast tokenizer's get_vocab
    builds a new dict every call, a third of the first token's time."""
    try:
        found = _stop_cache.get(tokenizer)
        if found is None:
            found = _stop_cache[tokenizer] = frozenset(stop_ids(tokenizer))
        return found
    except TypeError:   # an object that takes no weak reference
        return frozenset(stop_ids(tokenizer))


def _next_logits(model):
    """A function from the next input ids (1, T) to the logits (float, vocab) of the token after
    them, keeping the model's KV cache between calls."""
    import torch

    from .rollout import hidden_states, is_gpt2

    if is_gpt2(model):
        cache: list = []

        def lean(x):
            seen = cache[0][0].shape[2] if cache else 0
            mask = torch.ones(1, seen + x.shape[1], dtype=torch.long, device=x.device)
            return model.lm_head(hidden_states(model.transformer, x, mask, cache=cache)[:, -1])[0].float()
        return lean
    past = None

    def full(x):
        nonlocal past
        out = model(input_ids=x, past_key_values=past, use_cache=True)
        past = out.past_key_values
        return out.logits[0, -1].float()
    return full


def stream(model, tokenizer, prompt: str, *, chat: bool = True, **kw) -> Iterator[dict]:
    """`stream_ids` for a prompt text; a prompt that leaves no room to answer raises LabError."""
    return stream_ids(model, tokenizer, encode(tokenizer, prompt, chat=chat, context=context_length(model)), **kw)


def generate_text(model, tokenizer, prompt: str, **kw) -> str:
    """The whole streamed reply as one string (convenience for the CLI and tests)."""
    ids = [e["id"] for e in stream(model, tokenizer, prompt, **kw)]
    return tokenizer.decode(ids, skip_special_tokens=True)


# ----------------------------------------------------------------------------- batches


def generate_batch(model, tokenizer, prompts: Sequence[str], *, max_new_tokens: int = 24,
                   greedy: bool = True, temperature: float = 1.0, top_k: int = 0, top_p: float = 1.0,
                   seed: int | None = 0, chat: bool = True, batch_size: int = 64) -> list[str]:
    """Replies to many prompts with Hugging Face's generate, in left-padded batches; any causal LM.
    Each row stops at <|end|>/eos. The report never loops over prompts one by one."""
    import torch

    from .tokenizer import pad_batch

    device = next(model.parameters()).device
    limit = context_length(model)
    if seed is not None:
        torch.manual_seed(seed)
    out: list[str] = []
    stops = stop_ids(tokenizer)
    for i in range(0, len(prompts), batch_size):
        chunk = [encode_prompt(tokenizer, p, chat) for p in prompts[i: i + batch_size]]
        ids, att = pad_batch(chunk, tokenizer.pad_token_id, side="left")
        n_new = max(1, min(max_new_tokens, limit - ids.shape[1]))
        kw = dict(do_sample=False) if greedy else dict(do_sample=True, temperature=temperature,
                                                       top_k=top_k, top_p=top_p)
        with torch.inference_mode():
            res = model.generate(input_ids=ids.to(device), attention_mask=att.to(device),
                                 max_new_tokens=n_new, eos_token_id=stops,
                                 pad_token_id=tokenizer.pad_token_id, **kw)
        for row in res[:, ids.shape[1]:].tolist():
            cut = next((j for j, t in enumerate(row) if t in stops), len(row))
            out.append(tokenizer.decode(row[:cut], skip_special_tokens=True))
    return out


def replies(model, tokenizer, prompts: Sequence[str], *, max_new_tokens: int = 20, greedy: bool = False,
            temperature: float = 1.0, seed: int = 0, chat: bool = True, batch_size: int = 128,
            check: bool = False) -> list[str]:
    """Replies (stripped) to many prompts in batches: rollouts for the RLHF stages and the tabs.

    GPT-2 models take the lab's lean KV-cache loop (rollout.sample_texts: Hugging Face's generate costs
    ~10x more per token on these tiny models; no top-k or top-p, so a sample comes from the policy's
    full distribution); any other model takes `generate_batch`. With check=True a prompt that leaves
    no room to answer raises LabError (see `encode`) instead of getting a clipped answer.
    """
    if check:
        context = context_length(model)
        for p in set(prompts):
            encode(tokenizer, p, chat=chat, context=context)
    from .rollout import is_gpt2, sample_texts

    if is_gpt2(model):
        return sample_texts(model, tokenizer, prompts, max_new_tokens=max_new_tokens, greedy=greedy, seed=seed,
                            batch_size=batch_size, temperature=temperature, chat=chat)
    return [t.strip() for t in generate_batch(model, tokenizer, prompts, max_new_tokens=max_new_tokens,
                                              greedy=greedy, temperature=temperature, seed=seed, chat=chat,
                                              batch_size=batch_size)]
