"""Facts from one message: contact, interviewers, interview time, decision date, company, role."""

from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from followup.core.extract import extract_facts, read_message
from followup.core.model import Address, CalendarAttendee, CalendarEvent, Label, Message

NY = ZoneInfo("America/New_York")
SENT = datetime(2026, 3, 2, 15, 0, tzinfo=timezone.utc)  # Monday
USER = "dana.whitfield@gmail.com"


def mail(text: str = "", *, sender: Address | None = None, reply_to: tuple[Address, ...] = (),
         subject: str = "", calendar: tuple[CalendarEvent, ...] = ()) -> Message:
    return Message(message_id="<x@t>", date=SENT, sender=sender, reply_to=reply_to, subject=subject,
                   text=text, calendar=calendar)


def facts(message: Message, label: Label | None = None):  # type: ignore[no-untyped-def]
    return extract_facts(message, tz=NY, user_addresses=frozenset({USER}), label=label)


CONTACTS = [
    # a human sender is the contact
    (mail("Hi", sender=Address("Ana Lima", "ana.lima@acme.com")), "ana.lima@acme.com"),
    # an ATS no-reply sender gives way to the human Reply-To
    (mail("Hi", sender=Address("Acme", "no-reply@hire.lever.co"),
          reply_to=(Address("Ben Ode", "ben.ode@acme.com"),)), "ben.ode@acme.com"),
    # ... or to the person named with an address in the body
    (mail("Questions? Write to your recruiter, Jordan Lee (jordan.lee@acme.com).",
          sender=Address("", "no-reply@goodtime.io")), "jordan.lee@acme.com"),
    # ... or to the recruiter who signs with an address
    (mail("We will be in touch.\n\nBest,\nMaya Ruiz\nRecruiter\nmaya.ruiz@acme.com",
          sender=Address("", "notifications@smartrecruiters.com")), "maya.ruiz@acme.com"),
    # no human anywhere: no contact (never a no-reply address)
    (mail("Thanks for applying.", sender=Address("Acme", "noreply@acme.com")), None),
    # a careers@ mailbox is nobody to follow up with
    (mail("Thanks for applying.", sender=Address("Acme Careers", "careers@acme.com")), None),
    # the user is never the contact
    (mail("Hi", sender=Address("Dana", USER)), None),
]


@pytest.mark.parametrize(("message", "email"), CONTACTS, ids=[str(i) for i in range(len(CONTACTS))])
def test_the_contact_is_a_human_never_a_no_reply_address_nor_the_user(message, email):
    result = facts(message, Label.ACKNOWLEDGEMENT)
    assert (result.contact.email if result.contact else None) == email


def _invite(attendees, organizer=Address("Ana Lima", "ana.lima@acme.com"), start=None, end=None):  # type: ignore[no-untyped-def]
    return CalendarEvent(method="REQUEST", uid="u", sequence=0,
                         start=start or datetime(2026, 3, 10, 14, 0, tzinfo=timezone.utc),
                         end=end, summary="Interview: Dana / Acme", organizer=organizer,
                         attendees=tuple(attendees))


def test_interviewers_are_human_attendees_minus_user_rooms_resources_and_scheduling_tools():
    event = _invite([
        CalendarAttendee(Address("Dana", USER)),
        CalendarAttendee(Address("Jonas Berger", "jonas@acme.com")),
        CalendarAttendee(Address("Board Room 4", "room4@acme.com"), cutype="ROOM"),
        CalendarAttendee(Address("Projector", "projector@acme.com"), cutype="RESOURCE"),
        CalendarAttendee(Address("Zoom Room Elbe", "zoom-elbe@acme.com")),
        CalendarAttendee(Address("GoodTime", "scheduler@goodtime.io")),
        CalendarAttendee(Address("aylin@acme.com", "aylin@acme.com")),
    ])
    result = facts(mail("invite", sender=Address("", "no-reply@goodtime.io"), calendar=(event,)),
                   Label.INTERVIEW_SCHEDULED)
    assert [(a.name, a.email) for a in result.interviewers] == [("Jonas Berger", "jonas@acme.com"),
                                                                 ("", "aylin@acme.com")]
    assert result.contact == Address("Ana Lima", "ana.lima@acme.com"), "the organizer when the sender is a tool"


