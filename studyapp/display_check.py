"""Before Qt starts: is there a display, and can Qt's X11 plugin load? Say what is missing.

Without this, a Linux machine with no display, or without one of the small xcb libraries the
Qt "xcb" platform plugin needs (libxcb-cursor0 since Qt 6.5, libxcb-icccm4, libxcb-keysyms1 ...),
aborts with a core dump and a message that blames the plugin, not the missing library.

    problem = check()        # None when the window can open; else one sentence to print
    if problem: print(problem, file=sys.stderr)

Only Linux (and other X11 systems) are checked; Windows and macOS ship what Qt needs. A platform
chosen with QT_QPA_PLATFORM other than xcb (offscreen, wayland, vnc ...) is left to Qt. No Qt
import here: the check runs before PySide6 loads anything.
"""
from __future__ import annotations

import ctypes
import os
import sys
from pathlib import Path
from typing import Callable, Mapping

# soname -> (Debian/Ubuntu, Fedora, Arch) package that provides it.
XCB_LIBRARIES = {
    "libxcb-cursor.so.0": ("libxcb-cursor0", "xcb-util-cursor", "xcb-util-cursor"),
    "libxcb-icccm.so.4": ("libxcb-icccm4", "xcb-util-wm", "xcb-util-wm"),
    "libxcb-keysyms.so.1": ("libxcb-keysyms1", "xcb-util-keysyms", "xcb-util-keysyms"),
    "libxcb-image.so.0": ("libxcb-image0", "xcb-util-image", "xcb-util-image"),
    "libxcb-render-util.so.0": ("libxcb-render-util0", "xcb-util-renderutil", "xcb-util-renderutil"),
    "libxcb-shape.so.0": ("libxcb-shape0", "libxcb", "libxcb"),
    "libxcb-randr.so.0": ("libxcb-randr0", "libxcb", "libxcb"),
    "libxcb-xkb.so.1": ("libxcb-xkb1", "libxcb", "libxcb"),
    "libxkbcommon-x11.so.0": ("libxkbcommon-x11-0", "libxkbcommon-x11", "libxkbcommon-x11"),
    "libEGL.so.1": ("libegl1", "libglvnd-egl", "libglvnd"),
    "libfontconfig.so.1": ("libfontconfig1", "fontconfig", "fontconfig"),
}
INSTALLERS = ("sudo apt install", "sudo dnf install", "sudo pacman -S")


def _loadable(soname: str) -> bool:
    try:
        ctypes.CDLL(soname)
        return True
    except OSError:
        return False


def distro_family(os_release: Path = Path("/etc/os-release")) -> int:
    """0 Debian/Ubuntu (the default), 1 Fedora/RHEL/openSUSE-like rpm, 2 Arch."""
    try:
        text = os_release.read_text(encoding="utf-8", errors="replace").lower()
    except OSError:
        return 0
    ids = " ".join(line.split("=", 1)[1].strip("\"' ") for line in text.splitlines()
                   if line.startswith(("id=", "id_like=")))
    if "arch" in ids.split() or "manjaro" in ids:
        return 2
    if any(word in ids for word in ("fedora", "rhel", "centos")):
        return 1
    return 0


def check(env: Mapping[str, str] | None = None, loadable: Callable[[str], bool] = _loadable,
          platform: str | None = None, os_release: Path = Path("/etc/os-release")) -> str | None:
    """None when Qt can open a window here; otherwise one sentence saying what to do."""
    env = os.environ if env is None else env
    platform = sys.platform if platform is None else platform
    if not platform.startswith(("linux", "freebsd", "openbsd", "netbsd")):
        return None
    chosen = env.get("QT_QPA_PLATFORM", "").split(":")[0].strip().lower()
    if chosen and chosen != "xcb":
        return None          # offscreen, wayland, vnc ...: Qt's own business
    if not env.get("DISPLAY"):
        if env.get("WAYLAND_DISPLAY") and not chosen:
            return None      # a Wayland session: Qt uses its wayland plugin
        return ("studyapp cannot open its window: no display was found (DISPLAY is not set); start it "
                "from a desktop session, or over SSH with `ssh -X`, or use `studyapp screenshot` "
                "and the headless commands (`studyapp --help`).")
    missing = [name for name in XCB_LIBRARIES if not loadable(name)]
    if not missing:
        return None
    family = distro_family(os_release)
    packages = list(dict.fromkeys(XCB_LIBRARIES[name][family] for name in missing))
    return (f"studyapp cannot open its window: Qt's X11 plugin needs "
            f"{', '.join(missing)}, which {'is' if len(missing) == 1 else 'are'} not installed; "
            f"install with `{INSTALLERS[family]} {' '.join(packages)}` (the README lists the "
            f"packages for other Linux distributions).")
