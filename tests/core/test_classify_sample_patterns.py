"""Patterns found missing on a realistic mailbox, each in several wordings: invitations that
propose slots or open with a courtesy line, status updates with a date, written offers, booking
tools that are not the employer, company names written out in signatures, and the user's own
mail naming a company."""

from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from followup.core.classify import DEFAULT_CONFIDENCE_THRESHOLD, classify
from followup.core.extract import extract_facts, read_message
from followup.core.model import Address, CalendarAttendee, CalendarEvent, Label, Message

NY = ZoneInfo("America/New_York")
SENT = datetime(2026, 3, 2, 15, 0, tzinfo=timezone.utc)  # Monday
USER = "dana.whitfield@gmail.com"
USERS = frozenset({USER})
PERSON = Address("Ana Lima", "ana.lima@acme-robotics.com")


def mail(text: str, *, subject: str = "Re: your note", sender: Address | None = PERSON,
         reply_to: tuple[Address, ...] = (), calendar: tuple[CalendarEvent, ...] = (),
         to: tuple[Address, ...] = (Address("Dana", USER),), headers: dict[str, str] | None = None) -> Message:
    return Message(message_id="<s@test>", date=SENT, sender=sender, reply_to=reply_to, subject=subject,
                   text=text, calendar=calendar, to=to, headers=headers or {})


INVITATIONS = [
    "The hiring team would like to bring you in for a panel interview at our office. "
    "Could you let me know which of these works best?\n\n* Tue, March 10, 10am ET\n* Wed, March 11, 2pm ET",
    "Would you have time for a phone interview next week? I could do Wednesday at 11am or Thursday at 3pm.",
    "Thank you for your application. We would like to get to know you better in a first interview "
    "with our head of analytics. Please let me know which date suits you.",
    "Many thanks for your application! We would be glad to get to know you in a video interview. "
    "Which of the two dates would suit you?",
    "Thanks for applying to the Analyst role. Which option works best for a 30-minute screening call: "
    "Monday morning or Tuesday afternoon?",
    "I'll be setting up your final-round interviews. Could you send me a few 90-minute windows when you're free?",
]


@pytest.mark.parametrize("text", INVITATIONS, ids=[t[:50] for t in INVITATIONS])
def test_a_request_to_pick_a_slot_is_an_invitation_even_after_a_courtesy_opener(text):
    result = classify(mail(text), user_addresses=USERS)
    assert result.label is Label.INTERVIEW_INVITATION, result.evidence
    assert result.confidence >= DEFAULT_CONFIDENCE_THRESHOLD


def test_thanks_for_reaching_out_makes_a_fit_remark_no_cold_outreach():
    text = ("Thanks for reaching out directly. Your background looks like a good fit for what we're "
            "building. Would you have time for a phone interview next week?")
    assert classify(mail(text), user_addresses=USERS).label is Label.INTERVIEW_INVITATION


def test_which_date_suits_you_without_job_words_is_not_an_invitation():
    text = "Dinner at ours next week? Let me know which date suits you, Friday or Saturday."
    assert classify(mail(text, sender=Address("Sam", "sam@gmail.com")), user_addresses=USERS).label is Label.OTHER


TIMELINES = [
    ("A short update so you are not left waiting: we still have two more candidates in the process, "
     "and we expect to be able to give you an answer by the 20th.", date(2026, 3, 20)),
    ("I wanted to give you a brief update on the search. The hiring committee plans to make its decision by\n"
     "Wednesday the 1st.", date(2026, 4, 1)),
    ("Quick status on your application: we are still meeting with candidates, so it will take a little longer "
     "than planned. The team hopes to share a final decision with you by Friday the 13th.", date(2026, 3, 13)),
]


@pytest.mark.parametrize(("text", "decided"), TIMELINES, ids=[t[0][:50] for t in TIMELINES])
def test_a_status_update_with_a_new_date_is_a_timeline_update_with_that_date(text, decided):
    classification, facts = read_message(mail(text), tz=NY, user_addresses=USERS)
    assert classification.label is Label.TIMELINE_UPDATE, classification.evidence
    assert facts.decision_date == decided


