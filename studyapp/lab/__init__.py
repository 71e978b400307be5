"""The tiny-model lab: a real GPT-2 pretrained, fine-tuned and PPO-optimised on the CPU, no Qt.

Stages (each `f(..., progress=None, cancel=None) -> dict`): pretrain.train_base, sft.train_sft,
reward.train_reward, ppo.train_ppo; pipeline.run_pipeline runs them in order; report.build_report
measures the claims; generate.stream streams tokens for the GUI. Importing this package is cheap:
torch and transformers load only when a stage or model is used.
"""

from .common import Cancelled, LabError
from .world import load_world

__all__ = ["Cancelled", "LabError", "load_world"]
