"""The data folder: unwritable ones are a clear error, network ones get a warning."""

from __future__ import annotations

import pytest

from studyapp.store import StoreError, open_profile
from studyapp.store import fsinfo, profile


def test_unwritable_folder_raises_store_error_naming_it(tmp_path, clock):
    # A path below a regular file cannot be created even by root, unlike a chmod-ed folder.
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(StoreError) as raised:
        open_profile(blocker / "sub", clock=clock)
    assert str(blocker / "sub") in str(raised.value)
    assert "--data-dir" in str(raised.value)


MOUNTS = """\
/dev/sda1 / ext4 rw,relatime 0 0
server:/export/home /home nfs4 rw,relatime 0 0
/dev/sdb1 /home/local\\040disk ext4 rw 0 0
user@host:/data /mnt/ssh fuse.sshfs rw 0 0
//srv/share /mnt/smb cifs rw 0 0
"""


@pytest.mark.parametrize("folder, expected", [
    ("/home/ann/.local/share/studyapp", "nfs4"),
    ("/home/local disk/studyapp", None),
    ("/mnt/ssh/p", "fuse.sshfs"),
    ("/mnt/smb", "cifs"),
    ("/mnt/smbother", None),
    ("/var/lib/x", None),
])
def test_network_fs_detection_from_proc_mounts(folder, expected):
    from pathlib import Path
    assert fsinfo._linux_fs_type(Path(folder), MOUNTS) == expected


def test_network_folder_gets_a_warning_but_opens(data_dir, clock, monkeypatch):
    monkeypatch.setattr(profile, "network_fs_type", lambda folder: "nfs")
    result = open_profile(data_dir, clock=clock)
    [message] = result.messages
    assert "network file system (nfs)" in message and str(data_dir) in message
    result.store.close()


def test_local_tmp_is_not_reported_as_network(tmp_path):
    assert fsinfo.network_fs_type(tmp_path) is None
