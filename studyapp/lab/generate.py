"""`studyapp lab generate` and the report reach the engine under these names (engine.py does the work).

    studyapp lab generate --model sft "What is the capital of France?"

`stream` yields one token at a time (for the GUI and the CLI), `generate_batch` decodes many
prompts together in left-padded batches; both work for any local Hugging Face causal-LM folder.
"""

from __future__ import annotations

from .engine import (MODEL_NAMES, context_length, generate_batch, generate_text, load_for_command, load_model,
                     resolve_model, stream)

__all__ = ["MODEL_NAMES", "context_length", "generate_batch", "generate_text", "load_for_command", "load_model",
           "resolve_model", "stream"]
