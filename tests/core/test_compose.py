"""Composing drafts: headers, threading, sanitising, templates and personalisation."""

from __future__ import annotations

import email
import email.policy
import email.utils
from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

import jinja2
import pytest

from followup.core.compose import (
    PLACEHOLDER_MARKER,
    TEMPLATE_NAMES,
    compose_draft,
    default_template_environment,
    sanitise_header,
)
from followup.core.model import Address, DraftKind, Label
from followup.core.policy import DraftIntent
from policy_factory import ALICE, BOB, USER, Story, at, only, scheduled_interview

NOW = at("2025-03-05 15:00")
ENV = default_template_environment()


def parse(raw: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)


def text(msg: email.message.EmailMessage) -> str:
    """The body as the user reads it (the wire form has CRLF line ends)."""
    return msg.get_content().replace("\r\n", "\n")


def compose(intent: DraftIntent, story: Story, **kw) -> email.message.EmailMessage:
    kw.setdefault("env", ENV)
    return parse(compose_draft(intent, story.history(), user=USER, now=NOW, **kw))


def interviewed(**kw) -> Story:
    story = Story()
    scheduled_interview(story, invited="2025-03-03 10:00", start="2025-03-05 14:00", **kw)
    return story


def intent_for(story: Story, kind: DraftKind, now: str = "2025-03-12 09:00") -> DraftIntent:
    return only(story.decide(now), kind)


# --- headers and threading ---------------------------------------------------------------


def test_a_reply_threads_under_the_message_it_answers():
    story = interviewed()
    followup = intent_for(story, DraftKind.FOLLOWUP_1)
    answered = followup.reply_to
    msg = compose(followup, story)
    assert msg["Subject"] == "Re: Interview confirmed"
    assert msg["In-Reply-To"] == answered.message_id
    assert msg["References"] == answered.message_id
    assert msg["To"] == "Rita Recruiter <rita@acme.example>"
    assert msg["From"] == "Sam Candidate <sam@example.com>"


def test_references_carry_the_answered_chain_then_its_own_id():
    story = Story()
    confirmation = story.inbound(Label.INTERVIEW_SCHEDULED, "2025-03-03 12:00",
                                 start="2025-03-05 14:00", subject="RE: Interview",
                                 references=("<a@x.example>", "<b@x.example>"))
    msg = compose(intent_for(story, DraftKind.THANK_YOU, "2025-03-05 15:00"), story)
    assert msg["References"] == f"<a@x.example> <b@x.example> {confirmation.message_id}"
    assert msg["Subject"] == "RE: Interview"  # never "Re: RE: …"


def test_references_are_limited_to_the_latest_twenty():
    story = Story()
    chain = tuple(f"<r{i}@x.example>" for i in range(40))
    story.inbound(Label.INTERVIEW_SCHEDULED, "2025-03-03 12:00", start="2025-03-05 14:00",
                  references=chain)
    refs = compose(intent_for(story, DraftKind.THANK_YOU, "2025-03-05 15:00"), story)["References"]
    assert len(refs.split()) == 20 and refs.split()[-2] == "<r39@x.example>"


def test_the_message_id_and_the_key_header_carry_the_deterministic_key():
    story = interviewed()
    followup = intent_for(story, DraftKind.FOLLOWUP_1)
    msg = compose(followup, story)
    assert msg["X-Followup-Key"] == followup.key
    assert msg["Message-ID"] == f"<followup.{followup.key}@example.com>"


def test_the_date_header_is_now():
    msg = compose(intent_for(interviewed(), DraftKind.FOLLOWUP_1), interviewed())
    assert email.utils.parsedate_to_datetime(msg["Date"]) == NOW


def test_a_fresh_follow_up_uses_the_follow_up_subject():
    story = interviewed()
    fresh = replace(intent_for(story, DraftKind.FOLLOWUP_1), reply_to=None)
    msg = compose(fresh, story)
    assert msg["Subject"] == "Follow-Up on Data Engineer Interview"
    assert msg["In-Reply-To"] is None and msg["References"] is None


def test_several_thank_yous_start_fresh_threads_with_a_thank_you_subject():
    story = interviewed(interviewers=(ALICE, BOB))
    for intent in story.decide("2025-03-05 15:00").drafts:
        if intent.kind is DraftKind.THANK_YOU:
            assert compose(intent, story)["Subject"] == "Thank You: Data Engineer Interview"


def test_a_draft_with_no_known_recipient_has_no_to_header():
    story = interviewed()
    intent = replace(intent_for(story, DraftKind.FOLLOWUP_1), to=None)
    msg = compose(intent, story)
    assert msg["To"] is None
    assert "Hello," in text(msg)


