"""Shared fixtures. Real-server fixtures live in their own plugin modules (see pytest_plugins)."""

from __future__ import annotations

pytest_plugins: list[str] = []
