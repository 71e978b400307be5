"""Malformed settings files: each one gives a message naming the file, the line and column (or the
field), the app still gets a usable configuration, and the other, good lines still count.

Each case: (user file text, key the message names or None, line, column, fragment of the message).
The user file always also sets a good `backup_keep = 9` on a first line of its own (so the lines of
the table count from 2), which must survive every problem except one that skips the whole file (a
syntax error, a huge or deeply nested file).
"""
import pytest

from studyapp import config as cfg

GOOD_HEAD = "backup_keep = 9\n"

# Values of the wrong type or out of range: the key is refused, the rest of the file is kept.
BAD_VALUES = [
    ('data_dir = [1, 2]', "data_dir", 1, 1, "expected a folder path in quotes, got [1, 2]"),
    ('data_dir = 5', "data_dir", 1, 1, "expected a folder path in quotes, got 5"),
    ('data_dir = true', "data_dir", 1, 1, "got True"),
    ('data_dir = {a = 1}', "data_dir", 1, 1, "got {'a': 1}"),
    ('data_dir = 1979-05-27', "data_dir", 1, 1, "datetime.date"),
    ('data_dir = "a\\u0000b"', "data_dir", 1, 1, "NUL character"),
    ('models_dir = ["x"]', "models_dir", 1, 1, "expected a folder path in quotes"),
    ('models_dir = 3.5', "models_dir", 1, 1, "expected a folder path in quotes"),
    ('content_dir = false', "content_dir", 1, 1, "expected a folder path in quotes"),
    ('content_dir = [[1]]', "content_dir", 1, 1, "expected a folder path in quotes"),
    ('profile = "../etc"', "profile", 1, 1, "a profile name uses letters"),
    ('profile = ""', "profile", 1, 1, "a profile name uses letters"),
    ('profile = ".hidden"', "profile", 1, 1, "a profile name uses letters"),
    ('profile = "a/b"', "profile", 1, 1, "a profile name uses letters"),
    ('profile = 12', "profile", 1, 1, "expected a name in quotes"),
    ('profile = "' + "x" * 100 + '"', "profile", 1, 1, "a profile name uses letters"),
    ('theme = "purple"', "theme", 1, 1, 'expected "light", "dark" or "system"'),
    ('theme = 1', "theme", 1, 1, 'expected "light", "dark" or "system"'),
    ('theme = ["dark"]', "theme", 1, 1, "got ['dark']"),
    ('theme = ""', "theme", 1, 1, 'expected "light", "dark" or "system"'),
    ('font_scale = 20', "font_scale", 1, 1, "a whole number from 50 to 300, got 20"),
    ('font_scale = 301', "font_scale", 1, 1, "got 301"),
    ('font_scale = true', "font_scale", 1, 1, "got true/false"),
    ('font_scale = 1.5', "font_scale", 1, 1, "fractional part"),
    ('font_scale = "big"', "font_scale", 1, 1, "got 'big'"),
    ('font_scale = inf', "font_scale", 1, 1, "got inf"),
    ('font_scale = nan', "font_scale", 1, 1, "got nan"),
    ('font_scale = 1e400', "font_scale", 1, 1, "got inf"),
    ('font_scale = -100', "font_scale", 1, 1, "got -100"),
    ('torch_threads = 100000', "torch_threads", 1, 1, "from 0 to 256"),
    ('torch_threads = -1', "torch_threads", 1, 1, "from 0 to 256"),
    ('torch_threads = 99999999999999999999', "torch_threads", 1, 1, "from 0 to 256"),
    ('backup_minutes = 0', "backup_minutes", 1, 1, "from 1 to 1440"),
    ('backup_minutes = [30]', "backup_minutes", 1, 1, "got [30]"),
    ('allow_own_models = "maybe"', "allow_own_models", 1, 1, "expected true or false, got 'maybe'"),
    ('allow_own_models = 2', "allow_own_models", 1, 1, "expected true or false, got 2"),
    ('allow_own_models = []', "allow_own_models", 1, 1, "expected true or false, got []"),
    ('# a comment\n\n   theme = "neon"', "theme", 3, 4, "got 'neon'"),
    ('"theme" = "neon"', "theme", 1, 2, "got 'neon'"),
    ('font_sclae = 120', "font_sclae", 1, 1, "unknown setting, ignored (did you mean 'font_scale'?)"),
    ('colour = "red"', "colour", 1, 1, "unknown setting, ignored"),
    ('[theme]\nname = "dark"', "theme", 1, 2, "expected"),
    ('[display]\ntheme = "dark"', "display", 1, 2, "unknown setting"),
    ('locked = ["theme"]', None, 1, 1, "'locked' is a classroom rule; only the site configuration may set it"),
    ('hidden_controls = ["ppo.lr"]', None, 1, 1, "'hidden_controls' is a classroom rule"),
    ('[limits]\n"ppo.steps" = [1, 2]', None, 1, 2, "'limits' is a classroom rule"),
]

