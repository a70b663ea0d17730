"""Every hand-written fixture mail gets its expected label and facts (tests/fixtures/mail/labels.csv).

The fixtures are read as the user Dana Whitfield <dana.whitfield@gmail.com> in New York would
read them: dates without a zone are New York dates, and Dana is never a contact or interviewer.
"""

from __future__ import annotations

import csv
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from followup.core.extract import read_message
from followup.core.model import Label
from followup.core.parse import parse_message

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "mail"
USER = frozenset({"dana.whitfield@gmail.com"})
TZ = ZoneInfo("America/New_York")


def _rows() -> list[dict[str, str]]:
    with (FIXTURES / "labels.csv").open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


ROWS = _rows()


def _read(row: dict[str, str]):  # type: ignore[no-untyped-def]
    message = parse_message((FIXTURES / row["file"]).read_bytes())
    return read_message(message, tz=TZ, user_addresses=USER)


def test_there_are_at_least_eighty_fixtures_and_every_label_has_some():
    assert len(ROWS) >= 80
    labels = {row["label"] for row in ROWS}
    assert labels == {label.value for label in Label}
    for row in ROWS:
        assert (FIXTURES / row["file"]).is_file(), row["file"]


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r["file"])
def test_each_fixture_gets_its_expected_label_with_evidence(row):
    classification, _ = _read(row)
    assert classification.label.value == row["label"], classification.evidence
    assert classification.evidence, "every label carries its evidence"
    assert 0.0 <= classification.confidence <= 1.0


@pytest.mark.parametrize("row", [r for r in ROWS if r["interview_start"] or r["label"] in (
    "interview_scheduled", "interview_cancelled")], ids=lambda r: r["file"])
def test_each_scheduled_fixture_yields_the_interview_start_to_the_minute_with_its_offset(row):
    _, facts = _read(row)
    if not row["interview_start"]:
        assert facts.interview_start is None
        return
    want = datetime.fromisoformat(row["interview_start"])
    assert facts.interview_start == want
    assert facts.interview_start.utcoffset() == want.utcoffset()
    if row["interview_end"]:
        assert facts.interview_end == datetime.fromisoformat(row["interview_end"])


@pytest.mark.parametrize("row", [r for r in ROWS if r["label"] in (
    "interview_invitation", "positive", "rejection", "acknowledgement", "other")], ids=lambda r: r["file"])
def test_times_proposed_or_mentioned_outside_an_appointment_are_not_an_interview_start(row):
    _, facts = _read(row)
    assert facts.interview_start is None


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r["file"])
def test_each_fixture_yields_its_decision_date_and_no_candidate_deadline(row):
    _, facts = _read(row)
    expected = date.fromisoformat(row["decision_date"]) if row["decision_date"] else None
    assert facts.decision_date == expected


@pytest.mark.parametrize("row", [r for r in ROWS if r["label"] == "out_of_office"], ids=lambda r: r["file"])
def test_each_out_of_office_fixture_yields_its_return_date(row):
    _, facts = _read(row)
    assert facts.ooo_return == date.fromisoformat(row["ooo_return"])


@pytest.mark.parametrize("row", [r for r in ROWS if r["label"] != "other"], ids=lambda r: r["file"])
def test_each_fixture_yields_its_human_contact_or_none(row):
    _, facts = _read(row)
    email = facts.contact.email if facts.contact else ""
    assert email == row["contact"]
    if facts.contact is not None:
        assert not facts.contact.is_no_reply
        assert facts.contact.email not in USER


@pytest.mark.parametrize("row", [r for r in ROWS if r["company"]], ids=lambda r: r["file"])
def test_each_fixture_that_names_its_company_yields_it(row):
    _, facts = _read(row)
    assert facts.company == row["company"]


@pytest.mark.parametrize("row", [r for r in ROWS if r["interviewers"]], ids=lambda r: r["file"])
def test_interviewers_are_the_human_attendees_other_than_the_user_rooms_and_tools(row):
    _, facts = _read(row)
    assert [a.email for a in facts.interviewers] == row["interviewers"].split(";")
