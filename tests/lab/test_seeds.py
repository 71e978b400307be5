"""The several-seeds table: every seed's value, mean and range, and a clear error for a bad folder."""

import json

import pytest

from studyapp.lab.common import LabError
from studyapp.lab.seeds import render_markdown, summarise, write


def _run(tmp_path, name, refused):
    d = tmp_path / name
    d.mkdir()
    rep = {"rlhf": {"behaviour": {"harmful": {"heldout": {"greedy": {"refused": refused}}}}}}
    (d / "report.json").write_text(json.dumps(rep))
    return d


def test_mean_and_range_over_seeds_and_a_missing_figure_stays_missing(tmp_path):
    runs = [_run(tmp_path, f"seed{i}", v) for i, v in enumerate((0.0, 0.85, 0.6))]
    summary = summarise(runs)
    fig = next(f for f in summary["figures"] if f["path"] == "rlhf.behaviour.harmful.heldout.greedy.refused")
    assert fig["values"] == [0.0, 0.85, 0.6] and fig["min"] == 0.0 and fig["max"] == 0.85
    assert fig["mean"] == pytest.approx(0.4833, abs=1e-4)
    other = next(f for f in summary["figures"] if f["path"].startswith("sft."))
    assert other["values"] == [None, None, None] and other["mean"] is None
    md = render_markdown(summary)
    assert "| seed0 | seed1 | seed2 |" in md and "0.00-0.85" in md
    write(summary, tmp_path / "out")
    assert json.loads((tmp_path / "out" / "seeds.json").read_text()) == summary


def test_a_folder_without_a_report_is_named(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(LabError, match="empty.*report.json"):
        summarise([tmp_path / "empty"])