# Files that cannot be read as TOML: the whole user file is skipped, the lower layer kept.
SYNTAX = [
    ('theme = dark', "theme", 1, 9, "TOML syntax error: Invalid value"),
    ('theme = "dark', "theme", 1, 1, "TOML syntax error: Unterminated string"),
    ("theme = 'dark", "theme", 1, 1, "TOML syntax error"),
    ('font_scale = 1 2', "font_scale", 1, 16, "TOML syntax error"),
    ('font_scale == 120', "font_scale", 1, 13, "TOML syntax error"),
    ('theme = "dark"\ntheme = "light"', "theme", 2, 1, "TOML syntax error: Cannot overwrite a value"),
    ('[limits\n', None, 1, 8, "TOML syntax error"),
    ('theme "dark"', None, 1, 7, "TOML syntax error"),
    ('= "dark"', None, 1, 1, "TOML syntax error"),
    ('data_dir = [1, 2', "data_dir", 1, 1, "TOML syntax error"),
    ('data_dir = """unterminated', "data_dir", 1, 1, "TOML syntax error"),
    ('font_scale = 0x', "font_scale", 1, 15, "TOML syntax error"),
    ('profile = "a" # ok\nprofile2 = \n', "profile2", 2, 12, "TOML syntax error"),
    ('theme = "dark"\x00', "theme", 1, 15, "TOML syntax error"),
    ('theme = "\\q"', "theme", 1, 12, "TOML syntax error"),
    ('a.b = 1\na = 2', "a", 2, 1, "TOML syntax error"),
    ('[[limits]]\n[limits]', None, 2, 8, "TOML syntax error"),
]

# Whole files that are not settings at all.
WHOLE_FILE = [
    (b"\xff\xfe t\x00h\x00e\x00m\x00e", 1, "is not UTF-8 text; it is ignored"),
    (b'theme = "dark"\n\xc3\x28', 2, "is not UTF-8 text"),
    (b"x = " + b"[" * 50_000 + b"]" * 50_000, None, "nested too deeply to read; this file is skipped"),
    (b"x = " + b"{a = " * 20_000 + b"1" + b"}" * 20_000, None, "nested too deeply to read"),
    (b'theme = "' + b"d" * 300_000 + b'"', None, "more than a settings file can be (256 KB); it is ignored"),
]


def resolve(tmp_path, user_text, site_text='theme = "light"\n', env=None):
    site = tmp_path / "site.toml"
    site.write_text(site_text, encoding="utf-8")
    user = tmp_path / "user.toml"
    if isinstance(user_text, bytes):
        user.write_bytes(user_text)
    else:
        user.write_text(user_text, encoding="utf-8")
    return cfg.load_config(env=env or {}, site_file=site, user_file=user), user


def the_problem(conf, user):
    mine = [p for p in conf.problems if p.where == str(user)]
    assert len(mine) == 1, [str(p) for p in conf.problems]
    return mine[0]


@pytest.mark.parametrize("text,key,line,column,fragment", BAD_VALUES, ids=[c[0][:40] for c in BAD_VALUES])
def test_a_bad_value_is_refused_naming_file_line_column_and_key(tmp_path, text, key, line, column, fragment):
    conf, user = resolve(tmp_path, GOOD_HEAD + text)
    problem = the_problem(conf, user)
    assert (problem.line, problem.column, problem.key) == (line + 1, column, key), str(problem)
    assert fragment in str(problem)
    assert str(problem).startswith(f"{user}:{line + 1}:{column}: ")
    assert conf.backup_keep == 9                          # the file's good lines still count
    assert conf.theme == "light" and conf.data_dir == ""  # the lower layers are kept
    assert conf.profile == "default" and conf.font_scale == 100
    assert str(conf.data_path)                            # and the result is usable


@pytest.mark.parametrize("text,key,line,column,fragment", SYNTAX, ids=[c[0][:40] for c in SYNTAX])
def test_a_syntax_error_skips_the_user_file_naming_line_column_and_key(tmp_path, text, key, line, column, fragment):
    conf, user = resolve(tmp_path, GOOD_HEAD + text + "\n")
    problem = the_problem(conf, user)
    assert (problem.line, problem.column, problem.key) == (line + 1, column, key), str(problem)
    assert fragment in str(problem) and "this file is skipped" in str(problem)
    assert conf.backup_keep == 5 and conf.theme == "light"   # skipped whole; the site file holds


@pytest.mark.parametrize("raw,line,fragment", WHOLE_FILE, ids=["utf16", "bad-utf8", "deep-array", "deep-table", "huge"])
def test_a_file_that_is_not_settings_is_skipped_and_named(tmp_path, raw, line, fragment):
    conf, user = resolve(tmp_path, raw)
    problem = the_problem(conf, user)
    assert problem.line == line and fragment in str(problem)
    assert conf.theme == "light"


