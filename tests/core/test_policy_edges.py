"""The policy at its edges: a thank-you sent before the scheduled end, a first run over an old
mailbox, who a follow-up goes to, and which company a sent follow-up names.

Times are local wall times of the story's zone (New York). ``now`` is always passed: the
policy reads no clock.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from followup.core.model import (
    Address,
    CalendarAttendee,
    CalendarEvent,
    DraftFate,
    DraftKind,
    Label,
    Stage,
)
from followup.core.policy import PolicySettings, named_companies, same_company
from policy_factory import (
    ALICE,
    ATS,
    BOB,
    RECRUITER,
    SCHEDULER,
    USER,
    Story,
    at,
    kinds,
    only,
    scheduled_interview,
)

# --- a thank-you sent before the scheduled end ---------------------------------------------


def _noon_interview(**kw) -> Story:
    """Wednesday 5 March 2025, 12:00-13:00, confirmed two days before."""
    story = Story()
    story.inbound(Label.INTERVIEW_SCHEDULED, "2025-03-03 10:00", start="2025-03-05 12:00",
                  end="2025-03-05 13:00", subject="Interview confirmed", **kw)
    return story


def test_a_thank_you_sent_when_the_call_ended_early_counts():
    story = _noon_interview()
    story.outbound("2025-03-05 12:48", text="Hi Rita, thank you for the call just now!")
    decision = story.decide("2025-03-05 13:05")
    assert "thank_you" not in kinds(decision)
    assert decision.stage is Stage.WAITING  # done once the slot is over, not left interviewed


def test_the_stage_waits_for_the_scheduled_end_after_an_early_thank_you():
    story = _noon_interview()
    story.outbound("2025-03-05 12:48", text="Thanks so much for your time today.")
    assert story.decide("2025-03-05 12:55").stage is Stage.SCHEDULED
    assert story.decide("2025-03-05 13:00").stage is Stage.WAITING


def test_mail_before_the_interview_is_not_the_thank_you():
    story = _noon_interview()
    story.outbound("2025-03-04 17:00", text="Thanks, looking forward to tomorrow!")
    story.outbound("2025-03-05 11:55", text="Thanks - running five minutes late, sorry.")
    thanks = only(story.decide("2025-03-05 13:05"), DraftKind.THANK_YOU)
    assert thanks.due == at("2025-03-05 13:00")


def test_mail_in_the_first_minutes_of_the_interview_is_not_the_thank_you():
    story = _noon_interview()
    story.outbound("2025-03-05 12:04", text="Thanks, I can't get into the video call.")
    assert only(story.decide("2025-03-05 13:05"), DraftKind.THANK_YOU)


def test_mail_during_the_slot_that_thanks_nobody_is_not_the_thank_you():
    story = _noon_interview()
    story.outbound("2025-03-05 12:40", text="Here is the portfolio link I mentioned.")
    assert only(story.decide("2025-03-05 13:05"), DraftKind.THANK_YOU)


def test_thanks_quoted_from_the_employer_are_not_the_users():
    story = _noon_interview()
    story.outbound("2025-03-05 12:40", text="Link: https://x.example/p\n\n"
                   "On Mon, Rita wrote:\n> Thank you for your interest in Acme!")
    assert only(story.decide("2025-03-05 13:05"), DraftKind.THANK_YOU)


def test_an_early_thank_you_to_one_interviewer_leaves_the_other_their_draft():
    story = _noon_interview(interviewers=(ALICE, BOB))
    story.outbound("2025-03-05 12:50", to=(ALICE,), text="Alice, thanks for the great chat!")
    decision = story.decide("2025-03-05 13:05")
    assert [d.to for d in decision.drafts if d.kind is DraftKind.THANK_YOU] == [BOB]


def test_the_early_margin_is_a_setting():
    story = _noon_interview()
    story.outbound("2025-03-05 12:04", text="Thank you, great to meet you.")
    decision = story.decide("2025-03-05 13:05", thank_you_counts_after=timedelta(0))
    assert "thank_you" not in kinds(decision)


def test_an_early_thank_you_makes_the_follow_up_count_from_the_interview_as_usual():
    story = _noon_interview()
    story.outbound("2025-03-05 12:48", text="Thank you!")
    assert only(story.decide("2025-03-06 10:00"), DraftKind.FOLLOWUP_1).due == at(
        "2025-03-12 09:00")


# --- the first run over an old mailbox -----------------------------------------------------

FIRST_RUN = "2025-03-03 08:00"  # Monday: the program sees 90 days of mail at once


def _old_interview(story: Story | None = None, *, learned: str = FIRST_RUN) -> Story:
    """Interview Wed 8 Jan 2025 14:00 (follow-up 1 due Wed 15 Jan), all learned at ``learned``."""
    story = story or Story()
    story.inbound(Label.INTERVIEW_INVITATION, "2025-01-02 10:00", learned=learned)
    story.inbound(Label.INTERVIEW_SCHEDULED, "2025-01-02 12:00", start="2025-01-08 14:00",
                  subject="Interview confirmed", learned=learned)
    return story


def test_a_first_run_drafts_no_stale_follow_up_and_says_so_in_the_digest():
    decision = _old_interview().decide("2025-03-03 08:05")
    assert decision.drafts == ()  # neither the thank-you (72 h rule) nor follow-up 1
    assert decision.stage is Stage.WAITING
    (note,) = [n for n in decision.notes if n.kind == "stale_followup"]
    assert note.at == at(FIRST_RUN)
    assert "Wed 15 Jan 2025" in note.text and "first follow-up" in note.text


def test_a_stale_ladder_closes_as_no_response_when_the_user_does_not_write():
    story = _old_interview()
    before = story.decide("2025-03-17 08:59")
    assert before.stage is Stage.WAITING and before.next_wakeup == at("2025-03-17 09:00")
    after = story.decide("2025-03-17 09:00")
    assert after.stage is Stage.NO_RESPONSE
    assert after.drafts == ()
    assert [n.kind for n in after.notes] == ["move_on"]  # the stale note has said its piece
    assert "closed as no response on Mon 17 Mar" in next(
        n.text for n in before.notes if n.kind == "stale_followup")


def test_a_follow_up_the_user_writes_after_a_stale_note_continues_the_ladder():
    story = _old_interview()
    story.outbound("2025-03-05 10:00", text="Hi Rita, checking in on the role.")
    decision = story.decide("2025-03-05 11:00")
    assert only(decision, DraftKind.FOLLOWUP_2).due == at("2025-03-12 09:00")
    assert decision.stage is Stage.FOLLOWED_UP and decision.followups_sent == 1
    assert "stale_followup" not in [n.kind for n in decision.notes]
    assert story.decide("2025-03-20 09:00").stage is Stage.FOLLOWED_UP  # no stale give-up


def test_a_follow_up_due_less_than_fourteen_days_before_the_first_run_is_still_drafted():
    story = Story()
    story.inbound(Label.INTERVIEW_SCHEDULED, "2025-02-10 12:00", start="2025-02-12 14:00",
                  learned=FIRST_RUN)
    decision = story.decide("2025-03-03 08:05")
    assert only(decision, DraftKind.FOLLOWUP_1).due == at("2025-02-19 09:00")  # placed now
    assert "stale_followup" not in [n.kind for n in decision.notes]


def test_exactly_fourteen_days_late_is_not_stale_yet():
    story = Story()
    story.inbound(Label.INTERVIEW_SCHEDULED, "2025-02-10 12:00", start="2025-02-12 14:00",
                  learned="2025-03-05 09:00")  # follow-up 1 due Wed 19 Feb 09:00
    assert only(story.decide("2025-03-05 09:01"), DraftKind.FOLLOWUP_1)
    story = Story()
    story.inbound(Label.INTERVIEW_SCHEDULED, "2025-02-10 12:00", start="2025-02-12 14:00",
                  learned="2025-03-05 09:01")
    assert "followup_1" not in kinds(story.decide("2025-03-05 09:02"))


def test_a_stale_second_follow_up_is_noted_and_not_drafted():
    story = _old_interview()
    story.outbound("2025-01-16 10:00", text="Checking in.", learned=FIRST_RUN)
    decision = story.decide("2025-03-03 08:05")
    assert decision.drafts == ()
    assert decision.followups_sent == 1 and decision.stage is Stage.FOLLOWED_UP
    (note,) = [n for n in decision.notes if n.kind == "stale_followup"]
    assert "next follow-up" in note.text and "Thu 23 Jan 2025" in note.text


def test_news_after_the_first_run_reschedules_a_stale_ladder_afresh():
    story = _old_interview()
    story.inbound(Label.TIMELINE_UPDATE, "2025-03-05 10:00", decision=date(2025, 3, 14),
                  subject="Update")
    decision = story.decide("2025-03-05 11:00")
    assert only(decision, DraftKind.FOLLOWUP_1).due == at("2025-03-17 09:00")
    assert "stale_followup" not in [n.kind for n in decision.notes]


def test_the_stale_threshold_is_a_setting():
    story = _old_interview()
    decision = story.decide("2025-03-03 08:05", stale_after=timedelta(days=60))
    assert only(decision, DraftKind.FOLLOWUP_1).due == at("2025-01-15 09:00")
    with pytest.raises(ValueError, match="stale_after"):
        story.settings(stale_after=timedelta(days=-1))


def test_a_follow_up_already_placed_is_never_withdrawn_as_stale():
    story = Story()
    scheduled_interview(story, invited="2025-03-03 10:00", start="2025-03-05 14:00")
    first = only(story.decide("2025-03-12 09:00"), DraftKind.FOLLOWUP_1)
    story.draft(first.key, first.kind, DraftFate.PLACED, "2025-03-12 09:00")
    # A message dated before the due date that the program only saw weeks later.
    story.inbound(Label.OTHER, "2025-03-10 10:00", learned="2025-04-10 10:00")
    assert only(story.decide("2025-04-10 11:00"), DraftKind.FOLLOWUP_1).key == first.key


def test_the_ladder_of_a_program_that_kept_running_is_never_stale():
    story = Story()
    scheduled_interview(story, invited="2025-03-03 10:00", start="2025-03-05 14:00")
    decision = story.decide("2025-05-30 10:00")  # nobody placed it: still the same step
    assert only(decision, DraftKind.FOLLOWUP_1).due == at("2025-03-12 09:00")


def test_a_first_run_drafts_no_reply_to_an_old_rejection():
    story = _old_interview()
    story.inbound(Label.REJECTION, "2025-01-20 10:00", learned=FIRST_RUN)
    decision = story.decide("2025-03-03 08:05")
    assert decision.stage is Stage.REJECTED
    assert decision.drafts == ()


def test_a_first_run_still_answers_a_recent_rejection():
    story = _old_interview()
    story.inbound(Label.REJECTION, "2025-02-24 10:00", learned=FIRST_RUN)
    reply = only(story.decide("2025-03-03 08:05"), DraftKind.REJECTION_REPLY)
    assert reply.due == at(FIRST_RUN)


def test_a_first_run_drafts_no_reply_to_old_good_news():
    story = _old_interview()
    story.inbound(Label.POSITIVE, "2025-01-20 10:00", learned=FIRST_RUN)
    decision = story.decide("2025-03-03 08:05")
    assert decision.stage is Stage.ADVANCING and decision.drafts == ()


def test_a_first_run_offers_no_correction_of_an_old_mail():
    story = _old_interview()
    story.outbound("2025-01-20 10:00", company="Globex", learned=FIRST_RUN)
    assert "correction" not in kinds(story.decide("2025-03-03 08:05"))


# --- who a follow-up goes to -----------------------------------------------------------------


def _calendar(organizer: Address | None, *people: Address) -> tuple[CalendarEvent, ...]:
    start, end = at("2025-03-05 14:00"), at("2025-03-05 14:45")
    return (CalendarEvent("REQUEST", "uid-1@acme.example", 0, start, end, "Interview", organizer,
                          tuple(CalendarAttendee(p) for p in (*people, USER))),)


def test_the_follow_up_goes_to_the_calendar_organizer_not_the_interviewer():
    story = Story()
    story.inbound(Label.INTERVIEW_SCHEDULED, "2025-03-03 12:00", sender=RECRUITER, contact=ALICE,
                  start="2025-03-05 14:00", interviewers=(ALICE,),
                  calendar=_calendar(RECRUITER, ALICE))
    assert only(story.decide("2025-03-05 15:00"), DraftKind.THANK_YOU).to == ALICE
    assert only(story.decide("2025-03-12 10:00"), DraftKind.FOLLOWUP_1).to == RECRUITER


def test_the_follow_up_goes_to_the_recruiter_who_sent_the_invite_when_no_contact_was_read():
    # The report from tests/test_engine.py: the extractor lost the contact, and the follow-up
    # went to the interviewer (alice@) instead of the recruiter (rita@).
    story = Story()
    story.inbound(Label.INTERVIEW_SCHEDULED, "2025-03-03 12:00", sender=RECRUITER, contact=None,
                  start="2025-03-05 14:00", interviewers=(ALICE,))
    assert only(story.decide("2025-03-12 10:00"), DraftKind.FOLLOWUP_1).to == RECRUITER


def test_the_organizer_counts_even_when_a_scheduling_tool_sent_the_invite():
    story = Story()
    story.inbound(Label.INTERVIEW_SCHEDULED, "2025-03-03 12:00", sender=SCHEDULER, contact=None,
                  start="2025-03-05 14:00", interviewers=(ALICE, BOB),
                  calendar=_calendar(RECRUITER, ALICE, BOB))
    assert only(story.decide("2025-03-12 10:00"), DraftKind.FOLLOWUP_1).to == RECRUITER


def test_later_mail_from_an_interviewer_does_not_take_over_the_follow_up():
    story = Story()
    scheduled_interview(story, invited="2025-03-03 10:00", start="2025-03-05 14:00",
                        interviewers=(ALICE,))
    story.inbound(Label.OTHER, "2025-03-06 10:00", sender=ALICE, contact=ALICE,
                  subject="The slides from today")
    assert only(story.decide("2025-03-12 10:00"), DraftKind.FOLLOWUP_1).to == RECRUITER


def test_an_interviewer_is_the_contact_only_when_nobody_else_is_known():
    story = Story()
    story.inbound(Label.INTERVIEW_SCHEDULED, "2025-03-03 12:00", sender=SCHEDULER, contact=None,
                  start="2025-03-05 14:00", interviewers=(ALICE,))
    assert only(story.decide("2025-03-12 10:00"), DraftKind.FOLLOWUP_1).to == ALICE


def test_an_organizer_who_is_the_user_or_a_machine_is_nobodys_contact():
    for organizer in (USER, SCHEDULER, Address("Acme Calendly", "rita@calendly.com")):
        story = Story()
        story.inbound(Label.INTERVIEW_SCHEDULED, "2025-03-03 12:00", sender=SCHEDULER,
                      contact=None, start="2025-03-05 14:00", interviewers=(ALICE,),
                      calendar=_calendar(organizer, ALICE))
        assert only(story.decide("2025-03-12 10:00"), DraftKind.FOLLOWUP_1).to == ALICE


def test_a_shared_careers_mailbox_sending_the_invite_is_not_the_contact():
    careers = Address("Acme Careers", "careers@acme.example")
    story = Story()
    story.inbound(Label.INTERVIEW_SCHEDULED, "2025-03-03 12:00", sender=careers, contact=None,
                  start="2025-03-05 14:00", interviewers=(ALICE,))
    assert only(story.decide("2025-03-12 10:00"), DraftKind.FOLLOWUP_1).to == ALICE


def test_each_round_follows_up_with_its_own_organizer():
    coordinator = Address("Cora Coordinator", "cora@acme.example")
    story = Story()
    scheduled_interview(story, invited="2025-03-03 10:00", start="2025-03-05 14:00")
    story.inbound(Label.INTERVIEW_SCHEDULED, "2025-03-07 10:00", sender=coordinator,
                  contact=coordinator, start="2025-03-12 11:00", interviewers=(ALICE, BOB))
    decision = story.decide("2025-03-19 10:00")
    assert only(decision, DraftKind.FOLLOWUP_1).to == coordinator


def test_a_rejection_written_by_a_person_is_answered_to_that_person():
    story = Story()
    scheduled_interview(story, invited="2025-03-03 10:00", start="2025-03-05 14:00",
                        interviewers=(BOB,))
    story.inbound(Label.REJECTION, "2025-03-10 16:00", sender=BOB, contact=BOB)
    assert only(story.decide("2025-03-10 16:05"), DraftKind.REJECTION_REPLY).to == BOB


def test_good_news_from_a_no_reply_address_is_answered_to_the_organizer():
    story = Story()
    story.inbound(Label.INTERVIEW_SCHEDULED, "2025-03-03 12:00", sender=RECRUITER, contact=ALICE,
                  start="2025-03-05 14:00", interviewers=(ALICE,),
                  calendar=_calendar(RECRUITER, ALICE))
    story.inbound(Label.POSITIVE, "2025-03-07 10:00", sender=ATS, contact=None)
    assert only(story.decide("2025-03-07 10:05"), DraftKind.POSITIVE_REPLY).to == RECRUITER


# --- which company a sent follow-up names ----------------------------------------------------


def _fernhill() -> Story:
    gwen = Address("Gwen Osei", "gwen.osei@fernhillcu.example")
    story = Story(company="Fernhillcu", role="Business Intelligence Analyst")
    story.inbound(Label.INTERVIEW_SCHEDULED, "2025-03-03 12:00", sender=gwen, contact=gwen,
                  start="2025-03-05 11:00")
    return story


def test_the_company_the_extractor_read_from_a_sent_mail_is_checked_robustly():
    gwen = Address("Gwen Osei", "gwen.osei@fernhillcu.example")
    story = _fernhill()
    story.outbound("2025-03-10 08:15", to=(gwen,), company="Fernhill Credit Union",
                   text="I look forward to hearing from you.")
    assert "correction" not in kinds(story.decide("2025-03-10 08:20"))
    story = _fernhill()
    story.outbound("2025-03-10 08:15", to=(gwen,), company="Harbor & Pine Health",
                   text="I look forward to hearing from you.")
    fix = only(story.decide("2025-03-10 08:20"), DraftKind.CORRECTION)
    assert (fix.wrong_company, fix.to) == ("Harbor & Pine Health", gwen)


def test_the_wording_of_a_sent_mail_is_checked_when_the_extractor_named_no_company():
    story = _fernhill()
    story.outbound("2025-03-10 08:15", to=(Address("Gwen Osei", "gwen.osei@fernhillcu.example"),),
                   text="Our conversation left me even more excited about the possibility of "
                        "joining Harbor & Pine Health.\n\nBest,\nDana")
    assert only(story.decide("2025-03-10 08:20"), DraftKind.CORRECTION).wrong_company == (
        "Harbor & Pine Health")


@pytest.mark.parametrize("text", [
    "I'd love to join Gwen's team.",
    "In my role at Parcelbright I rebuilt the churn dashboards.",
    "I am excited about joining Fernhill Credit Union.",
    "Thanks again for the interview on Wednesday, March 4.",
    "I remain excited about the analyst position at Fernhill.",
])
def test_wording_that_names_the_right_company_or_none_is_not_a_mistake(text):
    story = _fernhill()
    story.outbound("2025-03-10 08:15", to=(Address("Gwen Osei", "gwen.osei@fernhillcu.example"),),
                   text=text)
    assert "correction" not in kinds(story.decide("2025-03-10 08:20"))


def test_the_employers_domain_counts_as_its_name_when_the_application_has_none():
    story = Story(company=None)
    scheduled_interview(story, invited="2025-03-03 10:00", start="2025-03-05 14:00")
    story.outbound("2025-03-10 10:00", text="I would love to join Acme.")
    assert "correction" not in kinds(story.decide("2025-03-10 10:05"))
    story.outbound("2025-03-11 10:00", text="I would love to join Globex.")
    assert only(story.decide("2025-03-11 10:05"), DraftKind.CORRECTION).wrong_company == "Globex"


@pytest.mark.parametrize(("a", "b", "same"), [
    ("Fernhill Credit Union", "Fernhillcu", True),
    ("Fernhill Credit Union", "FCU", True),
    ("Harbor & Pine Health", "Harborpine", True),
    ("Harbor and Pine Health", "Harbor & Pine Health, Inc.", True),
    ("Cobalt Ridge Software", "Cobaltridge", True),
    ("Nordlicht Mobility GmbH", "nordlicht-mobility", True),
    ("ACME Inc.", "Acme", True),
    ("Harbor & Pine Health", "Fernhill Credit Union", False),
    ("Harbor & Pine Health", "Fernhillcu", False),
    ("Globex", "Acme", False),
    ("Fernhill Capital", "fcu", False),
])
def test_same_company(a, b, same):
    assert same_company(a, b) is same
    assert same_company(b, a) is same


def test_named_companies_reads_only_the_users_own_words():
    text = "Thanks again!\n\nOn Tue, Rita wrote:\n> We are excited about you joining Globex."
    assert named_companies(text) == []
    assert named_companies("the BI Analyst role at Globex Corp. Joining Monday.") == [
        "Globex Corp"]


def test_settings_refuse_a_negative_early_margin():
    with pytest.raises(ValueError, match="thank_you_counts_after"):
        PolicySettings(tz=Story().tz, thank_you_counts_after=timedelta(minutes=-1))


def test_a_thank_you_never_answers_a_calendar_notification_but_the_recruiters_own_mail():
    from followup.core.model import CalendarEvent

    story = Story()
    invitation = story.inbound(Label.INTERVIEW_INVITATION, "2025-03-01 10:00", subject="Interview at Acme",
                               text="Would Wednesday at 2pm work for a 45-minute interview?")
    event = CalendarEvent(method="REQUEST", uid="u1", sequence=0, start=None, end=None, summary="Interview",
                          organizer=RECRUITER)
    story.inbound(Label.INTERVIEW_SCHEDULED, "2025-03-03 12:00", start="2025-03-05 14:00",
                  subject="Invitation: Interview @ Wed Mar 5, 2pm - 2:45pm (EST)", calendar=(event,))
    thanks = only(story.decide("2025-03-05 15:00"), DraftKind.THANK_YOU)
    assert thanks.reply_to == invitation


def test_with_only_calendar_notifications_the_thank_you_starts_a_fresh_thread():
    from followup.core.model import CalendarEvent

    story = Story()
    event = CalendarEvent(method="REQUEST", uid="u1", sequence=0, start=None, end=None, summary="Interview",
                          organizer=RECRUITER)
    story.inbound(Label.INTERVIEW_SCHEDULED, "2025-03-03 12:00", start="2025-03-05 14:00",
                  subject="Invitation: Interview @ Wed Mar 5, 2pm - 2:45pm (EST)", calendar=(event,))
    thanks = only(story.decide("2025-03-05 15:00"), DraftKind.THANK_YOU)
    assert thanks.reply_to is None and thanks.to == RECRUITER
