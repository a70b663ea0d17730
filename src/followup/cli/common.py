"""Helpers shared by the sub-commands: the config, the store, the clock (the shell's only one)."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from followup.config import Config, load_config
from followup.store.db import Store


def load(args: argparse.Namespace) -> Config:
    """The config named by --config (or the default path); raises ConfigError."""
    return load_config(getattr(args, "config", None))


def open_store(config: Config) -> Store:
    return Store.open(config.database_path)


def utc_now() -> datetime:
    """The current time. Only the shell reads the clock; the core takes ``now`` as an argument."""
    return datetime.now(UTC)