def test_a_floating_calendar_start_is_placed_in_the_users_zone_and_end_comes_from_dtend():
    event = _invite([], start=datetime(2026, 3, 19, 13, 30), end=datetime(2026, 3, 19, 14, 15))
    result = facts(mail("invite", calendar=(event,)), Label.INTERVIEW_SCHEDULED)
    assert result.interview_start == datetime(2026, 3, 19, 13, 30, tzinfo=NY)
    assert result.interview_end == datetime(2026, 3, 19, 14, 15, tzinfo=NY)


def test_an_interview_end_is_none_when_neither_text_nor_calendar_states_it():
    result = facts(mail("Your interview is confirmed for Thursday, March 5th at 2:30pm ET."),
                   Label.INTERVIEW_SCHEDULED)
    assert result.interview_start == datetime(2026, 3, 5, 14, 30, tzinfo=ZoneInfo("America/New_York"))
    assert result.interview_end is None


DECISIONS = [
    ("We are still interviewing and will get back to you by Friday.", date(2026, 3, 6)),
    ("You should hear from us within two weeks.", date(2026, 3, 16)),
    ("We expect to make a decision by the end of next week.", date(2026, 3, 13)),
    ("We hope to have an update early next month.", date(2026, 4, 5)),
    ("Please let us know by Friday whether you accept.", None),
    ("The offer expires on March 20.", None),
    ("Please complete the assessment within two weeks.", None),
    ("If you are not selected, we will let you know within two weeks.", None),
    ("Please let us know your decision by March 10. We will get back to you with paperwork.", None),
]


@pytest.mark.parametrize(("text", "expected"), DECISIONS, ids=[d[0][:40] for d in DECISIONS])
def test_only_the_employers_own_promise_is_a_decision_date(text, expected):
    result = facts(mail(text, sender=Address("Ana", "ana@acme.com")), Label.TIMELINE_UPDATE)
    assert result.decision_date == expected


def test_times_proposed_in_an_invitation_are_not_an_interview_start():
    text = "Would Tue 3/10 10:00-10:45 PT or Wed 3/11 2:00-2:45 PT work for an interview?"
    result = facts(mail(text, sender=Address("Ana", "ana@acme.com")), Label.INTERVIEW_INVITATION)
    assert result.interview_start is None


def test_company_and_role_come_from_the_phrases_that_name_them():
    text = "Thank you for applying to the Data Engineer position at Northwind Analytics."
    result = facts(mail(text, sender=Address("", "no-reply@greenhouse.io")), Label.ACKNOWLEDGEMENT)
    assert result.company == "Northwind Analytics"
    assert result.role == "Data Engineer"


def test_read_message_returns_the_label_and_the_facts_of_one_reading():
    message = mail("I am out of the office until the 14th.", subject="Automatic reply: hello",
                   sender=Address("Ana", "ana@acme.com"))
    classification, result = read_message(message, tz=NY)
    assert classification.label is Label.OUT_OF_OFFICE
    assert result.ooo_return == date(2026, 3, 14)


def test_extract_facts_classifies_first_when_no_label_is_given():
    message = mail("I am out of the office until the 14th.", subject="Automatic reply: hello",
                   sender=Address("Ana", "ana@acme.com"))
    assert facts(message).ooo_return == date(2026, 3, 14)


def test_a_message_without_a_date_still_yields_its_calendar_facts_and_no_relative_dates():
    event = _invite([CalendarAttendee(Address("Jonas", "jonas@acme.com"))])
    message = Message(message_id="<n@t>", date=None, sender=Address("Ana", "ana.lima@acme.com"),
                      text="We will get back to you by Friday.", calendar=(event,))
    result = facts(message, Label.INTERVIEW_SCHEDULED)
    assert result.interview_start == event.start
    assert result.decision_date is None
