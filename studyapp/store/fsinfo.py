"""What the store needs to know about the folder it lives in: is it writable, is it remote.

SQLite's WAL mode relies on shared memory and POSIX locks that network file systems do not
provide reliably (https://www.sqlite.org/wal.html, "all processes must be on the same host"), so
a profile on NFS or SMB can be damaged silently. We cannot fix that, but we can tell the learner.
Detection is best effort: /proc/mounts on Linux, `mount` output on macOS, the drive type on
Windows. Anything unexpected means "not known to be remote", never an error.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from .errors import StoreError

# File-system types (as /proc/mounts and macOS `mount` name them) where SQLite locking or
# shared memory cannot be trusted across processes or hosts.
NETWORK_FS_TYPES = frozenset({
    "nfs", "nfs4", "cifs", "smb", "smb2", "smb3", "smbfs", "9p", "afs", "ncpfs", "coda",
    "sshfs", "fuse.sshfs", "glusterfs", "fuse.glusterfs", "ceph", "fuse.ceph", "lustre", "gpfs",
    "davfs", "fuse.davfs2", "webdav", "fuse.rclone", "fuse.s3fs", "vboxsf", "fuse.vmhgfs-fuse",
    "afpfs", "osxfuse", "macfuse",
})


def ensure_writable_dir(folder: Path) -> None:
    """Create `folder` if needed and prove a file can be made in it, else raise StoreError.

    A probe file is the only honest test: os.access() says yes to root on a read-only mount and
    knows nothing of ACLs or a full disk.
    """
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".write-test-{os.getpid()}"
        with open(probe, "wb") as handle:
            handle.write(b"ok")
        probe.unlink()
    except OSError as error:
        reason = error.strerror or str(error)
        raise StoreError(
            f"studyapp cannot write to its data folder {folder} ({reason}). Your progress is "
            "kept there, so choose a folder you can write to with --data-dir or the "
            "STUDYAPP_HOME environment variable."
        ) from error


def network_fs_type(folder: Path) -> str | None:
    """The type of the network file system holding `folder`, or None if local or unknown."""
    try:
        folder = folder.resolve()
        if sys.platform.startswith("linux"):
            return _linux_fs_type(folder, Path("/proc/mounts").read_text(errors="replace"))
        if sys.platform == "darwin":
            return _macos_fs_type(folder)
        if sys.platform == "win32":
            return _windows_fs_type(folder)
    except Exception:  # noqa: BLE001 - a warning helper must never stop the app from starting
        return None
    return None


def _unescape_mount(field: str) -> str:
    # /proc/mounts writes space, tab, newline and backslash in octal (\040 ...).
    for code, char in (("\\040", " "), ("\\011", "\t"), ("\\012", "\n"), ("\\134", "\\")):
        field = field.replace(code, char)
    return field


def _linux_fs_type(folder: Path, mounts_text: str) -> str | None:
    best_point, best_type = "", ""
    for line in mounts_text.splitlines():
        parts = line.split()
        if len(parts) < 3:
            continue
        point, fs_type = _unescape_mount(parts[1]), parts[2]
        if _is_under(folder, point) and len(point) >= len(best_point):
            best_point, best_type = point, fs_type
    return best_type if _is_network(best_type) else None


def _macos_fs_type(folder: Path) -> str | None:
    # Lines look like: "//user@server/share on /Volumes/share (smbfs, nodev, nosuid, mounted by u)"
    output = subprocess.run(["/sbin/mount"], capture_output=True, text=True, timeout=2).stdout
    best_point, best_type = "", ""
    for line in output.splitlines():
        if " on " not in line or " (" not in line:
            continue
        rest = line.split(" on ", 1)[1]
        point, options = rest.rsplit(" (", 1)
        fs_type = options.split(",", 1)[0].strip(" )")
        if _is_under(folder, point) and len(point) >= len(best_point):
            best_point, best_type = point, fs_type
    return best_type if _is_network(best_type) else None


def _windows_fs_type(folder: Path) -> str | None:
    import ctypes

    anchor = folder.anchor
    if anchor.startswith("\\\\"):
        return "smb"  # a UNC path is a network share by definition
    drive_remote = 4
    if ctypes.windll.kernel32.GetDriveTypeW(anchor) == drive_remote:  # type: ignore[attr-defined]
        return "network drive"
    return None


def _is_under(folder: Path, mount_point: str) -> bool:
    if mount_point == "/":
        return True
    text = str(folder)
    return text == mount_point or text.startswith(mount_point.rstrip("/") + "/")


def _is_network(fs_type: str) -> bool:
    return fs_type in NETWORK_FS_TYPES or fs_type.startswith(("nfs", "fuse.sshfs"))
