#!/usr/bin/env bash
# Build the one-folder app with PyInstaller, then prove it works the way a classroom gets it:
# its size, its self-test offscreen with no network at all (a fresh network namespace has no
# interfaces), and the time from launch to the first painted window, against the same start
# from the installed (pip) app measured alongside. Run from the repository root:
#     bash bench/frozen.sh
# VENV names the virtual environment to build from and to time the installed app from (default
# .venv), e.g. VENV=/tmp/buildvenv bash bench/frozen.sh; SKIP_INSTALL=1 skips the pip install.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
[ -n "${SKIP_INSTALL:-}" ] || "$VENV/bin/pip" install -q -e '.[build]'
start=$(date +%s)
rm -rf build dist
"$VENV/bin/pyinstaller" --noconfirm --log-level ERROR build.spec
echo "build: $(( $(date +%s) - start )) s"
echo "size: $(du -sh dist/studyapp | cut -f1) ($(du -sm dist/studyapp | cut -f1) MiB)"

offline() { if unshare --net true 2>/dev/null; then unshare --net "$@"; else "$@"; fi; }
export QT_QPA_PLATFORM=offscreen
offline dist/studyapp/studyapp self-test

first_window() {   # median of 5 launches, each on a fresh profile, timed by the app's own hook
  # The hook (STUDYAPP_QUIT_AFTER_FIRST_PAINT) prints the first full frame counted from the
  # process start and quits cleanly; a launch that exits non-zero or prints no time fails the bench.
  for _ in 1 2 3 4 5; do
    d=$(mktemp -d)
    if ! out=$(STUDYAPP_QUIT_AFTER_FIRST_PAINT=1 "$@" --data-dir "$d" 2>&1); then
      echo "FAILED: $* exited non-zero:" >&2; echo "$out" >&2; exit 1
    fi
    rm -rf "$d"
    t=$(echo "$out" | sed -n 's/^first full frame: \([0-9.]*\) s.*/\1/p')
    if [ -z "$t" ]; then echo "FAILED: $* printed no first-frame time:" >&2; echo "$out" >&2; exit 1; fi
    echo "$t"
  done | sort -n | sed -n 3p
}
frozen=$(first_window dist/studyapp/studyapp)
pip_app=$(first_window "$VENV/bin/studyapp")
[ -n "$frozen" ] && [ -n "$pip_app" ] || { echo "FAILED: a launch did not start cleanly" >&2; exit 1; }
echo "first full frame: frozen ${frozen} s, installed app ${pip_app} s, ratio $(echo "scale=2; $frozen / $pip_app" | bc)x (target: frozen < 1.5 s)"