def test_the_draft_is_crlf_utf8_plain_text_without_defects():
    story = interviewed()
    raw = compose_draft(intent_for(story, DraftKind.FOLLOWUP_1), story.history(), user=USER,
                        now=NOW, env=ENV)
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")
    msg = parse(raw)
    assert msg.get_content_type() == "text/plain"
    assert msg.get_content_charset() == "utf-8"
    assert not msg.defects
    for header in ("From", "To", "Subject", "Date", "Message-ID", "X-Followup-Key"):
        assert len(msg.get_all(header)) == 1


def test_composing_twice_gives_the_same_bytes():
    story = interviewed()
    intent = intent_for(story, DraftKind.FOLLOWUP_1)
    one = compose_draft(intent, story.history(), user=USER, now=NOW, env=ENV)
    assert one == compose_draft(intent, story.history(), user=USER, now=NOW, env=ENV)


def test_a_naive_now_is_refused():
    story = interviewed()
    with pytest.raises(ValueError):
        compose_draft(intent_for(story, DraftKind.FOLLOWUP_1), story.history(), user=USER,
                      now=datetime(2025, 3, 5, 12), env=ENV)


# --- sanitising --------------------------------------------------------------------------


def test_cr_lf_in_an_inbound_subject_cannot_add_a_header():
    story = Story()
    story.inbound(Label.INTERVIEW_SCHEDULED, "2025-03-03 12:00", start="2025-03-05 14:00",
                  subject="Interview\r\nBcc: attacker@evil.example\r\n\r\nbody")
    msg = compose(intent_for(story, DraftKind.THANK_YOU, "2025-03-05 15:00"), story)
    assert msg["Bcc"] is None
    assert msg["Subject"] == "Re: Interview Bcc: attacker@evil.example body"


def test_cr_lf_in_an_inbound_display_name_cannot_add_a_header():
    evil = Address("Rita\r\nBcc: attacker@evil.example", "rita@acme.example")
    story = Story()
    story.inbound(Label.INTERVIEW_SCHEDULED, "2025-03-03 12:00", start="2025-03-05 14:00",
                  contact=evil, sender=evil)
    raw = compose_draft(intent_for(story, DraftKind.THANK_YOU, "2025-03-05 15:00"),
                        story.history(), user=USER, now=NOW, env=ENV)
    msg = parse(raw)
    assert msg["Bcc"] is None
    assert [a.addr_spec for a in msg["To"].addresses] == ["rita@acme.example"]


def test_cr_lf_in_the_extracted_role_cannot_break_a_fresh_subject():
    story = interviewed()
    story.role = "Engineer\r\nX-Evil: yes"
    msg = compose(replace(intent_for(story, DraftKind.FOLLOWUP_1), reply_to=None), story)
    assert msg["X-Evil"] is None
    assert msg["Subject"] == "Follow-Up on Engineer X-Evil: yes Interview"


def test_a_malformed_message_id_is_dropped_not_repaired():
    story = interviewed()
    intent = intent_for(story, DraftKind.FOLLOWUP_1)
    broken = replace(intent.reply_to, message_id="<a\r\nX-Evil: 1@x>", references=("junk",))
    msg = compose(replace(intent, reply_to=broken), story)
    assert msg["In-Reply-To"] is None and msg["References"] is None and msg["X-Evil"] is None


def test_sanitise_header_removes_controls_and_bidi_overrides():
    assert sanitise_header("a\x00b\tc\u2028d\u202ee  f") == "a b c de f"
    assert sanitise_header(None) == ""


def test_non_ascii_names_and_text_survive_the_round_trip():
    juergen = Address("Jürgen Müller", "juergen@acme.example")
    story = Story(company="Café Ölberg GmbH", role="Ingenieur für Daten")
    scheduled_interview(story, invited="2025-03-03 10:00", start="2025-03-05 14:00",
                        interviewers=(juergen,))
    msg = compose(intent_for(story, DraftKind.THANK_YOU, "2025-03-05 15:00"), story)
    assert msg["To"].addresses[0].display_name == "Jürgen Müller"
    body = text(msg)
    assert "Hi Jürgen," in body and "Café Ölberg GmbH" in body and "Ingenieur für Daten" in body


# --- templates and personalisation -------------------------------------------------------


def test_the_marker_holds_the_spot_when_the_user_noted_nothing():
    story = interviewed()
    body = text(compose(intent_for(story, DraftKind.THANK_YOU, "2025-03-05 15:00"), story))
    assert PLACEHOLDER_MARKER in body


def test_the_users_note_replaces_the_marker():
    story = interviewed()
    story.notes.append("the plan to move their batch jobs to streaming")
    body = text(compose(intent_for(story, DraftKind.FOLLOWUP_1), story))
    assert PLACEHOLDER_MARKER not in body
    assert "our conversation about the plan to move their batch jobs to streaming." in body


def test_a_note_written_as_a_sentence_is_used_as_it_is():
    story = interviewed()
    story.notes.append("Your point about on-call load stayed with me.")
    body = text(compose(intent_for(story, DraftKind.FOLLOWUP_1), story))
    assert "\nYour point about on-call load stayed with me.\n" in body


