"""The architecture contracts in pyproject.toml ([tool.importlinter]) hold: the logic packages never
import Qt, the lab never imports the UI, no package or module imports one that imports it back, and
only the engine uses its transformers-free reader (lab/quick.py). Run through import-linter's own command, as CI runs it, so that the suite fails when one breaks."""
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_import_contracts_are_kept():
    command = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which("lint-imports")
    assert command, "lint-imports is missing: install the test extras (pip install -e '.[test]')"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    out = subprocess.run([command, "--no-cache"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    assert len(contracts) >= 4      # every contract of pyproject.toml was checked, and none is lost
    assert out.stdout.count(" KEPT") == len(contracts) and " BROKEN" not in out.stdout, out.stdout[-2000:]


MAX_MODULE_LINES = 500   # issue 14: a module longer than this is split by feature, as cards_* are


def test_no_module_of_the_app_is_over_500_lines():
    long = {p.relative_to(ROOT).as_posix(): n for p in sorted((ROOT / "studyapp").rglob("*.py"))
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES}
    assert long == {}, f"split these by feature: {long}"