ENV = [
    ("STUDYAPP_THEME", "neon", "theme", "got 'neon'"),
    ("STUDYAPP_FONT_SCALE", "huge", "font_scale", "got 'huge'"),
    ("STUDYAPP_FONT_SCALE", "12.5", "font_scale", "got '12.5'"),
    ("STUDYAPP_TORCH_THREADS", "-3", "torch_threads", "from 0 to 256"),
    ("STUDYAPP_BACKUP_KEEP", "0", "backup_keep", "from 1 to 100"),
    ("STUDYAPP_BACKUP_MINUTES", "1e9", "backup_minutes", "from 1 to 1440"),
    ("STUDYAPP_ALLOW_OWN_MODELS", "perhaps", "allow_own_models", "expected true or false"),
    ("STUDYAPP_PROFILE", "../../x", "profile", "a profile name uses letters"),
    ("STUDYAPP_HOME", "a\x00b", "data_dir", "NUL character"),
]


@pytest.mark.parametrize("var,value,key,fragment", ENV, ids=[f"{c[0]}={c[1]!r}" for c in ENV])
def test_a_bad_environment_variable_is_named_and_ignored(tmp_path, var, value, key, fragment):
    conf, _ = resolve(tmp_path, "", env={var: value})
    [problem] = conf.problems
    assert str(problem).startswith(f"environment variable {var}: setting {key!r}: ")
    assert fragment in str(problem)
    assert conf.source(key) == "default" or (key == "theme" and conf.source(key) == "site")


SITE_RULES = [
    ('locked = "allow_own_models"\nallow_own_models = false', 1, 'reading it as ["allow_own_models"]'),
    ("locked = 5", 1, "'locked' must be a list of names in quotes"),
    ('locked = ["theme", 3]', 1, "'locked' must be a list of names in quotes"),
    ('locked = ["colour"]', 1, "cannot lock unknown setting 'colour'"),
    ('hidden_controls = "ppo.lr"', 1, "'hidden_controls' must be a list"),
    ('hidden_controls = ["ppo.lrr"]', 1, "unknown control 'ppo.lrr'"),
    ("limits = 3", 1, "[limits] must be a table"),
    ('[limits]\n"ppo.steps" = [5, 1]', 2, "limit 'ppo.steps' must be [low, high], got [5, 1]"),
    ('[limits]\n"ppo.steps" = [1]', 2, "must be [low, high]"),
    ('[limits]\n"ppo.steps" = ["a", "b"]', 2, "must be [low, high]"),
    ('[limits]\n"ppo.steps" = [true, 5]', 2, "must be [low, high]"),
    ('[limits]\n"ppo.stepz" = [1, 5]', 2, "unknown control 'ppo.stepz'"),
    ('theme = dark\nlocked = ["theme"]', 1, "this line is ignored, the rest of the file applies"),
]


@pytest.mark.parametrize("text,line,fragment", SITE_RULES, ids=[c[0][:40] for c in SITE_RULES])
def test_config_check_reports_a_bad_site_rule_to_the_administrator(tmp_path, capsys, text, line, fragment):
    site = tmp_path / "site.toml"
    site.write_text(text + "\n", encoding="utf-8")
    problems = cfg.check_site_file(site)
    assert any(p.line == line and fragment in str(p) and str(p).startswith(f"{site}:{line}:") for p in problems), \
        [str(p) for p in problems]
    assert cfg.main(["check", str(site)]) == 1
    assert fragment in capsys.readouterr().out


def test_a_string_locked_fails_closed(tmp_path):
    conf, _ = resolve(tmp_path, "allow_own_models = true\n",
                      site_text='locked = "allow_own_models"\nallow_own_models = false\n')
    assert conf.allow_own_models is False and "allow_own_models" in conf.locked


def test_a_site_syntax_error_loses_only_its_line_and_the_locks_hold(tmp_path):
    conf, _ = resolve(tmp_path, 'models_dir = "/home/me/models"\n',
                      site_text='theme = dark\nallow_own_models = false\nlocked = ["allow_own_models"]\n')
    assert conf.allow_own_models is False and conf.models_dir == ""
    assert any("site.toml:1:9: setting 'theme': TOML syntax error" in w for w in conf.warnings)


def test_a_clean_site_file_passes_config_check(tmp_path, capsys):
    site = tmp_path / "site.toml"
    site.write_text('theme = "dark"\nlocked = ["theme"]\n[limits]\n"ppo.steps" = [1, 60]\n', encoding="utf-8")
    assert cfg.main(["check", str(site)]) == 0
    assert "0 problem(s)" in capsys.readouterr().out
