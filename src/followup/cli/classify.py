"""``followup classify FILE.eml… [--tz ZONE] [--labels labels.csv]``: labels and facts as JSON lines.

With ``--labels`` it prints a confusion matrix and per-label precision/recall instead (the CSV
has at least the columns ``file`` and ``label``; paths are relative to the CSV's directory).
A file that cannot be read gives a line with ``label`` null and an ``error``; the run goes on.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from followup.core.extract import read_message
from followup.core.model import Address, Classification, Facts, Label
from followup.core.parse import parse_message
from followup.errors import FollowupError

LABEL_ORDER = tuple(label.value for label in Label)


class _UsageError(FollowupError):
    exit_code = 2


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``classify`` sub-command."""
    parser = subparsers.add_parser(
        "classify",
        help="label .eml files and print the extracted facts as JSON lines",
        description="Label each message (SPEC §1) and print one JSON object per file.",
    )
    parser.add_argument("files", nargs="*", metavar="FILE.eml", help="messages to read")
    parser.add_argument("--tz", default="UTC", help="timezone for dates written without one (default UTC)")
    parser.add_argument("--labels", metavar="labels.csv",
                        help="score against expected labels (columns file,label): confusion matrix + precision/recall")
    parser.add_argument("--user", action="append", default=[], metavar="ADDRESS",
                        help="the mailbox owner's address (never the contact or an interviewer); "
                             "repeatable; default: the message's To addresses")
    parser.set_defaults(func=run)


def _zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise _UsageError(f"unknown timezone {name!r}") from exc


def _address(value: Address | None) -> dict[str, str] | None:
    if value is None:
        return None
    return {"name": value.name, "email": value.email}


def _iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


def result_record(path: str, classification: Classification, facts: Facts) -> dict[str, object]:
    """Given a file's classification and facts, return the JSON-ready record the command prints."""
    return {
        "path": path,
        "label": classification.label.value,
        "confidence": classification.confidence,
        "evidence": list(classification.evidence),
        "company": facts.company,
        "role": facts.role,
        "contact": _address(facts.contact),
        "interview_start": _iso(facts.interview_start),
        "interview_end": _iso(facts.interview_end),
        "interviewers": [_address(a) for a in facts.interviewers],
        "decision_date": _iso(facts.decision_date),
        "ooo_return": _iso(facts.ooo_return),
    }


def read_file(path: Path, tz: tzinfo, users: frozenset[str]) -> dict[str, object]:
    """Read one file; a file that cannot be read gives ``label`` None and an ``error``."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return {"path": str(path), "label": None, "error": f"{type(exc).__name__}: {exc.strerror or exc}"}
    try:
        message = parse_message(raw)
        # Without --user, the mail was addressed to its owner: its To is the user.
        owners = users or frozenset(a.email for a in message.to)
        classification, facts = read_message(message, tz=tz, user_addresses=owners)
    except Exception as exc:  # noqa: BLE001 - one bad file must not stop the run
        return {"path": str(path), "label": None, "error": f"{type(exc).__name__}: {exc}"}
    return result_record(str(path), classification, facts)


def run(args: argparse.Namespace) -> int:
    tz = _zone(args.tz)
    users = frozenset(a.strip().lower() for a in args.user)
    if args.labels:
        return _score(Path(args.labels), tz, users, sys.stdout)
    if not args.files:
        raise _UsageError("classify: give at least one FILE.eml (or --labels labels.csv)")
    failed = 0
    for name in args.files:
        record = read_file(Path(name), tz, users)
        failed += record["label"] is None
        print(json.dumps(record, ensure_ascii=False), flush=False)
    sys.stdout.flush()
    return 1 if failed and failed == len(args.files) else 0


def _score(csv_path: Path, tz: tzinfo, users: frozenset[str], out) -> int:  # type: ignore[no-untyped-def]
    try:
        with csv_path.open(newline="", encoding="utf-8") as handle:
            rows = [r for r in csv.DictReader(handle) if r.get("file") and r.get("label")]
    except (OSError, csv.Error) as exc:
        raise _UsageError(f"cannot read {csv_path}: {exc}") from exc
    pairs: list[tuple[str, str]] = []
    for row in rows:
        record = read_file(csv_path.parent / row["file"], tz, users)
        pairs.append((row["label"].strip(), str(record["label"]) if record["label"] else "error"))
    out.write(format_report(pairs))
    return 0


def confusion(pairs: Iterable[tuple[str, str]]) -> Counter[tuple[str, str]]:
    """Count (expected, predicted) pairs."""
    return Counter(pairs)


def precision_recall(pairs: list[tuple[str, str]]) -> dict[str, tuple[float | None, float | None, int]]:
    """Given (expected, predicted) pairs, return {label: (precision, recall, support)}."""
    labels = sorted({e for e, _ in pairs} | {p for _, p in pairs}, key=_order)
    out: dict[str, tuple[float | None, float | None, int]] = {}
    for label in labels:
        tp = sum(1 for e, p in pairs if e == label and p == label)
        predicted = sum(1 for _, p in pairs if p == label)
        support = sum(1 for e, _ in pairs if e == label)
        out[label] = (tp / predicted if predicted else None, tp / support if support else None, support)
    return out


def _order(label: str) -> tuple[int, str]:
    return (LABEL_ORDER.index(label) if label in LABEL_ORDER else len(LABEL_ORDER), label)


def format_report(pairs: list[tuple[str, str]]) -> str:
    """Render a confusion matrix (rows expected, columns predicted) and per-label precision/recall."""
    counts = confusion(pairs)
    labels = sorted({e for e, _ in pairs} | {p for _, p in pairs}, key=_order)
    short = {label: label.replace("interview_", "iv_")[:12] for label in labels}
    width = max([len(short[x]) for x in labels] + [8])
    lines = [f"confusion matrix ({len(pairs)} messages; rows expected, columns predicted)"]
    lines.append(" " * (width + 2) + " ".join(f"{short[x]:>{width}}" for x in labels))
    for expected in labels:
        cells = " ".join(f"{counts.get((expected, p), 0):>{width}}" for p in labels)
        lines.append(f"{short[expected]:>{width}}  {cells}")
    lines.append("")
    lines.append(f"{'label':<22} {'precision':>9} {'recall':>7} {'support':>8}")
    for label, (precision, recall, support) in precision_recall(pairs).items():
        p = f"{precision:.3f}" if precision is not None else "-"
        r = f"{recall:.3f}" if recall is not None else "-"
        lines.append(f"{label:<22} {p:>9} {r:>7} {support:>8}")
    correct = sum(1 for e, p in pairs if e == p)
    lines.append(f"accuracy {correct}/{len(pairs)} = {correct / len(pairs):.3f}" if pairs else "accuracy -")
    return "\n".join(lines) + "\n"
