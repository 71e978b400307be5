"""The tab registry: each tab's stable short name, its title, and the module that builds it.

The short names are public: `studyapp screenshot --tab NAME`, studyapp://NAME?... links and the
Ctrl+1..9 order all use them, so never rename one. Each module has `create_tab(window) -> QWidget`;
the widget may define `open_link(params, fragment)` to open in the state a link asks for.
A registered module that is not in this build (its file is absent) is left out of the window.
"""
from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass


@dataclass(frozen=True)
class TabSpec:
    name: str
    title: str
    module: str

    def available(self) -> bool:
        return importlib.util.find_spec(self.module) is not None

    def create(self, window):
        return importlib.import_module(self.module).create_tab(window)


REGISTRY: list[TabSpec] = [
    TabSpec("lessons", "&Lessons", "studyapp.ui.lessons_tab"),
    TabSpec("compare", "&Compare models", "studyapp.ui.compare_tab"),
    TabSpec("rlhf", "&RLHF pipeline", "studyapp.ui.rlhf_tab"),
    TabSpec("ppo", "&PPO curves", "studyapp.ui.ppo_tab"),
    TabSpec("hhh", "&HHH explorer", "studyapp.ui.hhh_tab"),
    TabSpec("claims", "C&laims", "studyapp.ui.claims_tab"),
    TabSpec("quiz", "&Quiz", "studyapp.ui.quiz_tab"),
    TabSpec("cards", "&Flashcards", "studyapp.ui.cards_tab"),
    TabSpec("teach", "&Teach it back", "studyapp.ui.teach_tab"),
    TabSpec("progress", "Pro&gress", "studyapp.ui.progress_tab"),
    TabSpec("methods", "&Beyond PPO", "studyapp.ui.methods_tab"),
]


def available_tabs() -> list[TabSpec]:
    return [spec for spec in REGISTRY if spec.available()]
