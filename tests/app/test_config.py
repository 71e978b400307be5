"""Config layering: defaults < site < user < environment < flags, with warnings for bad values."""
import re
from pathlib import Path

from studyapp import config as cfg


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_each_layer_overrides_the_one_before(tmp_path):
    site = write(tmp_path / "site.toml", 'theme = "dark"\nfont_scale = 120\nbackup_keep = 7\ntorch_threads = 2\n')
    user = write(tmp_path / "user.toml", 'font_scale = 130\nbackup_keep = 8\ntorch_threads = 3\n')
    env = {"STUDYAPP_BACKUP_KEEP": "9", "STUDYAPP_TORCH_THREADS": "4"}
    conf = cfg.load_config({"torch_threads": 1}, env=env, site_file=site, user_file=user)
    assert (conf.theme, conf.source("theme")) == ("dark", "site")
    assert (conf.font_scale, conf.source("font_scale")) == (130, "user")
    assert (conf.backup_keep, conf.source("backup_keep")) == (9, "env")
    assert (conf.torch_threads, conf.source("torch_threads")) == (1, "flag")
    assert (conf.backup_minutes, conf.source("backup_minutes")) == (30, "default")


def test_studyapp_home_moves_the_profile(tmp_path):
    conf = cfg.load_config(env={"STUDYAPP_HOME": str(tmp_path / "p")},
                           site_file=tmp_path / "none1", user_file=tmp_path / "none2")
    assert conf.data_path == tmp_path / "p"
    flagged = cfg.load_config({"data_dir": tmp_path / "q"}, env={"STUDYAPP_HOME": str(tmp_path / "p")},
                              site_file=tmp_path / "none1", user_file=tmp_path / "none2")
    assert flagged.data_path == tmp_path / "q"


def test_bad_values_and_unknown_keys_warn_and_keep_the_lower_layer(tmp_path):
    site = write(tmp_path / "site.toml", 'theme = "dark"\n')
    user = write(tmp_path / "user.toml", 'theme = "purple"\nfont_sclae = 3\n')
    conf = cfg.load_config(env={"STUDYAPP_BACKUP_KEEP": "lots"}, site_file=site, user_file=user)
    assert conf.theme == "dark"
    assert conf.backup_keep == 5
    text = "\n".join(conf.warnings)
    assert "user.toml" in text and "'theme'" in text
    assert "font_sclae" in text
    assert "environment" in text and "backup_keep" in text


def test_a_broken_user_file_is_skipped_with_file_line_column_and_key(tmp_path):
    site = write(tmp_path / "site.toml", 'theme = "light"\n')
    user = write(tmp_path / "user.toml", 'font_scale = 120\ntheme = dark\n')
    conf = cfg.load_config(env={}, site_file=site, user_file=user)
    assert (conf.theme, conf.source("theme")) == ("light", "site")   # the lower layer is kept
    assert conf.font_scale == 100                                   # the whole broken file is skipped
    [problem] = conf.problems
    assert (problem.where, problem.line, problem.column, problem.key) == (str(user), 2, 9, "theme")
    assert str(problem).startswith(f"{user}:2:9: setting 'theme': TOML syntax error")


def test_readme_documents_every_key():
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    readme = readme[readme.index("## Settings"):]
    readme = readme[:readme.index("\n## ", 5)]
    documented = set(re.findall(r"^\| `(\w+)` \|", readme, flags=re.M))
    assert documented == set(cfg.KEYS), "README's settings table and config.KEYS disagree"
    for key in cfg.KEYS.values():
        if key.env:
            assert key.env in readme


def test_the_site_config_can_lock_settings_hide_controls_and_narrow_ranges(tmp_path):
    site = write(tmp_path / "site.toml", 'allow_own_models = false\nlocked = ["allow_own_models"]\n'
                 'hidden_controls = ["compare.own_models"]\n[limits]\n"ppo.steps" = [1, 50]\n')
    user = write(tmp_path / "user.toml", "allow_own_models = true\n")
    conf = cfg.load_config({"allow_own_models": True}, env={"STUDYAPP_ALLOW_OWN_MODELS": "1"},
                           site_file=site, user_file=user)
    assert conf.allow_own_models is False and conf.source("allow_own_models") == "site"
    assert sum("locked" in w for w in conf.warnings) == 3   # user file, environment, flag
    assert conf.hidden("compare.own_models") and not conf.hidden("ppo.beta")
    assert conf.limit("ppo.steps", 1, 500) == (1, 50)
    assert conf.limit("ppo.beta", 0.0, 1.0) == (0.0, 1.0)


def test_profiles_live_in_named_folders(tmp_path, monkeypatch):
    monkeypatch.setattr(cfg, "default_data_dir", lambda: tmp_path / "data")
    conf = cfg.load_config(env={"STUDYAPP_PROFILE": "alice"}, site_file=tmp_path / "n", user_file=tmp_path / "m")
    assert conf.data_path == tmp_path / "data" / "alice"
    bad = cfg.load_config({"profile": "../etc"}, env={}, site_file=tmp_path / "n", user_file=tmp_path / "m")
    assert bad.profile == "default" and any("profile" in w for w in bad.warnings)


def test_the_tabs_obey_the_site_rules(qtbot, tmp_path):
    from studyapp.app import build_context, create_window
    site = write(tmp_path / "site.toml", 'hidden_controls = ["compare.own_models", "ppo.lr"]\n'
                 '[limits]\n"ppo.steps" = [1, 30]\n"compare.max_new_tokens" = [1, 16]\n')
    conf = cfg.load_config({"data_dir": tmp_path / "p"}, env={}, site_file=site, user_file=tmp_path / "u")
    ctx = build_context(conf)
    window = create_window(ctx)
    qtbot.addWidget(window)
    compare, ppo = window.tab_widgets["compare"], window.tab_widgets["ppo"]
    assert compare.controls.own_models.isHidden()
    assert compare.controls.max_new.maximum() == 16
    assert ppo.settings.steps.maximum() == 30
    assert ppo.settings.lr.isHidden()
    window.close()
    ctx.store.close(backup=False)


def test_a_broken_config_reaches_the_start_up_messages_the_window_shows(tmp_path):
    from studyapp.app import build_context
    user = write(tmp_path / "user.toml", "theme = dark\n")
    site = write(tmp_path / "site.toml", 'locked = "allow_own_models"\n')
    conf = cfg.load_config({"data_dir": tmp_path / "p"}, env={}, site_file=site, user_file=user)
    ctx = build_context(conf)
    try:
        text = "\n".join(ctx.messages)
        assert f"{user}:1:9: setting 'theme': TOML syntax error" in text
        assert f"{site}:1:1: 'locked' must be a list" in text
    finally:
        ctx.store.close(backup=False)