OFFERS = [
    "I'm thrilled to let you know that the team would like to offer you the Senior Product Analyst position! "
    "You'll receive the formal offer letter tomorrow morning. We'd ask you to let us know your decision by "
    "Friday, April 10.",
    "After talking it over, we're offering you the role of Senior Product Designer. The paperwork will follow "
    "next week; the offer stays open until April 10.",
    "We are excited to offer you a position as Planning Analyst II. You should receive the formal letter from HR "
    "tomorrow. We would appreciate hearing your decision by Friday, March 13.",
]


@pytest.mark.parametrize("text", OFFERS, ids=[t[:50] for t in OFFERS])
def test_a_written_offer_is_positive_and_its_deadline_for_the_candidate_is_no_decision_date(text):
    classification, facts = read_message(mail(text, subject="Your offer"), tz=NY, user_addresses=USERS)
    assert classification.label is Label.POSITIVE, classification.evidence
    assert facts.decision_date is None


def test_you_will_hear_from_us_is_still_a_decision_promise():
    _, facts = read_message(mail("We are still interviewing for the role; you will hear from us by Friday."),
                            tz=NY, user_addresses=USERS)
    assert facts.decision_date == date(2026, 3, 6)


def _booking(organizer: Address, summary: str = "Case interview - Data Scientist (Nordwind Freight)") -> CalendarEvent:
    return CalendarEvent(method="REQUEST", uid="b1", sequence=0,
                         start=datetime(2026, 3, 12, 15, 0, tzinfo=timezone.utc),
                         end=datetime(2026, 3, 12, 16, 0, tzinfo=timezone.utc),
                         summary=summary, organizer=organizer,
                         attendees=(CalendarAttendee(Address("Jo Park", "jo.park@nordwind-freight.com")),
                                    CalendarAttendee(Address("Dana", USER))))


TOOLS = [
    Address("Bookly", "notifications@bookly.example"),
    Address("Slotter", "no-reply@mail.slotter.io"),
    Address("Meetwise Scheduling", "events@meetwise.app"),
]


@pytest.mark.parametrize("tool", TOOLS, ids=[t.email for t in TOOLS])
def test_an_unknown_booking_tool_relaying_an_organizer_is_never_the_company_nor_the_role(tool):
    organizer = Address("Katrin Vogel", "katrin.vogel@nordwind-freight.com")
    message = mail(f"Your event is scheduled.\nEvent: Case interview - Data Scientist (Nordwind Freight)\n"
                   f"Host: Katrin Vogel\n\nSent by {tool.name}",
                   subject="Confirmed: Case interview - Nordwind Freight with Katrin Vogel on Thursday",
                   sender=tool, calendar=(_booking(organizer),))
    classification, facts = read_message(message, tz=NY, user_addresses=USERS)
    assert classification.label is Label.INTERVIEW_SCHEDULED
    assert facts.company == "Nordwind Freight"
    assert facts.role in (None, "Data Scientist")
    assert facts.contact == organizer
    assert [a.email for a in facts.interviewers] == ["jo.park@nordwind-freight.com"]


def test_an_employers_own_no_reply_keeps_its_display_name_as_the_company():
    organizer = Address("Katrin Vogel", "katrin.vogel@nordwind-freight.com")
    message = mail("Your interview is confirmed.", subject="Interview confirmed",
                   sender=Address("Nordwind Freight Careers", "no-reply@nordwind-freight.com"),
                   calendar=(_booking(organizer, summary="Interview"),))
    assert read_message(message, tz=NY, user_addresses=USERS)[1].company == "Nordwind Freight"


