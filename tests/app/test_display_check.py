"""Before Qt starts, a missing display or a missing xcb library is named in one sentence with the
command that installs it, instead of Qt's core dump."""
from __future__ import annotations

from studyapp import cli, display_check


def fedora(tmp_path):
    path = tmp_path / "os-release"
    path.write_text('NAME="Fedora Linux"\nID=fedora\n')
    return path


def test_all_libraries_present_means_no_problem():
    assert display_check.check({"DISPLAY": ":0"}, loadable=lambda name: True, platform="linux") is None


def test_missing_xcb_libraries_are_named_with_the_install_command(tmp_path):
    gone = {"libxcb-icccm.so.4", "libxcb-keysyms.so.1"}
    debian = tmp_path / "debian"
    debian.write_text("ID=ubuntu\nID_LIKE=debian\n")
    message = display_check.check({"DISPLAY": ":0"}, loadable=lambda name: name not in gone,
                                  platform="linux", os_release=debian)
    assert "libxcb-icccm.so.4, libxcb-keysyms.so.1" in message
    assert "sudo apt install libxcb-icccm4 libxcb-keysyms1" in message
    assert message.count(".") >= 1 and "\n" not in message
    on_fedora = display_check.check({"DISPLAY": ":0"}, loadable=lambda name: name not in gone,
                                    platform="linux", os_release=fedora(tmp_path))
    assert "sudo dnf install xcb-util-wm xcb-util-keysyms" in on_fedora


def test_no_display_is_said_plainly():
    message = display_check.check({}, loadable=lambda name: True, platform="linux")
    assert "no display" in message and "DISPLAY" in message


def test_other_platforms_and_chosen_plugins_are_left_to_qt():
    nothing = lambda name: False
    assert display_check.check({}, loadable=nothing, platform="win32") is None
    assert display_check.check({"QT_QPA_PLATFORM": "offscreen"}, loadable=nothing, platform="linux") is None
    assert display_check.check({"WAYLAND_DISPLAY": "wayland-0"}, loadable=nothing, platform="linux") is None


def test_the_gui_command_stops_with_the_sentence_before_qt(monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(display_check, "check", lambda: "studyapp cannot open its window: test.")
    import studyapp.app as app
    monkeypatch.setattr(app, "run_gui", lambda config: (_ for _ in ()).throw(AssertionError("Qt started")))
    assert cli.main(["--data-dir", str(tmp_path / "p")]) == 3
    assert capsys.readouterr().err.strip() == "studyapp cannot open its window: test."
