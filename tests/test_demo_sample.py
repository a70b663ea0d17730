"""The bundled sample mailbox through the real pipeline (simulate), checked against the 22
drafts its README says a correct engine places, and nothing else. This is the demo's
acceptance test: every row of SPEC §3 is walked by one of its seven applications."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from followup.cli.demo import DEMO_END, DEMO_SENDS_AFTER_HOURS, DEMO_START, DEMO_TZ
from followup.simulation import bundled_sample, load_notes, run_simulation

NY = ZoneInfo(DEMO_TZ)

EXPECTED_DRAFTS = sorted([
    ("02-09 10:45", "thank_you", "marcus.bell@lumenfreight.example"),
    ("02-17 09:00", "followup_1", "priya.natarajan@lumenfreight.example"),
    ("02-23 10:15", "thank_you", "jonas.albrecht@nordlicht-mobility.example"),
    ("02-24 09:00", "followup_2", "priya.natarajan@lumenfreight.example"),
    ("02-24 18:20", "positive_reply", "alex.moreno@cobaltridge.example"),
    ("02-26 14:30", "thank_you", "lena.whitcomb@harborpine.example"),
    ("02-26 14:30", "thank_you", "omar.haddad@harborpine.example"),
    ("03-04 11:45", "thank_you", "gwen.osei@fernhillcu.example"),
    ("03-05 11:00", "thank_you", "jonas.albrecht@nordlicht-mobility.example"),
    ("03-05 11:00", "thank_you", "meilin.schroeder@nordlicht-mobility.example"),
    ("03-10 08:15", "correction", "gwen.osei@fernhillcu.example"),
    ("03-10 09:00", "followup_final", "priya.natarajan@lumenfreight.example"),
    ("03-11 14:30", "thank_you", "nadia.petrov@cobaltridge.example"),
    ("03-11 14:30", "thank_you", "sam.whitfield@cobaltridge.example"),
    ("03-16 09:00", "followup_1", "rachel.kim@harborpine.example"),
    ("03-17 19:45", "positive_reply", "alex.moreno@cobaltridge.example"),
    ("03-23 09:00", "followup_1", "katrin.vogel@nordlicht-mobility.example"),
    ("03-23 09:00", "followup_2", "gwen.osei@fernhillcu.example"),
    ("03-26 09:00", "followup_2", "rachel.kim@harborpine.example"),
    ("03-26 10:10", "rejection_reply", "katrin.vogel@nordlicht-mobility.example"),
    ("03-30 10:14", "rejection_reply", "rachel.kim@harborpine.example"),
    ("04-06 09:00", "followup_final", "gwen.osei@fernhillcu.example"),
])


@pytest.fixture(scope="module")
def simulation(tmp_path_factory):
    tz = ZoneInfo(DEMO_TZ)
    sim = run_simulation(bundled_sample(), datetime.fromisoformat(DEMO_START).replace(tzinfo=tz),
                         datetime.fromisoformat(DEMO_END).replace(tzinfo=tz), tz=DEMO_TZ, country="US",
                         user_sends_after=DEMO_SENDS_AFTER_HOURS, workdir=tmp_path_factory.mktemp("demo"),
                         notes=load_notes(bundled_sample().parent / "notes.yaml"))
    yield sim
    sim.store.close()


def test_the_sample_month_places_exactly_the_expected_drafts(simulation):
    placed = sorted((e.at.astimezone(NY).strftime("%m-%d %H:%M"), e.data["kind"], e.data["to"])
                    for e in simulation.events if e.action == "draft")
    missing = [d for d in EXPECTED_DRAFTS if d not in placed]
    extra = [d for d in placed if d not in EXPECTED_DRAFTS]
    assert not missing and not extra, f"missing: {missing}\nextra: {extra}"


def test_the_sample_applications_end_in_the_expected_stages(simulation):
    stages = {row["company"]: row["stage"] for row in simulation.store.applications()}
    by_word = {word: stage for company, stage in stages.items() for word in [company.split()[0].lower()]}
    assert len(stages) == 7, stages
    assert by_word["lumen"] == "no_response"
    assert by_word["marrow"] == "rejected"
    assert by_word["orchard"] == "applied"
    assert by_word["cobalt"] == "advancing"
