"""The classifier's rules one phrase at a time: what decides a label, what never does."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from followup.core.classify import DECISION_TABLE, DEFAULT_CONFIDENCE_THRESHOLD, classify
from followup.core.extract import read_message
from followup.core.model import Address, CalendarAttendee, CalendarEvent, Label, Message

SENT = datetime(2026, 3, 2, 15, 0, tzinfo=timezone.utc)
RECRUITER = Address("Ana Lima", "ana.lima@acme-robotics.com")
USER = "dana.whitfield@gmail.com"


def mail(text: str, subject: str = "Your application", sender: Address | None = RECRUITER,
         headers: dict[str, str] | None = None, calendar: tuple[CalendarEvent, ...] = ()) -> Message:
    return Message(message_id="<t@test>", date=SENT, sender=sender, subject=subject, text=text,
                   headers=headers or {}, calendar=calendar, to=(Address("Dana", USER),))


PHRASES = [
    # (text, expected label)
    ("Unfortunately, we have decided to move forward with other candidates for the Analyst role.", Label.REJECTION),
    ("After careful review we will not be moving forward with your application.", Label.REJECTION),
    ("We wanted to let you know the Data Engineer position has been filled.", Label.REJECTION),
    ("Although you were not selected for an interview, we thank you for applying.", Label.REJECTION),
    ("We’ve decided not to proceed with your candidacy at this time.", Label.REJECTION),
    ("We have received your application for the Data Engineer role. If you are not selected, "
     "we will keep your resume on file.", Label.ACKNOWLEDGEMENT),
    ("Thanks for applying! Should we decide not to move forward, we will let you know by email.",
     Label.ACKNOWLEDGEMENT),
    ("Thank you for applying. If we think you might be a good fit, we'll be in touch soon to "
     "schedule an initial video interview.", Label.ACKNOWLEDGEMENT),
    ("I'd love to set up a 30-minute phone screen. Could you send me a few times that work?",
     Label.INTERVIEW_INVITATION),
    ("Please use the link below to schedule your interview for the Backend role.", Label.INTERVIEW_INVITATION),
    ("Great news, the team would like to move you forward to the final round! What does your "
     "availability look like next week for the interviews?", Label.INTERVIEW_INVITATION),
    ("Your interview is confirmed for Thursday, March 5th at 2:30pm ET.", Label.INTERVIEW_SCHEDULED),
    ("I'm sorry, we need to cancel our interview tomorrow for the Analyst role.", Label.INTERVIEW_CANCELLED),
    ("We are thrilled to extend you an offer for the Backend Engineer role! The offer letter is attached.",
     Label.POSITIVE),
    ("Could you please provide two professional references for the Analyst position?", Label.POSITIVE),
    ("We are still interviewing for the role and expect to have a decision by Friday.", Label.TIMELINE_UPDATE),
    ("Thanks for your patience with the role: the hiring decision is taking longer than expected and "
     "we will get back to you within two weeks.", Label.TIMELINE_UPDATE),
]


@pytest.mark.parametrize(("text", "label"), PHRASES, ids=[p[0][:50] for p in PHRASES])
def test_a_job_specific_phrase_in_its_sentence_decides_the_label(text, label):
    result = classify(mail(text))
    assert result.label is label, result.evidence
    assert result.confidence >= DEFAULT_CONFIDENCE_THRESHOLD
    assert any('"' in e for e in result.evidence), "the deciding phrase is quoted in the evidence"


GENERIC = [
    "Unfortunately the parking garage will be closed on Monday.",
    "Here is my interview with the band, published in this week's zine.",
    "We regret to inform you that your subscription has expired.",
    "Congratulations! You have been selected to receive a free cruise.",
    "Your loan application has been received and pre-approved. Move forward with your application today!",
    "We are pleased to offer you a position as a remote assistant. Work from home and earn $500 weekly!",
]


@pytest.mark.parametrize("text", GENERIC, ids=[g[:40] for g in GENERIC])
def test_a_generic_word_alone_or_a_non_job_context_never_decides_a_serious_label(text):
    result = classify(mail(text, subject="Hello", sender=Address("", "promo@deals-now.biz")))
    assert result.label in (Label.OTHER, Label.ACKNOWLEDGEMENT)
    assert result.label is not Label.REJECTION


def test_a_rejection_quoted_under_a_friends_reply_is_not_read_as_the_friends_words():
    text = ("So sorry, their loss! Lunch this week?\n\n"
            "On Mon, Mar 2, 2026 at 5:30 PM Dana <dana.whitfield@gmail.com> wrote:\n"
            "> We will not be moving forward with your application for the Analyst role.\n")
    assert classify(mail(text, sender=Address("Sam", "sam@gmail.com"))).label is Label.OTHER


def test_the_users_own_mail_is_other_whatever_it_says():
    text = "Thank you for the interview! I look forward to hearing about next steps for the role."
    result = classify(mail(text, sender=Address("Dana", USER)), user_addresses=frozenset({USER}))
    assert result.label is Label.OTHER
    assert "mailbox owner" in result.evidence[0]


def test_an_auto_reply_that_says_the_person_is_away_is_out_of_office_not_a_reply():
    result = classify(mail("I am out of the office until March 9 with limited access to email.",
                           subject="Automatic reply: Interview", headers={"auto-submitted": "auto-replied"}))
    assert result.label is Label.OUT_OF_OFFICE
    assert any("Auto-Submitted" in e for e in result.evidence)


def test_mailing_list_mail_is_other_on_its_headers_alone():
    result = classify(mail("We will not be moving forward with your application.",
                           sender=Address("", "list@lists.example.org"),
                           headers={"list-id": "<dev.lists.example.org>", "precedence": "list"}))
    assert result.label is Label.OTHER
    assert result.evidence[0].startswith("header List-Id")


def _event(method: str, summary: str, organizer: Address = RECRUITER) -> CalendarEvent:
    start = datetime(2026, 3, 10, 15, 0, tzinfo=timezone.utc)
    return CalendarEvent(method=method, uid="u1", sequence=1, start=start, end=None, summary=summary,
                         organizer=organizer, attendees=(CalendarAttendee(Address("Dana", USER)),))


def test_a_calendar_request_about_an_interview_is_scheduled_and_names_its_method():
    result = classify(mail("See invite.", calendar=(_event("REQUEST", "Interview: Dana / Acme"),)))
    assert result.label is Label.INTERVIEW_SCHEDULED
    assert result.evidence[0].startswith("calendar METHOD:REQUEST SEQUENCE:1")


def test_a_calendar_cancel_about_an_interview_is_cancelled():
    result = classify(mail("Cancelled.", calendar=(_event("CANCEL", "Interview: Dana / Acme"),)))
    assert result.label is Label.INTERVIEW_CANCELLED


def test_a_dentists_calendar_invite_is_not_an_interview():
    dentist = Address("Smile Dental", "appointments@smiledental.com")
    result = classify(mail("Your cleaning is booked.", subject="Appointment confirmed", sender=dentist,
                           calendar=(_event("REQUEST", "Dental cleaning", organizer=dentist),)))
    assert result.label is Label.OTHER


def test_cold_recruiter_outreach_asking_for_a_call_is_other():
    text = ("I came across your profile and have a Data Engineer role with my client. Would you be "
            "available for a quick call this week? Send me your updated resume.")
    assert classify(mail(text, subject="Exciting opportunity")).label is Label.OTHER


def test_the_decision_table_lists_every_label():
    assert {label for _, label in DECISION_TABLE} == set(Label)


_WORDS = st.sampled_from([
    "interview", "unfortunately", "not", "if", "we", "will", "move", "forward", "with", "other",
    "candidates", "offer", "tomorrow", "at", "10", "3/10", "Friday", "ET", "by", "within", "two", "weeks",
    "your", "application", "received", "\n", ">", "On", "wrote:", "--", "Best,", "’", "\"", "2:30pm",
    "out", "of", "office", "until", "the", "14th", "schedule", "availability", "calendly.com/x",
])


@settings(max_examples=150, deadline=None)
@given(words=st.lists(_WORDS, max_size=60), junk=st.text(max_size=80), subject=st.text(max_size=40),
       auto=st.booleans())
def test_classify_and_extract_never_raise_and_always_explain(words, junk, subject, auto):
    text = " ".join(words) + junk
    headers = {"auto-submitted": "auto-replied"} if auto else {}
    message = mail(text, subject=subject, headers=headers)
    classification, facts = read_message(message, tz=timezone.utc, user_addresses=frozenset({USER}))
    assert classification.evidence
    assert 0.0 <= classification.confidence <= 1.0
    assert facts.contact is None or facts.contact.email != USER
