"""Paths and settings, in one place.

Settings come in layers, each overriding the one before:

    built-in defaults < site config < user config < environment < command-line flags

The site config is for classroom lab machines (an administrator writes it once); the user config
is the learner's own file. Both are TOML with the same keys, and every value goes through one typed
validator (pydantic, one `TypeAdapter` per key). Every resolved value remembers which layer it came
from, so the app can say why a setting has the value it has.

Nothing in a file stops the app. A TOML syntax error skips the user file (the site file loses only
the broken line, so that one typo does not open every lock); a value of the wrong type is refused
and the lower layer kept; each problem is a `Problem` naming file, line, column and key.

What is trusted for finding the site file: the platform's fixed system path (`TRUSTED_SITE_FILE`,
/etc/xdg/studyapp/config.toml on Linux) is always read, whatever the environment says; files that
`XDG_CONFIG_DIRS` points at are read below it and can never set a key that the fixed file locks.
A learner controls their environment, so it may add restrictions but never remove one.

No Qt here: the CLI, the lab and the tests read settings without a display.
"""
from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import platformdirs
# pydantic: typed validation with exact messages for wrong types (a list where a path belongs, a
# bool where a number belongs) that a hand-written parser per key kept getting subtly wrong.
from pydantic import AfterValidator, BeforeValidator, Field, TypeAdapter, ValidationError

# Reading one file and its Problem records: config_file.py (Problem stays importable from here).
from studyapp.config_file import Problem, locate, read_toml

APP_NAME = "studyapp"
PACKAGE_DIR = Path(__file__).resolve().parent


def _bundle_root() -> Path:
    """Where resources/ and models/ live: next to the package, or inside a frozen build."""
    frozen = getattr(sys, "_MEIPASS", None)
    return Path(frozen) if frozen else PACKAGE_DIR.parent


ROOT = _bundle_root()
RESOURCES_DIR = ROOT / "resources"
MODELS_DIR = ROOT / "models"

# ---------------------------------------------------------------------------------------------
# The typed keys


def _no_bool(value: Any) -> Any:
    # pydantic's lax int takes True as 1; `font_scale = true` is a mistake, not 1 percent.
    if isinstance(value, bool):
        raise ValueError("expected a whole number, got true/false")
    return value


def _folder(value: str) -> str:
    if "\x00" in value:
        raise ValueError("a folder path cannot contain a NUL character")
    return str(Path(os.path.expanduser(value))) if value.strip() else ""


def _profile_name(value: str) -> str:
    text = value.strip()
    if not text or not all(c.isalnum() or c in "-_." for c in text) or text.startswith(".") or len(text) > 64:
        raise ValueError(f"a profile name uses letters, digits, '-', '_' and '.', got {value!r}")
    return text


