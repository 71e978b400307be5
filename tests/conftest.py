"""Shared test set-up: headless Qt, and a profile folder per test."""
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
