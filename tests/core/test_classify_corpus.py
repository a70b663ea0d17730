"""The classifier on the shared corpus: real application mail (corpus/jobs) and 3,125 non-job
messages (corpus/nonjob). Skipped, with the reason, when the corpus is not on this machine."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
from corpus import CORPUS, WHERE

from followup.core.classify import classify
from followup.core.prefilter import could_matter
from followup.core.model import Label
from followup.core.parse import parse_message

JOBS = (CORPUS or Path("/nonexistent")) / "jobs"
NONJOB = (CORPUS or Path("/nonexistent")) / "nonjob"

needs_jobs = pytest.mark.skipif(not (JOBS / "labels.csv").is_file(),
                                reason=f"corpus/jobs not found at {WHERE} (set FOLLOWUP_CORPUS)")
needs_nonjob = pytest.mark.skipif(not NONJOB.is_dir(),
                                  reason=f"corpus/nonjob not found at {WHERE} (set FOLLOWUP_CORPUS)")

SERIOUS = {Label.INTERVIEW_INVITATION, Label.INTERVIEW_SCHEDULED, Label.INTERVIEW_CANCELLED,
           Label.POSITIVE, Label.REJECTION}


def _jobs() -> list[tuple[str, str, bytes]]:
    if not (JOBS / "labels.csv").is_file():
        return []
    with (JOBS / "labels.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return [(r["file"], r["label"], (JOBS / r["file"]).read_bytes()) for r in rows if (JOBS / r["file"]).is_file()]


@pytest.fixture(scope="module")
def jobs_results():
    return [(name, expected, classify(parse_message(raw)).label.value) for name, expected, raw in _jobs()]


def _f1(pairs, label):  # type: ignore[no-untyped-def]
    tp = sum(1 for e, p in pairs if e == p == label)
    predicted = sum(1 for _, p in pairs if p == label)
    actual = sum(1 for e, _ in pairs if e == label)
    precision = tp / predicted if predicted else 0.0
    recall = tp / actual if actual else 0.0
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


@needs_jobs
def test_macro_f1_over_acknowledgement_rejection_and_other_is_at_least_095(jobs_results):
    pairs = [(e, p) for _, e, p in jobs_results]
    macro = sum(_f1(pairs, label) for label in ("acknowledgement", "rejection", "other")) / 3
    assert macro >= 0.95, macro


@needs_jobs
def test_rejection_precision_on_real_mail_is_at_least_098(jobs_results):
    predicted = [(name, e) for name, e, p in jobs_results if p == "rejection"]
    wrong = [name for name, e in predicted if e != "rejection"]
    assert len(predicted) and 1 - len(wrong) / len(predicted) >= 0.98, wrong


@needs_jobs
def test_no_acknowledgement_in_real_mail_is_read_as_a_rejection(jobs_results):
    assert [n for n, e, p in jobs_results if e == "acknowledgement" and p == "rejection"] == []


@needs_jobs
def test_every_real_job_message_passes_the_header_only_prefilter():
    dropped = []
    for name, _, raw in _jobs():
        found = re.search(rb"\r?\n\r?\n", raw)
        head = raw[: found.start()] + b"\n\n" if found else raw
        if not could_matter(parse_message(head)):
            dropped.append(name)
    assert dropped == []


@needs_nonjob
def test_no_non_job_message_is_labelled_interview_positive_or_rejection():
    serious = []
    for path in sorted(NONJOB.rglob("*.eml")):
        label = classify(parse_message(path.read_bytes())).label
        if label in SERIOUS:
            serious.append((path.name, label.value))
    assert serious == []


@needs_nonjob
def test_the_prefilter_drops_most_mailing_list_mail_from_headers_alone():
    lists = dropped = 0
    for path in sorted(NONJOB.rglob("*.eml")):
        raw = path.read_bytes()
        found = re.search(rb"\r?\n\r?\n", raw)
        message = parse_message(raw[: found.start()] + b"\n\n" if found else raw)
        if message.header("list-id") or message.header("list-unsubscribe"):
            lists += 1
            dropped += not could_matter(message)
    assert lists and dropped / lists >= 0.9, (dropped, lists)


@needs_jobs
def test_no_real_message_the_classifier_labels_is_left_unread_by_the_prefilter_and_probe():
    """The sync parses a message only when its headers ask for the body (FULL) or the first
    PROBE_BYTES pass ``mentions_job``; whatever it leaves unread must be "other" anyway."""
    from followup.core.parse import parse_headers
    from followup.core.prefilter import PROBE_BYTES, BodyNeed, body_need, mentions_job

    fixtures = Path(__file__).resolve().parents[1] / "fixtures" / "mail"
    blobs = [(name, raw) for name, _, raw in _jobs()]
    blobs += [(p.name, p.read_bytes()) for p in sorted(fixtures.rglob("*.eml"))]
    unread_but_labelled = []
    for name, raw in blobs:
        need = body_need(parse_headers(raw))
        unread = need is BodyNeed.NONE or (need is BodyNeed.PROBE and not mentions_job(raw[:PROBE_BYTES]))
        if unread:
            label = classify(parse_message(raw)).label
            if label is not Label.OTHER:
                unread_but_labelled.append((name, label.value))
    assert len(blobs) > 400
    assert unread_but_labelled == []