def _lower(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


def _fspath(value: Any) -> Any:
    return os.fspath(value) if isinstance(value, os.PathLike) else value   # flags arrive as Paths


Folder = Annotated[str, BeforeValidator(_fspath), AfterValidator(_folder)]
Whole = Annotated[int, BeforeValidator(_no_bool)]


@dataclass(frozen=True)
class Key:
    name: str
    default: Any
    type: Any
    env: str | None
    doc: str
    expects: str   # said to the user when a value does not fit

    def parse(self, value: Any) -> Any:
        return _adapter(self.type).validate_python(value)


_ADAPTERS: dict[Any, TypeAdapter] = {}


def _adapter(t: Any) -> TypeAdapter:
    if t not in _ADAPTERS:
        _ADAPTERS[t] = TypeAdapter(t)
    return _ADAPTERS[t]


# The documented keys. README.md lists the same table; tests check that the two agree.
KEYS: dict[str, Key] = {k.name: k for k in [
    Key("data_dir", "", Folder, "STUDYAPP_HOME",
        "Folder of the learner's profile (database, backups). Empty: PROFILE in the user data folder.",
        "a folder path in quotes"),
    Key("profile", "default", Annotated[str, AfterValidator(_profile_name)], "STUDYAPP_PROFILE",
        "Name of the profile folder inside the user data folder (used when data_dir is empty).",
        "a name in quotes"),
    Key("theme", "system", Annotated[Literal["light", "dark", "system"], BeforeValidator(_lower)],
        "STUDYAPP_THEME", "light, dark or system.", '"light", "dark" or "system"'),
    Key("font_scale", 100, Annotated[Whole, Field(ge=50, le=300)], "STUDYAPP_FONT_SCALE",
        "Lesson text size in percent.", "a whole number from 50 to 300"),
    Key("models_dir", "", Folder, "STUDYAPP_MODELS",
        "Folder with the base/sft/reward/rlhf checkpoints. Empty: the shipped models/.",
        "a folder path in quotes"),
    Key("content_dir", "", Folder, "STUDYAPP_CONTENT",
        "Extra content pack (lessons, quizzes, decks) added to the built-in resources/.",
        "a folder path in quotes"),
    Key("torch_threads", 0, Annotated[Whole, Field(ge=0, le=256)], "STUDYAPP_TORCH_THREADS",
        "CPU threads for every lab stage and generation; 0 means the default, 1.", "a whole number from 0 to 256"),
    Key("backup_keep", 5, Annotated[Whole, Field(ge=1, le=100)], "STUDYAPP_BACKUP_KEEP",
        "How many rotating profile backups to keep.", "a whole number from 1 to 100"),
    Key("backup_minutes", 30, Annotated[Whole, Field(ge=1, le=24 * 60)], "STUDYAPP_BACKUP_MINUTES",
        "Least time between two backups while the app is in use.", "a whole number from 1 to 1440"),
    Key("allow_own_models", True, bool, "STUDYAPP_ALLOW_OWN_MODELS",
        "Whether learners may load their own model folders.", "true or false"),
]}

LAYERS = ("default", "site", "user", "env", "flag")

# Site-config entries that are not settings but rules for a classroom (see README, "For teachers").
SITE_RULES = {"locked", "hidden_controls", "limits"}
# The controls the tabs know how to hide or limit (README lists the same).
CONTROLS = {"compare.own_models", "compare.max_new_tokens", "ppo.beta", "ppo.cliprange", "ppo.lr",
            "ppo.steps", "ppo.batch_size"}

# A lock on one setting is worth nothing if another setting undoes it: with own models locked off,
# `models_dir` (STUDYAPP_MODELS, --models-dir) would swap the course models for the learner's own;
# with the profile locked, `data_dir` would put the profile elsewhere. (key, locked value or None
# for any) -> the settings it also locks.
LOCK_COVERS: dict[tuple[str, Any], tuple[str, ...]] = {
    ("allow_own_models", False): ("models_dir",),
    ("profile", None): ("data_dir",),
}


class ConfigError(Exception):
    """A config file or value that cannot be used; the message names the file and the key."""


@dataclass
class Config:
    values: dict[str, Any]
    sources: dict[str, str]
    warnings: list[str] = field(default_factory=list)
    locked: frozenset[str] = frozenset()          # settings the site config fixes for everyone
    hidden_controls: frozenset[str] = frozenset()  # e.g. "compare.own_models", "ppo.beta"
    limits: dict[str, list[float]] = field(default_factory=dict)  # e.g. "ppo.steps": [1, 200]
    problems: list[Problem] = field(default_factory=list)   # the warnings, with file/line/key
    site_files: list[str] = field(default_factory=list)     # the site files that were read

    def hidden(self, control: str) -> bool:
        return control in self.hidden_controls

    def limit(self, control: str, lo: float, hi: float) -> tuple[float, float]:
        """The range a control may take: its own range, narrowed by the site config."""
        site = self.limits.get(control)
        if not site:
            return lo, hi
        return max(lo, site[0]), min(hi, site[1])

    def __getattr__(self, name: str) -> Any:
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(name) from None

    def source(self, name: str) -> str:
        return self.sources[name]

    @property
    def data_path(self) -> Path:
        if self.values["data_dir"]:
            return Path(self.values["data_dir"])
        return default_data_dir() / self.values["profile"]

    @property
    def lesson_cache_path(self) -> Path:
        """The parsed and rendered lessons kept between starts (content.lessons.save_cache), in the
        profile's folder: the first frame reads them from here instead of running Markdown."""
        return self.data_path / "cache" / "lessons.json"

    def content_folders(self, kind: str) -> list[Path]:
        """Where content of a kind (lessons, quizzes, decks, rubrics) comes from: the built-in
        resources/KIND, then the content pack's KIND, whose files may override built-in ones."""
        folders = [RESOURCES_DIR / kind]
        if self.values["content_dir"]:
            folders.append(Path(self.values["content_dir"]) / kind)
        return folders

    @property
    def models_path(self) -> Path:
        return Path(self.values["models_dir"]) if self.values["models_dir"] else MODELS_DIR


# ---------------------------------------------------------------------------------------------
# Where the files are


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def _trusted_site_file() -> Path:
    """The site file at the platform's fixed system path, which no environment variable moves."""
    if sys.platform.startswith("linux") or sys.platform.startswith(("freebsd", "openbsd", "netbsd")):
        return Path("/etc/xdg") / APP_NAME / "config.toml"
    # macOS (/Library/Application Support) and Windows (ProgramData, from the known-folder API)
    # do not read the environment for this folder.
    return Path(platformdirs.site_config_dir(APP_NAME, appauthor=False)) / "config.toml"


TRUSTED_SITE_FILE = _trusted_site_file()


def site_config_files() -> list[Path]:
    """Every site file, lowest precedence first: those under XDG_CONFIG_DIRS, then the trusted one."""
    found = [Path(d) / "config.toml" for d in
             platformdirs.site_config_dir(APP_NAME, appauthor=False, multipath=True).split(os.pathsep) if d]
    extra = [p for p in reversed(found) if p != TRUSTED_SITE_FILE]   # XDG lists the most important first
    return extra + [TRUSTED_SITE_FILE]


def site_config_file() -> Path:
    return TRUSTED_SITE_FILE


def user_config_file() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)) / "config.toml"


