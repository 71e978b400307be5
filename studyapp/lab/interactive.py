"""Kept for report.py's `from .interactive import hhh_conflicts`; the code lives by feature now:

- ranking.py: the RLHF tab's stage 1 (sampling answers, rankings into pairs, the rater's view),
- reward_tuning.py: stage 2 and the reward-model playground (scores, fine-tuning on the learner's pairs),
- hhh.py: the HHH explorer (scenarios, replies, the rater's ranking under any weights),
- engine.py: loading and running the models (one cache for every tab).

Import from those; once report.py imports hhh_conflicts from .hhh, this module can go.
"""

from __future__ import annotations

from .hhh import hhh_conflicts

__all__ = ["hhh_conflicts"]