COMPANIES = [
    # (sender, text, company) — the name written out beats the domain guess and a passing phrase
    (Address("Rachel Kim", "rachel.kim@harborpine.com"),
     "Thanks for the note from Jamie! Could you let me know which of these times works best for an interview?"
     "\n\nRachel Kim\nSenior Technical Recruiter\nHarbor & Pine Health | 88 Wharf Street, Boston",
     "Harbor & Pine Health"),
    (Address("Gwen Osei", "gwen.osei@fernhillcu.com"),
     "Would you have time for a phone interview next week?\n\nGwen Osei\nManager, BI\nFernhill Credit Union | Richmond, VA",
     "Fernhill Credit Union"),
    (Address("Marta Kowal", "mkowal@tfcu.org"),
     "Would you have time for a phone interview next week?\n\nMarta Kowal\nTidewater Federal Credit Union",
     "Tidewater Federal Credit Union"),
    (Address("Rosa Lind | Brightmoor & Vale Partners", "rosa.lind@brightmoorvale.com"),
     "We'd like to schedule a first interview. Could you send me two or three times that suit you?",
     "Brightmoor & Vale Partners"),
    (Address("Alex Moreno", "alex.moreno@cobaltridge.com"),
     "The team would like to offer you the Analyst position here at Cobalt Ridge!\n\nAlex\nCobalt Ridge Software",
     "Cobalt Ridge Software"),
]


@pytest.mark.parametrize(("sender", "text", "company"), COMPANIES, ids=[c[2] for c in COMPANIES])
def test_a_company_name_written_out_in_the_text_beats_the_domain_guess(sender, text, company):
    _, facts = read_message(mail(text, sender=sender), tz=NY, user_addresses=USERS)
    assert facts.company == company


def test_a_domain_the_text_never_spells_out_still_gives_a_guess():
    _, facts = read_message(mail("Would you have time for a phone interview next week?",
                                 sender=Address("Gwen", "gwen@fernhillcu.com")), tz=NY, user_addresses=USERS)
    assert facts.company == "Fernhillcu"


def _sent(text: str, to: Address = Address("Gwen Osei", "gwen.osei@fernhillcu.com")) -> Message:
    return mail(text, subject="Re: Business Intelligence Analyst", sender=Address("Dana Whitfield", USER), to=(to,))


OUTBOUND = [
    ("I wanted to follow up on our phone interview. Our conversation left me even more excited about the "
     "possibility of joining Harbor & Pine Health.\n\nBest regards,\nDana", "Harbor & Pine Health"),
    ("Thank you for taking the time to speak with me about the Data Engineer role at Saltmarsh Games.\n\nBest,\nDana",
     "Saltmarsh Games"),
    ("I'm an analyst at Brightline Logistics. I recently applied for the Reliability Analyst position at "
     "Kestrel Aerospace and wanted to introduce myself.", "Kestrel Aerospace"),
    ("In my role at Brightline Logistics I built forecasting models. I would love to hear about next steps.", None),
    ("I'm still very interested in Python-heavy work and happy to share more samples.", None),
    ("Thank you for the great conversation with Gwen and the team yesterday.", None),
    ("Thank you for arranging today's interview with Paul. I enjoyed learning about the routing models.", None),
    ("It was a pleasure to meet the team at Orrery Health on Tuesday.", "Orrery Health"),
    ("Just checking in on the position we discussed.\n\nOn Mon, Mar 2, 2026 at 9:00 AM Gwen wrote:\n"
     "> Thanks for interviewing for the role at Fernhill Credit Union.", None),
]


@pytest.mark.parametrize(("text", "company"), OUTBOUND, ids=[o[0][:50] for o in OUTBOUND])
def test_the_users_own_mail_yields_the_company_her_words_name(text, company):
    classification, facts = read_message(_sent(text), tz=NY, user_addresses=USERS)
    assert classification.label is Label.OTHER
    assert facts.company == company
    assert facts.decision_date is None and facts.interview_start is None


def test_outbound_facts_never_make_the_user_the_contact():
    assert extract_facts(_sent("Hello"), tz=NY, user_addresses=USERS).contact is None