# ---------------------------------------------------------------------------------------------
# Resolving the layers


@dataclass
class _SiteRules:
    locked: dict[str, str] = field(default_factory=dict)   # key -> the site file that locks it
    hidden: set[str] = field(default_factory=set)
    limits: dict[str, list[float]] = field(default_factory=dict)


def _describe(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _type_message(key: Key, raw: Any, exc: ValidationError, keeping: Any) -> str:
    detail = exc.errors()[0].get("msg", "invalid value")
    detail = detail.removeprefix("Value error, ")
    return f"expected {key.expects}, got {_describe(raw)} ({detail}); keeping {keeping!r}"


def _names(value: Any, rule: str, where: str, text: str, problems: list[Problem]) -> set[str]:
    line, col = locate(text, rule)
    if isinstance(value, str):
        # Fail closed: `locked = "allow_own_models"` clearly means to lock that one setting.
        quoted = json.dumps(value)
        problems.append(Problem(where, f"{rule!r} must be a list, e.g. {rule} = [{quoted}]; "
                                       f"reading it as [{quoted}]", None, line, col))
        return {value}
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        kept = {v for v in value if isinstance(v, str)} if isinstance(value, list) else set()
        problems.append(Problem(where, f"{rule!r} must be a list of names in quotes, e.g. "
                                       f"{rule} = [\"theme\"]; got {_describe(value)}, so "
                                       + (f"only {sorted(kept)} count" if kept else "it is ignored"),
                                None, line, col))
        return kept
    return set(value)


def _site_rules(data: dict, where: str, text: str, rules: _SiteRules, problems: list[Problem]) -> None:
    """Read `locked`, `hidden_controls` and `[limits]` of one site file into `rules`."""
    if "locked" in data:
        for name in sorted(_names(data["locked"], "locked", where, text, problems)):
            if name in KEYS:
                rules.locked[name] = where   # files come lowest first: the trusted one owns the lock
            else:
                problems.append(Problem(where, f"cannot lock unknown setting {name!r} "
                                               f"(settings: {', '.join(KEYS)})", None, *locate(text, "locked")))
    if "hidden_controls" in data:
        for name in sorted(_names(data["hidden_controls"], "hidden_controls", where, text, problems)):
            if name not in CONTROLS:
                problems.append(Problem(where, f"unknown control {name!r} in 'hidden_controls' "
                                               f"(controls: {', '.join(sorted(CONTROLS))})",
                                        None, *locate(text, "hidden_controls")))
            rules.hidden.add(name)
    raw_limits = data.get("limits", {})
    if not isinstance(raw_limits, dict):
        problems.append(Problem(where, "[limits] must be a table such as \"ppo.steps\" = [1, 100]",
                                None, *locate(text, "limits")))
        raw_limits = {}
    for control, pair in raw_limits.items():
        at = locate(text, control, "limits")
        if not (isinstance(pair, list) and len(pair) == 2
                and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in pair)
                and pair[0] <= pair[1]):
            problems.append(Problem(where, f"limit {control!r} must be [low, high], got {_describe(pair)}",
                                    None, *at))
            continue
        if control not in CONTROLS:
            problems.append(Problem(where, f"unknown control {control!r} in [limits]", None, *at))
        lo, hi = float(pair[0]), float(pair[1])
        if control in rules.limits:   # two site files: the narrower range of both
            lo, hi = max(lo, rules.limits[control][0]), min(hi, rules.limits[control][1])
        rules.limits[control] = [lo, hi]


