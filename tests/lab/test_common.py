"""Shared stage machinery: atomic checkpoint saves, the NaN guard, cancellation."""

import math
import threading

import pytest
import torch

from studyapp.lab.common import Cancelled, LabError, atomic_save_dir, check_cancel, check_finite


def test_atomic_save_replaces_on_success(tmp_path):
    final = tmp_path / "ckpt"
    final.mkdir()
    (final / "weights").write_text("old")
    with atomic_save_dir(final) as tmp:
        assert tmp != final and tmp.parent == final.parent
        (tmp / "weights").write_text("new")
    assert (final / "weights").read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt"]  # no temp or old folders left


def test_atomic_save_keeps_old_checkpoint_on_failure(tmp_path):
    final = tmp_path / "ckpt"
    final.mkdir()
    (final / "weights").write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_save_dir(final) as tmp:
            (tmp / "weights").write_text("half-written")
            raise RuntimeError("disk full")
    assert (final / "weights").read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt"]


def test_nan_guard_raises_clear_error():
    assert check_finite(torch.tensor(1.5), "sft", 3) == 1.5
    with pytest.raises(LabError, match=r"sft: the loss became nan at step 7.*previous checkpoint"):
        check_finite(torch.tensor(math.nan), "sft", 7)
    with pytest.raises(LabError, match="inf"):
        check_finite(float("inf"), "pretrain", 0)


def test_cancel():
    check_cancel(None)
    ev = threading.Event()
    check_cancel(ev)
    ev.set()
    with pytest.raises(Cancelled):
        check_cancel(ev)


def test_nan_in_training_leaves_previous_checkpoint(tmp_path, monkeypatch, tiny_model_dir):
    """A stage whose loss turns NaN stops with LabError and the old sft folder is untouched."""
    import shutil

    from studyapp.lab import sft as sft_mod

    base = tmp_path / "base"
    shutil.copytree(tiny_model_dir, base)
    out = tmp_path / "sft"
    out.mkdir()
    (out / "marker").write_text("last good checkpoint")
    calls = {"n": 0}
    real = sft_mod.check_finite

    def poisoned(loss, stage, step):
        calls["n"] += 1
        return real(float("nan") if step == 2 else loss, stage, step)

    monkeypatch.setattr(sft_mod, "check_finite", poisoned)
    with pytest.raises(LabError, match="nan"):
        sft_mod.train_sft(base, out, sft_mod.SFTConfig.quick())
    assert (out / "marker").read_text() == "last good checkpoint"
    assert calls["n"] == 3


def test_one_thread_setting_reaches_the_lab(monkeypatch, tmp_path):
    import torch

    from studyapp.lab.common import DEFAULT_TORCH_THREADS, limit_threads, torch_threads

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))   # no user config of this machine
    monkeypatch.delenv("STUDYAPP_TORCH_THREADS", raising=False)
    assert torch_threads() == DEFAULT_TORCH_THREADS == 1
    monkeypatch.setenv("STUDYAPP_TORCH_THREADS", "2")
    assert torch_threads() == 2
    before = torch.get_num_threads()
    try:
        limit_threads()
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
