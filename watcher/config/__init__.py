"""Configuration: one TOML file, validated once, with a few environment overrides.

The keys are a contract (DESIGN.md): scripts and deployments write them, so keys may be
added but never renamed. Unknown keys are errors, because a misspelt key that is silently
ignored is a setting the user believes in and does not have.
"""

from __future__ import annotations

from watcher.config.loading import DEFAULT_CONFIG_PATH, config_path_from_env, load_config
from watcher.config.model import Config
from watcher.config.sections import (
    ClassifyConfig,
    DaemonConfig,
    DedupConfig,
    DigestConfig,
    HttpConfig,
    PartyConfig,
    QueueConfig,
    ScheduleConfig,
    SmtpConfig,
    SourceConfig,
    StorageConfig,
    TopicConfig,
    WebConfig,
)

__all__ = [
    "DEFAULT_CONFIG_PATH",
    "ClassifyConfig",
    "Config",
    "DaemonConfig",
    "DedupConfig",
    "DigestConfig",
    "HttpConfig",
    "PartyConfig",
    "QueueConfig",
    "ScheduleConfig",
    "SmtpConfig",
    "SourceConfig",
    "StorageConfig",
    "TopicConfig",
    "WebConfig",
    "config_path_from_env",
    "load_config",
]