def load_config(
    flags: dict[str, Any] | None = None,
    *,
    env: dict[str, str] | None = None,
    site_file: Path | None = None,
    user_file: Path | None = None,
    site_files: list[Path] | None = None,
) -> Config:
    """Resolve every key through the five layers.

    A bad value in a file or the environment does not stop the app: that layer is skipped for
    that key and a Problem names where the value came from. Unknown keys in a file are reported
    too (a typo in a lab machine's site config should be visible, not silently ignored).
    `site_file` replaces the trusted site file (tests, `config check`); `site_files` the whole list.
    """
    env = os.environ if env is None else env
    if site_files is None:
        site_files = [site_file] if site_file is not None else site_config_files()
    problems: list[Problem] = []
    rules = _SiteRules()
    layers: list[tuple[str, str, dict[str, Any], str]] = []   # (layer, where, data, text)
    for path in site_files:
        data, text, found = read_toml(Path(path), salvage=True)
        problems += found
        _site_rules(data, str(path), text, rules, problems)
        layers.append(("site", str(path), {k: v for k, v in data.items() if k not in SITE_RULES}, text))
    _cover(rules, layers)
    rank = {where: i for i, (_l, where, _d, _t) in enumerate(layers)}
    path = user_file or user_config_file()
    data, text, found = read_toml(Path(path))
    problems += found
    for rule in SITE_RULES & set(data):
        problems.append(Problem(str(path), f"{rule!r} is a classroom rule; only the site configuration "
                                           "may set it, so it is ignored", None, *locate(text, rule)))
        data.pop(rule)
    layers.append(("user", str(path), data, text))
    for k in KEYS.values():
        if k.env and env.get(k.env, "") != "":
            layers.append(("env", f"environment variable {k.env}", {k.name: env[k.env]}, ""))
    layers.append(("flag", "command line", {k: v for k, v in (flags or {}).items() if v is not None}, ""))

    values = {k.name: k.default for k in KEYS.values()}
    sources = {k.name: "default" for k in KEYS.values()}
    for layer, where, data, text in layers:
        for name, raw in data.items():
            key = KEYS.get(name)
            at = locate(text, name) if text else (None, None)
            if key is None:
                hint = next((k for k in KEYS if _close(k, name)), None)
                problems.append(Problem(where, "unknown setting, ignored" + (f" (did you mean {hint!r}?)"
                                                                             if hint else ""), name, *at))
                continue
            owner = rules.locked.get(name)
            # Only the locking site file, or one above it, may set a locked setting.
            if owner and not (layer == "site" and rank[where] >= rank[owner]):
                # A user file that repeats the site's value is harmless; anything else is said.
                if layer == "site" or layer != "user" or str(raw) != str(values[name]):
                    problems.append(Problem(where, f"is locked by the site configuration "
                                                   f"({owner}); keeping {values[name]!r}", name, *at))
                continue
            try:
                values[name] = key.parse(raw)
            except ValidationError as exc:
                problems.append(Problem(where, _type_message(key, raw, exc, values[name]), name, *at))
                continue
            sources[name] = layer
    return Config(values, sources, [str(p) for p in problems], frozenset(rules.locked),
                  frozenset(rules.hidden), rules.limits, problems, [str(p) for p in site_files])


