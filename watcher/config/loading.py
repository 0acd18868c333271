"""Reading the configuration file: TOML, a few environment overrides, paths resolved
against the file's folder, and errors that name the key (and the source) at fault."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from watcher.config.model import Config
from watcher.errors import ConfigError

__all__ = ["DEFAULT_CONFIG_PATH", "config_path_from_env", "load_config"]

DEFAULT_CONFIG_PATH = Path("config/watcher.toml")


def config_path_from_env(explicit: Path | None) -> Path:
    """The --config option, else WATCHER_CONFIG, else the default path."""
    if explicit is not None:
        return explicit
    env = os.environ.get("WATCHER_CONFIG")
    return Path(env) if env else DEFAULT_CONFIG_PATH


def load_config(path: Path, environ: Mapping[str, str] | None = None) -> Config:
    """Read, override from the environment, validate, and resolve relative paths.

    Every problem becomes one ConfigError naming the file and the key, so the CLI can
    print it and exit 2 without a traceback.
    """
    env: Mapping[str, str] = os.environ if environ is None else environ
    raw = _read_toml(path)
    raw = _apply_env(raw, env)
    try:
        config = Config.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(str(path), [_describe(err, raw) for err in exc.errors()]) from None
    return _resolve_paths(config, path.parent, env)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(str(path), ["file not found"]) from None
    except OSError as exc:
        raise ConfigError(str(path), [f"cannot read: {exc.strerror}"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), [f"not valid TOML: {exc}"]) from None


def _apply_env(raw: dict[str, Any], env: Mapping[str, str]) -> dict[str, Any]:
    overrides = {
        ("storage", "database_url"): env.get("WATCHER_DATABASE_URL"),
        ("storage", "corpus_dir"): env.get("WATCHER_CORPUS_DIR"),
        ("smtp", "host"): env.get("WATCHER_SMTP_HOST"),
        ("smtp", "port"): env.get("WATCHER_SMTP_PORT"),
        ("smtp", "username"): env.get("WATCHER_SMTP_USERNAME"),
        ("daemon", "listen"): env.get("WATCHER_LISTEN"),
    }
    merged = {key: dict(value) if isinstance(value, dict) else value for key, value in raw.items()}
    for (table, key), value in overrides.items():
        if value:
            section = merged.setdefault(table, {})
            if isinstance(section, dict):
                section[key] = value
    return merged


def _describe(error: Any, raw: Mapping[str, Any]) -> str:
    location = _location(tuple(error["loc"]), raw)
    if error["type"] == "extra_forbidden":
        return f"{location}: unknown key"
    return f"{location}: {error['msg']} (got {error.get('input')!r})"


def _location(loc: tuple[Any, ...], raw: Mapping[str, Any]) -> str:
    """Where in the file: a table of a list (``[[sources]]``) is named by its ``name``
    and its place, as the user finds it ("[[sources]] '38 North' (the 2nd).bogus_key"),
    not by pydantic's index ("sources.1.bogus_key")."""
    if len(loc) >= 2 and isinstance(loc[1], int) and isinstance(raw.get(str(loc[0])), list):
        tables = raw[str(loc[0])]
        table = tables[loc[1]] if loc[1] < len(tables) else None
        name = table.get("name") if isinstance(table, dict) else None
        place = f"(the {_ordinal(loc[1] + 1)})"
        named = f" {name!r}" if isinstance(name, str) else ""
        head = f"[[{loc[0]}]]{named} {place}"
        rest = ".".join(str(part) for part in loc[2:])
        return f"{head}.{rest}" if rest else head
    return ".".join(str(part) for part in loc) or "(top level)"


def _ordinal(number: int) -> str:
    suffixes = {1: "st", 2: "nd", 3: "rd"}
    suffix = "th" if 10 <= number % 100 <= 20 else suffixes.get(number % 10, "th")
    return f"{number}{suffix}"


def _resolve_paths(config: Config, base: Path, env: Mapping[str, str]) -> Config:
    # Values from the environment are taken relative to the working directory, like any
    # shell path; values from the file are relative to the file's folder.
    storage = config.storage
    corpus = storage.corpus_dir
    if not corpus.is_absolute() and not env.get("WATCHER_CORPUS_DIR"):
        corpus = base / corpus
    url = storage.database_url
    if not env.get("WATCHER_DATABASE_URL"):
        url = _resolve_sqlite_url(url, base)
    new_storage = storage.model_copy(update={"corpus_dir": corpus, "database_url": url})
    update: dict[str, Any] = {"storage": new_storage}
    ca_file = config.smtp.ca_file
    if ca_file is not None and not ca_file.is_absolute():
        update["smtp"] = config.smtp.model_copy(update={"ca_file": base / ca_file})
    return config.model_copy(update=update)


def _resolve_sqlite_url(url: str, base: Path) -> str:
    prefix = "sqlite:///"
    if not url.startswith(prefix) or url == "sqlite:///:memory:":
        return url
    rest = url[len(prefix) :]
    if rest.startswith("/"):
        return url
    return prefix + str((base / rest).resolve())
