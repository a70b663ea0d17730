"""``followup classify``: one JSON line per file, errors inline, ``--labels`` scoring."""

from __future__ import annotations

import json
from pathlib import Path

from followup.cli import main

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "mail"
KEYS = {"path", "label", "confidence", "evidence", "company", "role", "contact", "interview_start",
        "interview_end", "interviewers", "decision_date", "ooo_return"}


def test_classify_prints_one_json_object_per_file_with_every_key(capsys):
    files = [FIXTURES / "scheduled" / "sch04-text-confirmation-et.eml", FIXTURES / "ooo" / "ooo01-outlook-until-14th.eml"]
    assert main(["classify", "--tz", "America/New_York", *map(str, files)]) == 0
    lines = capsys.readouterr().out.splitlines()
    records = [json.loads(line) for line in lines]
    assert len(records) == 2
    assert set(records[0]) == KEYS
    assert records[0]["label"] == "interview_scheduled"
    assert records[0]["interview_start"] == "2026-03-05T14:30:00-05:00"
    assert records[0]["contact"] == {"name": "Jasmine Ortiz", "email": "jortiz@harborlinefreight.com"}
    assert records[1]["label"] == "out_of_office"
    assert records[1]["ooo_return"] == "2026-04-14"


def test_an_unreadable_file_gives_a_null_label_with_an_error_and_the_run_goes_on(capsys, tmp_path):
    missing = tmp_path / "missing.eml"
    good = FIXTURES / "rejection" / "rej02-greenhouse-template.eml"
    assert main(["classify", str(missing), str(good)]) == 0
    first, second = (json.loads(line) for line in capsys.readouterr().out.splitlines())
    assert first["label"] is None and "error" in first
    assert second["label"] == "rejection"


def test_garbage_bytes_still_give_a_line(capsys, tmp_path):
    junk = tmp_path / "junk.eml"
    junk.write_bytes(b"\x00\xff\xfe not a mail at all")
    main(["classify", str(junk)])
    record = json.loads(capsys.readouterr().out)
    assert record["label"] == "other"


def test_labels_mode_prints_a_confusion_matrix_and_precision_recall(capsys, tmp_path):
    csv_path = tmp_path / "labels.csv"
    good = FIXTURES / "rejection" / "rej02-greenhouse-template.eml"
    ack = FIXTURES / "ack" / "ack01-greenhouse-if-not-selected.eml"
    csv_path.write_text(f"file,label\n{good},rejection\n{ack},rejection\n", encoding="utf-8")
    assert main(["classify", "--labels", str(csv_path)]) == 0
    out = capsys.readouterr().out
    assert "confusion matrix" in out
    assert "precision" in out and "recall" in out
    assert "accuracy 1/2" in out


def test_labels_paths_are_relative_to_the_csv(capsys):
    assert main(["classify", "--labels", str(FIXTURES / "labels.csv")]) == 0
    out = capsys.readouterr().out
    assert "error" not in out.split("label")[0]
    assert "accuracy" in out


def test_an_unknown_timezone_is_a_usage_error(capsys):
    assert main(["classify", "--tz", "Mars/Olympus", str(FIXTURES / "labels.csv")]) == 2
    assert "unknown timezone" in capsys.readouterr().err
