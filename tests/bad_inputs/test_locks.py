"""Every lock of the README's classroom example holds against each layer a learner controls: the
user file, environment variables (including XDG_CONFIG_DIRS, which chooses where site files are
looked for), command-line flags and the `studyapp` sub-commands."""
import re
from pathlib import Path

import pytest

from studyapp import cli
from studyapp import config as cfg

README = Path(__file__).parents[2] / "README.md"
MINE = {"allow_own_models": True, "models_dir": "/home/learner/my-models", "content_dir": "/home/learner/pack",
        "profile": "mine", "data_dir": "/home/learner/elsewhere"}


def classroom_example() -> str:
    text = README.read_text(encoding="utf-8")
    block = text[text.index("    # /etc/xdg/studyapp/config.toml"):]
    lines = []
    for line in block.splitlines()[1:]:
        if line and not line.startswith("    "):
            break
        lines.append(line[4:])
    return "\n".join(lines) + "\n"


@pytest.fixture
def site(tmp_path):
    path = tmp_path / "etc" / "studyapp" / "config.toml"
    path.parent.mkdir(parents=True)
    path.write_text(classroom_example(), encoding="utf-8")
    return path


def locked_keys(site_path: Path) -> list[str]:
    conf = cfg.load_config(env={}, site_file=site_path, user_file=Path("/nonexistent"))
    return sorted(conf.locked)


def test_the_readme_example_is_clean_and_locks_the_course_models(site):
    assert cfg.check_site_file(site) == []
    assert {"allow_own_models", "models_dir", "content_dir"} <= set(locked_keys(site))


def _value(key):
    return MINE[key] if not isinstance(MINE[key], bool) else not cfg.KEYS[key].default


@pytest.mark.parametrize("layer", ["user", "env", "flag"])
def test_every_locked_setting_holds_against_each_layer(tmp_path, site, layer):
    site_conf = cfg.load_config(env={}, site_file=site, user_file=tmp_path / "none")
    for key in sorted(site_conf.locked):
        mine = MINE[key]
        user = tmp_path / f"user-{key}.toml"
        user.write_text(f"{key} = {'true' if mine is True else repr(mine).replace(chr(39), chr(34))}\n"
                        if layer == "user" else "", encoding="utf-8")
        env = {cfg.KEYS[key].env: str(mine).lower() if isinstance(mine, bool) else mine} if layer == "env" else {}
        flags = {key: mine} if layer == "flag" else None
        conf = cfg.load_config(flags, env=env, site_file=site, user_file=user)
        assert conf.values[key] == site_conf.values[key], (key, layer)
        assert conf.source(key) == site_conf.source(key)
        [problem] = [p for p in conf.problems if p.key == key]
        assert "locked by the site configuration" in str(problem) and str(site) in str(problem)
        if layer == "user":
            assert problem.line == 1 and problem.where == str(user)
        if layer == "env":
            assert problem.where == f"environment variable {cfg.KEYS[key].env}"


@pytest.mark.parametrize("layer", ["user", "env", "flag"])
def test_locking_own_models_off_also_locks_models_dir(tmp_path, layer):
    site = tmp_path / "site.toml"
    site.write_text('allow_own_models = false\nlocked = ["allow_own_models"]\n', encoding="utf-8")
    user = tmp_path / "user.toml"
    user.write_text('models_dir = "/home/learner/m"\n' if layer == "user" else "", encoding="utf-8")
    conf = cfg.load_config({"models_dir": Path("/home/learner/m")} if layer == "flag" else None,
                           env={"STUDYAPP_MODELS": "/home/learner/m"} if layer == "env" else {},
                           site_file=site, user_file=user)
    assert conf.models_path == cfg.MODELS_DIR and "models_dir" in conf.locked
    assert any(p.key == "models_dir" and "locked" in p.message for p in conf.problems)


def test_locking_own_models_on_leaves_models_dir_free(tmp_path):
    site = tmp_path / "site.toml"
    site.write_text('allow_own_models = true\nlocked = ["allow_own_models"]\n', encoding="utf-8")
    conf = cfg.load_config(env={"STUDYAPP_MODELS": "/m"}, site_file=site, user_file=tmp_path / "none")
    assert conf.models_dir == "/m" and "models_dir" not in conf.locked


def test_locking_the_profile_also_locks_data_dir(tmp_path):
    site = tmp_path / "site.toml"
    site.write_text('profile = "exam"\nlocked = ["profile"]\n', encoding="utf-8")
    conf = cfg.load_config(env={"STUDYAPP_HOME": str(tmp_path / "x")}, site_file=site, user_file=tmp_path / "n")
    assert conf.data_dir == "" and conf.data_path.name == "exam"


# ---- where the site file is looked for ---------------------------------------------------------

@pytest.fixture
def trusted(tmp_path, monkeypatch, site):
    monkeypatch.setattr(cfg, "TRUSTED_SITE_FILE", site)
    for key in cfg.KEYS.values():
        monkeypatch.delenv(key.env, raising=False)
    monkeypatch.setattr(cfg, "user_config_file", lambda: tmp_path / "user.toml")
    return site


