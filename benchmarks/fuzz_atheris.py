#!/usr/bin/env python3
"""Coverage-guided fuzzing (atheris / libFuzzer) of parse -> classify/extract -> decide -> compose.

The same pipeline and invariants as tests/test_fuzz_mime.py (no exception escapes, drafts are
valid RFC 5322 with no control characters or injected headers, no stage over 1 s), driven by
libFuzzer from the hostile samples of ../shared/corpus/mime, the tests' fixtures and the sample
mailbox. Known findings (see the ``test_finding_*`` tests) are tolerated and counted, as in the
hypothesis tests. Not part of ``make test``; ``make soak`` runs it for 120 s when atheris installs.

Run: .venv/bin/python benchmarks/fuzz_atheris.py [-max_total_time=600] [-runs=N] [CORPUS_DIR ...]
New inputs go to a work corpus under /tmp (seeded on first use), never into the shared corpus.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "src"), str(Path(__file__).resolve().parent)]

try:
    import atheris
except ImportError:  # pragma: no cover - optional tool
    print("atheris is not installed (.venv/bin/python -m pip install atheris); the hypothesis tests cover the same")
    sys.exit(0)

with atheris.instrument_imports(include=["followup"]):
    import test_fuzz_mime as fuzz


def seed_corpus() -> Path:
    from eval_classifier import corpus_dir

    work = Path(tempfile.gettempdir()) / "followup-atheris-corpus"
    if not work.is_dir():
        work.mkdir()
        sources = [corpus_dir() / "mime", ROOT / "tests" / "fixtures" / "mail", ROOT / "src" / "followup" / "sample"]
        n = 0
        for source in sources:
            for path in sorted(source.rglob("*")) if source.is_dir() else []:
                if path.is_file() and path.suffix not in (".csv", ".md", ".yaml") and path.stat().st_size < 200_000:
                    shutil.copy(path, work / f"seed-{n:04d}")
                    n += 1
    return work


def one_input(data: bytes) -> None:
    fuzz.pipeline(data)


def main() -> None:
    args = list(sys.argv)
    if not any(not a.startswith("-") for a in args[1:]):
        args.append(str(seed_corpus()))
    if not any(a.startswith("-max_len") for a in args):
        args.append("-max_len=262144")
    atheris.Setup(args, one_input)
    try:
        atheris.Fuzz()
    finally:
        print(f"known findings tolerated: {dict(fuzz.KNOWN) or 'none'}")


if __name__ == "__main__":
    main()
