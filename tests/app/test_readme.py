"""The README tells the truth about the repository: CI runs its test command verbatim, and every
folder and module its layout section names exists."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_ci_runs_the_readmes_test_command_verbatim():
    [command] = [line.strip() for line in README.splitlines() if "lint-imports" in line and "pytest" in line]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert command in [line.strip() for line in ci]


def test_every_path_the_layout_names_exists():
    layout = README.split("## Layout", 1)[1].split("\n## ", 1)[0]
    block = "\n".join(line for line in layout.splitlines() if line.startswith("    "))
    tops = re.findall(r"^    (\S+)", block, flags=re.M)
    assert {"studyapp/", "resources/", "models/", "tests/", "bench/"} <= set(tops)
    for top in tops:
        assert (ROOT / top).exists(), top
    studyapp = block.split("resources/", 1)[0]
    named = re.findall(r"\b([a-z_]+(?:\.py|/))", studyapp)
    assert len(named) >= 12
    for name in named:   # a package's module (ui/'s worker.py) may sit one folder down
        if name != "studyapp/":
            found = (ROOT / "studyapp" / name).exists() or any((ROOT / "studyapp").glob(f"*/{name.rstrip('/')}"))
            assert found, f"studyapp/{name}"
    resources = block.split("resources/", 1)[1].split("models/", 1)[0]
    for name in re.findall(r"\b([a-z]+)/", resources):
        assert (ROOT / "resources" / name).is_dir(), f"resources/{name}"