def test_one_thank_you_per_interviewer_each_personalised():
    story = interviewed(interviewers=(ALICE, BOB))
    story.notes.extend(["Alice: the migration of the billing pipeline",
                        "Bob: Our talk about pairing made me smile."])
    bodies = {}
    for intent in story.decide("2025-03-05 15:00").drafts:
        if intent.kind is DraftKind.THANK_YOU:
            msg = compose(intent, story)
            bodies[msg["To"].addresses[0].addr_spec] = text(msg)
    alice, bob = bodies["alice@acme.example"], bodies["bob@acme.example"]
    assert alice.startswith("Hi Alice,") and bob.startswith("Hi Bob,")
    assert "billing pipeline" in alice and "billing pipeline" not in bob
    assert "pairing" in bob and "pairing" not in alice
    assert "the Data Engineer role at Acme" in alice


def test_a_note_for_one_interviewer_leaves_the_marker_for_the_other():
    story = interviewed(interviewers=(ALICE, BOB))
    story.notes.append("Alice: the migration of the billing pipeline")
    for intent in story.decide("2025-03-05 15:00").drafts:
        if intent.to == BOB:
            assert PLACEHOLDER_MARKER in text(compose(intent, story))


def test_the_follow_up_names_the_interview_day_in_the_users_zone():
    story = Story(tz=ZoneInfo("Asia/Tokyo"))
    scheduled_interview(story, invited="2025-03-03 10:00", start="2025-03-05 08:00")
    intent = only(story.decide("2025-03-12 10:00"), DraftKind.FOLLOWUP_1)
    assert "on Wednesday, March 5 about" in text(compose(intent, story))


def test_the_signature_is_the_configured_name_else_the_users_name():
    story = interviewed()
    intent = intent_for(story, DraftKind.FOLLOWUP_1)
    assert text(compose(intent, story)).rstrip().endswith("Sam Candidate")
    assert text(compose(intent, story, signature_name="Samantha C.")).rstrip().endswith(
        "Samantha C.")


def test_every_template_renders_without_a_role_or_company():
    story = interviewed()
    story.company = story.role = None
    base = intent_for(story, DraftKind.FOLLOWUP_1)
    for kind in DraftKind:
        body = text(compose(replace(base, kind=kind), story))
        assert "None" not in body and "  " not in body and " ." not in body
        assert "the role" in body


def test_a_correction_names_the_wrong_and_the_right_company():
    story = interviewed()
    sent = story.outbound("2025-03-12 10:00", company="Globex", subject="Following up")
    fix = only(story.decide("2025-03-12 10:05"), DraftKind.CORRECTION)
    msg = compose(fix, story)
    assert msg["Subject"] == "Re: Following up" and msg["In-Reply-To"] == sent.message_id
    assert "I mistakenly wrote Globex where I meant Acme" in text(msg)


def test_a_company_name_squashed_from_a_domain_gives_way_to_the_full_name():
    story = Story(company="Fernhillcu", role="BI Analyst")
    scheduled_interview(story, invited="2025-03-03 10:00", start="2025-03-05 14:00")
    story.outbound("2025-03-06 10:00", company="Fernhill Credit Union", text="Thank you!")
    story.outbound("2025-03-12 10:00", company="Harbor & Pine Health", subject="Following up")
    fix = only(story.decide("2025-03-12 10:05"), DraftKind.CORRECTION)
    body = text(compose(fix, story))
    assert "I mistakenly wrote Harbor & Pine Health where I meant Fernhill Credit Union" in body
    assert "the BI Analyst role at Fernhill Credit Union" in body


def test_a_template_in_the_override_directory_replaces_the_packaged_one(tmp_path):
    (tmp_path / "thank_you.txt").write_text("Dear {{ first_name }}, thanks! {{ point }}\n")
    env = default_template_environment(tmp_path)
    story = interviewed()
    thanks = compose(intent_for(story, DraftKind.THANK_YOU, "2025-03-05 15:00"), story, env=env)
    assert text(thanks) == f"Dear Rita, thanks! {PLACEHOLDER_MARKER}\n"
    followup = compose(intent_for(story, DraftKind.FOLLOWUP_1), story, env=env)
    assert "I wanted to follow up" in text(followup)  # not overridden: packaged


def test_an_override_naming_an_unknown_variable_fails_loudly(tmp_path):
    (tmp_path / "thank_you.txt").write_text("Hi {{ nickname }}\n")
    story = interviewed()
    with pytest.raises(jinja2.UndefinedError):
        compose(intent_for(story, DraftKind.THANK_YOU, "2025-03-05 15:00"), story,
                env=default_template_environment(tmp_path))


def test_every_draft_kind_has_a_packaged_template():
    for name in TEMPLATE_NAMES.values():
        assert ENV.get_template(name)