def test_xdg_config_dirs_cannot_hide_the_trusted_site_file(tmp_path, monkeypatch, trusted):
    decoy = tmp_path / "decoy" / "studyapp"
    decoy.mkdir(parents=True)
    (decoy / "config.toml").write_text('allow_own_models = true\nmodels_dir = "/home/learner/m"\n'
                                       'locked = []\n', encoding="utf-8")
    monkeypatch.setenv("XDG_CONFIG_DIRS", str(tmp_path / "decoy"))
    files = cfg.site_config_files()
    assert files[-1] == trusted and decoy / "config.toml" in files
    conf = cfg.load_config()
    assert conf.allow_own_models is False and conf.models_path == cfg.MODELS_DIR
    assert conf.content_dir == "/srv/class/pack"
    refused = [p for p in conf.problems if p.where == str(decoy / "config.toml")]
    assert {p.key for p in refused} == {"allow_own_models", "models_dir"}


def test_a_site_file_from_xdg_config_dirs_can_only_add_restrictions(tmp_path, monkeypatch, trusted):
    extra = tmp_path / "extra" / "studyapp"
    extra.mkdir(parents=True)
    (extra / "config.toml").write_text('theme = "dark"\nlocked = ["theme"]\nhidden_controls = ["ppo.lr"]\n'
                                       '[limits]\n"ppo.steps" = [1, 10]\n', encoding="utf-8")
    monkeypatch.setenv("XDG_CONFIG_DIRS", str(tmp_path / "extra"))
    conf = cfg.load_config()
    assert conf.theme == "dark" and "theme" in conf.locked and conf.hidden("ppo.lr")
    assert conf.limit("ppo.steps", 1, 500) == (1, 10)          # the narrower of both files
    assert conf.hidden("compare.own_models")                    # the trusted file's rules remain


# ---- the command line ------------------------------------------------------------------------

@pytest.fixture
def own_model(tmp_path):
    folder = tmp_path / "my-model"
    folder.mkdir()
    return folder


def test_lab_generate_with_an_own_model_folder_is_refused(trusted, own_model, capsys):
    assert cli.main(["lab", "generate", "--model", str(own_model), "hello"]) == 2
    err = capsys.readouterr().err
    assert "allow_own_models = false" in err and str(trusted) in err and "--model base, sft or rlhf" in err


def test_lab_report_on_an_own_models_folder_is_refused(trusted, own_model, capsys):
    assert cli.main(["lab", "report", "--models", str(own_model)]) == 2
    assert "allow_own_models = false" in capsys.readouterr().err


def test_lab_train_starting_from_an_own_models_folder_is_refused(trusted, own_model, capsys):
    conf = cfg.load_config()
    assert "include pretrain" in cli.lab_policy(["train", "--stages", "sft,ppo", "--out", str(own_model)], conf)
    assert cli.lab_policy(["train", "--out", str(own_model)], conf) is None   # everything made from scratch


def test_the_course_models_stay_allowed(trusted):
    conf = cfg.load_config()
    assert cli.lab_policy(["generate", "--model", "sft", "hi"], conf) is None
    assert cli.lab_policy(["generate", "--model", str(cfg.MODELS_DIR / "rlhf"), "hi"], conf) is None
    assert cli.lab_policy(["report"], conf) is None


def test_own_model_folders_are_fine_where_allowed(tmp_path, monkeypatch, own_model):
    monkeypatch.setattr(cfg, "TRUSTED_SITE_FILE", tmp_path / "none.toml")
    monkeypatch.setattr(cfg, "user_config_file", lambda: tmp_path / "user.toml")
    monkeypatch.delenv("STUDYAPP_ALLOW_OWN_MODELS", raising=False)
    monkeypatch.setenv("XDG_CONFIG_DIRS", str(tmp_path / "nothing"))
    assert cli.lab_policy(["generate", "--model", str(own_model), "hi"], cfg.load_config()) is None


def test_a_locked_global_flag_does_not_reach_a_sub_command(trusted, monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("STUDYAPP_HOME", str(tmp_path / "profile"))
    code = cli.main(["--models-dir", "/home/learner/m", "--content-dir", "/home/learner/p", "config", "show"])
    captured = capsys.readouterr()
    assert code == 0
    assert re.search(r"^models_dir = ''  \[site\]  \(locked\)$", captured.out, re.M), captured.out
    assert re.search(r"^content_dir = '/srv/class/pack'  \[site\]  \(locked\)$", captured.out, re.M)
    assert "command line: setting 'models_dir': is locked by the site configuration" in captured.err
    import os
    assert "STUDYAPP_MODELS" not in os.environ and "STUDYAPP_CONTENT" not in os.environ


def test_the_trusted_file_may_set_what_an_xdg_file_locks(tmp_path, monkeypatch, trusted):
    extra = tmp_path / "extra" / "studyapp"
    extra.mkdir(parents=True)
    (extra / "config.toml").write_text('theme = "dark"\nlocked = ["theme", "profile"]\n', encoding="utf-8")
    trusted.write_text('theme = "light"\n' + classroom_example(), encoding="utf-8")
    monkeypatch.setenv("XDG_CONFIG_DIRS", str(tmp_path / "extra"))
    conf = cfg.load_config()
    assert conf.theme == "light" and conf.source("theme") == "site" and "theme" in conf.locked
    assert conf.profile == "default" and "profile" in conf.locked   # set by the trusted file, below the XDG one
