"""Paths and settings, in one place.

Settings come in layers, each overriding the one before:

    built-in defaults < site config < user config < environment < command-line flags

The site config is for classroom lab machines (an administrator writes it once, in
platformdirs' site_config_dir); the user config is the learner's own file. Both are TOML with the
same keys. Every resolved value remembers which layer it came from, so the app can say why a
setting has the value it has.

No Qt here: the CLI, the lab and the tests read settings without a display.
"""
from __future__ import annotations

import os
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import platformdirs

APP_NAME = "studyapp"
PACKAGE_DIR = Path(__file__).resolve().parent


def _bundle_root() -> Path:
    """Where resources/ and models/ live: next to the package, or inside a frozen build."""
    frozen = getattr(sys, "_MEIPASS", None)
    return Path(frozen) if frozen else PACKAGE_DIR.parent


ROOT = _bundle_root()
RESOURCES_DIR = ROOT / "resources"
MODELS_DIR = ROOT / "models"


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"expected true or false, got {value!r}")


def _theme(value: Any) -> str:
    text = str(value).strip().lower()
    if text not in {"light", "dark", "system"}:
        raise ValueError(f"expected light, dark or system, got {value!r}")
    return text


def _path(value: Any) -> str:
    return str(Path(os.path.expanduser(str(value))))


def _profile_name(value: Any) -> str:
    text = str(value).strip()
    if not text or not all(c.isalnum() or c in "-_." for c in text) or text.startswith("."):
        raise ValueError(f"a profile name uses letters, digits, '-', '_' and '.', got {value!r}")
    return text


def _int_between(lo: int, hi: int) -> Callable[[Any], int]:
    def parse(value: Any) -> int:
        number = int(value)
        if not lo <= number <= hi:
            raise ValueError(f"expected a whole number from {lo} to {hi}, got {number}")
        return number
    return parse


@dataclass(frozen=True)
class Key:
    name: str
    default: Any
    parse: Callable[[Any], Any]
    env: str | None
    doc: str


# The documented keys. README.md lists the same table; tests check that the two agree.
KEYS: dict[str, Key] = {k.name: k for k in [
    Key("data_dir", "", _path, "STUDYAPP_HOME",
        "Folder of the learner's profile (database, backups). Empty: PROFILE in the user data folder."),
    Key("profile", "default", _profile_name, "STUDYAPP_PROFILE",
        "Name of the profile folder inside the user data folder (used when data_dir is empty)."),
    Key("theme", "system", _theme, "STUDYAPP_THEME", "light, dark or system."),
    Key("font_scale", 100, _int_between(50, 300), "STUDYAPP_FONT_SCALE",
        "Lesson text size in percent."),
    Key("models_dir", "", _path, "STUDYAPP_MODELS",
        "Folder with the base/sft/reward/rlhf checkpoints. Empty: the shipped models/."),
    Key("content_dir", "", _path, "STUDYAPP_CONTENT",
        "Extra content pack (lessons, quizzes, decks) added to the built-in resources/."),
    Key("torch_threads", 0, _int_between(0, 256), "STUDYAPP_TORCH_THREADS",
        "CPU threads for the model lab; 0 lets torch choose."),
    Key("backup_keep", 5, _int_between(1, 100), "STUDYAPP_BACKUP_KEEP",
        "How many rotating profile backups to keep."),
    Key("backup_minutes", 30, _int_between(1, 24 * 60), "STUDYAPP_BACKUP_MINUTES",
        "Least time between two backups while the app is in use."),
    Key("allow_own_models", True, _to_bool, "STUDYAPP_ALLOW_OWN_MODELS",
        "Whether learners may load their own model folders."),
]}

LAYERS = ("default", "site", "user", "env", "flag")

# Site-config entries that are not settings but rules for a classroom (see README, "For teachers").
SITE_RULES = {"locked", "hidden_controls", "limits"}


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


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def site_config_file() -> Path:
    return Path(platformdirs.site_config_dir(APP_NAME, appauthor=False)) / "config.toml"


def user_config_file() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)) / "config.toml"


def _read_toml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read it ({exc.strerror})") from exc


def load_config(
    flags: dict[str, Any] | None = None,
    *,
    env: dict[str, str] | None = None,
    site_file: Path | None = None,
    user_file: Path | None = None,
) -> Config:
    """Resolve every key through the five layers.

    A bad value in a file or the environment does not stop the app: that layer is skipped for
    that key and a warning names where the value came from. Unknown keys in a file are warned
    about too (a typo in a lab machine's site config should be visible, not silently ignored).
    """
    env = os.environ if env is None else env
    layers: list[tuple[str, str, dict[str, Any]]] = []
    for layer, path in (("site", site_file or site_config_file()),
                        ("user", user_file or user_config_file())):
        layers.append((layer, str(path), _read_toml(path)))
    layers.append(("env", "environment", {
        k.name: env[k.env] for k in KEYS.values() if k.env and env.get(k.env, "") != ""}))
    layers.append(("flag", "command line", {k: v for k, v in (flags or {}).items() if v is not None}))

    values = {k.name: k.default for k in KEYS.values()}
    sources = {k.name: "default" for k in KEYS.values()}
    warnings: list[str] = []
    site_where, site = layers[0][1], dict(layers[0][2])
    rules = {name: site.pop(name) for name in list(site) if name in SITE_RULES}
    layers[0] = ("site", site_where, site)
    locked, hidden, limits = _site_rules(rules, site_where, warnings)
    for layer, where, data in layers:
        for name, raw in data.items():
            key = KEYS.get(name)
            if key is None:
                warnings.append(f"{where}: unknown setting {name!r} ignored")
                continue
            if name in locked and layer != "site":
                if layer != "user" or str(raw) != str(values[name]):
                    warnings.append(f"{where}: setting {name!r} is locked by the site configuration "
                                    f"({site_where}); keeping {values[name]!r}")
                continue
            try:
                values[name] = key.parse(raw)
            except (TypeError, ValueError) as exc:
                warnings.append(f"{where}: setting {name!r}: {exc}; using {values[name]!r}")
                continue
            sources[name] = layer
    return Config(values, sources, warnings, locked, hidden, limits)


def _site_rules(rules: dict, where: str, warnings: list[str]) -> tuple[frozenset, frozenset, dict]:
    """Read `locked`, `hidden_controls` and `[limits]` from the site config, warning on bad ones."""
    def names(key: str) -> frozenset[str]:
        value = rules.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            warnings.append(f"{where}: {key!r} must be a list of names, e.g. {key} = [\"theme\"]")
            return frozenset()
        return frozenset(value)

    locked = names("locked")
    for name in sorted(locked - set(KEYS)):
        warnings.append(f"{where}: cannot lock unknown setting {name!r}")
    limits: dict[str, list[float]] = {}
    raw_limits = rules.get("limits", {})
    if not isinstance(raw_limits, dict):
        warnings.append(f"{where}: [limits] must be a table such as \"ppo.steps\" = [1, 100]")
        raw_limits = {}
    for control, pair in raw_limits.items():
        if (isinstance(pair, list) and len(pair) == 2 and all(isinstance(v, (int, float)) for v in pair)
                and pair[0] <= pair[1]):
            limits[control] = [float(pair[0]), float(pair[1])]
        else:
            warnings.append(f"{where}: limit {control!r} must be [low, high], got {pair!r}")
    return locked & set(KEYS), names("hidden_controls"), limits
