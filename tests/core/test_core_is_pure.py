"""The core does no IO and reads no clock: checked on the source of every core module."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parents[2] / "src" / "followup" / "core"
FORBIDDEN_MODULES = {"sqlite3", "socket", "imaplib", "imapclient", "smtplib", "subprocess", "time",
                     "urllib", "http", "requests", "googleapiclient", "followup.store", "followup.mailbox",
                     "followup.sync", "followup.runner", "followup.cli"}
FORBIDDEN_CALLS = {"now", "today", "utcnow", "open", "read_text", "read_bytes", "write_text",
                   "write_bytes"}


def _modules():
    return sorted(CORE.glob("*.py"))


@pytest.mark.parametrize("path", _modules(), ids=lambda p: p.name)
def test_core_modules_import_no_io_library(path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        for name in names:
            assert not any(name == f or name.startswith(f + ".") for f in FORBIDDEN_MODULES), (
                f"{path.name} imports {name}")


@pytest.mark.parametrize("path", _modules(), ids=lambda p: p.name)
def test_core_modules_read_no_clock_and_no_files(path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            assert name not in FORBIDDEN_CALLS, f"{path.name}:{node.lineno} calls {name}()"
