"""Shared fixtures. The real-Dovecot fixtures live in tests/dovecot.py (a pytest plugin)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

pytest_plugins = ["dovecot"]