def _cover(rules: _SiteRules, site_layers: list) -> None:
    """Extend the locks to the settings a lock logically covers (LOCK_COVERS), judged by the value
    the locking file itself gives (the default when it gives none), never by a lower file."""
    for (other, when), covered in LOCK_COVERS.items():
        owner = rules.locked.get(other)
        if owner is None:
            continue
        value = KEYS[other].default
        for _layer, where, data, _text in site_layers:
            if where == owner and other in data:
                try:
                    value = KEYS[other].parse(data[other])
                except ValidationError:
                    pass
        if when is None or value == when:
            for name in covered:
                rules.locked.setdefault(name, owner)


def _close(a: str, b: str) -> bool:
    """A likely typo: same letters give or take a swap or one letter."""
    import difflib
    return difflib.SequenceMatcher(None, a, b).ratio() >= 0.8


# ---------------------------------------------------------------------------------------------
# `studyapp config check [FILE]`


def check_site_file(path: Path) -> list[Problem]:
    """Every problem of one site file, as the app would meet it, for an administrator."""
    conf = load_config(env={}, site_files=[path], user_file=Path(os.devnull))
    return sorted((p for p in conf.problems if p.where == str(path)), key=lambda p: (p.line or 0, p.column or 0))


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="studyapp config", description="check the site configuration")
    sub = parser.add_subparsers(dest="action", required=True)
    check = sub.add_parser("check", help="validate a site config file (default: every site file read here)")
    check.add_argument("file", nargs="?", type=Path, help=f"the file (default: {TRUSTED_SITE_FILE})")
    show = sub.add_parser("show", help="print each setting, its value and the layer it came from")
    show.set_defaults(file=None)
    args = parser.parse_args(argv)
    if args.action == "show":
        conf = load_config()
        for name, value in conf.values.items():
            lock = "  (locked)" if name in conf.locked else ""
            print(f"{name} = {value!r}  [{conf.source(name)}]{lock}")
        for problem in conf.problems:
            print(f"warning: {problem}", file=sys.stderr)
        return 0
    files = [args.file] if args.file else [p for p in site_config_files() if p.exists()]
    if args.file and not args.file.exists():
        print(f"{args.file}: no such file", file=sys.stderr)
        return 2
    if not files:
        print(f"no site configuration here (looked for {', '.join(map(str, site_config_files()))})")
        return 0
    total = 0
    for path in files:
        problems = check_site_file(path)
        total += len(problems)
        for problem in problems:
            print(problem)
        print(f"{path}: {len(problems)} problem(s)")
    return 1 if total else 0
