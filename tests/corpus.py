"""Where the shared mail corpus is: $FOLLOWUP_CORPUS, else ../shared/corpus beside the clone,
else /work/shared/corpus. Tests that need it skip when it is nowhere (and say where they looked)."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CANDIDATES = [Path(p) for p in (os.environ.get("FOLLOWUP_CORPUS"),) if p] + [
    ROOT.parent / "shared" / "corpus", Path("/work/shared/corpus")]


def find_corpus() -> Path | None:
    for candidate in CANDIDATES:
        if (candidate / "mime").is_dir() or (candidate / "jobs").is_dir():
            return candidate
    return None


CORPUS = find_corpus()
WHERE = " or ".join(str(c) for c in CANDIDATES)
