"""SPEC §3, row by row: what ``decide`` drafts, when, to whom, and which stage it reports.

Times are local wall times of the story's zone (New York unless a test says otherwise).
The policy never reads the clock, so ``now`` is simply passed; one test freezes time to a
nonsense date to show the wall clock plays no part.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from freezegun import freeze_time

from followup.core.model import (
    Address,
    CalendarEvent,
    DraftFate,
    DraftKind,
    Label,
    Stage,
)
from followup.core.policy import (
    SCHEDULE,
    TRANSITIONS,
    Event,
    PolicySettings,
    decide,
    draft_key,
    holds_placeholder,
    kind_of_key,
    PLACEHOLDER_MARKER,
)
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

NY = ZoneInfo("America/New_York")


def interviewed(story: Story | None = None, *, start: str = "2025-03-05 14:00",
                invited: str = "2025-03-03 10:00", **kw) -> Story:
    story = story or Story()
    scheduled_interview(story, invited=invited, start=start, **kw)
    return story


def utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


# --- the tables --------------------------------------------------------------------------


def test_every_stage_has_a_row_in_the_transition_table():
    assert set(TRANSITIONS) == {None, *Stage}


def test_every_transition_leads_to_a_stage():
    for row in TRANSITIONS.values():
        for event, target in row.items():
            assert isinstance(event, Event) and isinstance(target, Stage)


def test_the_schedule_table_has_one_row_per_draft_kind():
    assert [step.kind for step in SCHEDULE] == list(DraftKind)


def test_the_ladder_delays_in_the_schedule_name_real_settings():
    settings = PolicySettings(tz=NY)
    for step in SCHEDULE:
        if step.delay:
            assert isinstance(getattr(settings, step.delay), int)


# --- thank-you ---------------------------------------------------------------------------


def test_thank_you_is_due_the_moment_the_interview_ends():
    decision = interviewed().decide("2025-03-05 14:50")
    thanks = only(decision, DraftKind.THANK_YOU)
    assert thanks.due == at("2025-03-05 14:45")  # start + 45 minutes
    assert thanks.to == RECRUITER
    assert decision.stage is Stage.INTERVIEWED


def test_thank_you_is_listed_before_the_interview_as_upcoming_with_a_wakeup_at_its_end():
    decision = interviewed().decide("2025-03-04 09:00")
    assert only(decision, DraftKind.THANK_YOU).due == at("2025-03-05 14:45")
    assert decision.stage is Stage.SCHEDULED
    assert decision.next_wakeup == at("2025-03-05 14:45")


def test_thank_you_uses_the_stated_end_of_the_interview_when_known():
    story = Story()
    story.inbound(Label.INTERVIEW_SCHEDULED, "2025-03-03 12:00", start="2025-03-05 14:00",
                  end="2025-03-05 16:00")
    assert only(story.decide("2025-03-05 17:00"), DraftKind.THANK_YOU).due == at("2025-03-05 16:00")


def test_thank_you_uses_the_configured_interview_duration():
    decision = interviewed().decide("2025-03-05 16:00", interview_duration=timedelta(minutes=90))
    assert only(decision, DraftKind.THANK_YOU).due == at("2025-03-05 15:30")


def test_one_thank_you_per_interviewer_each_to_that_person():
    decision = interviewed(interviewers=(ALICE, BOB)).decide("2025-03-05 15:00")
    notes = [d for d in decision.drafts if d.kind is DraftKind.THANK_YOU]
    assert {d.to for d in notes} == {ALICE, BOB}
    assert {d.interviewer for d in notes} == {ALICE, BOB}
    assert len({d.key for d in notes}) == 2


def test_several_thank_yous_start_fresh_threads_and_a_single_one_answers_the_confirmation():
    several = interviewed(interviewers=(ALICE, BOB)).decide("2025-03-05 15:00")
    assert all(d.reply_to is None for d in several.drafts if d.kind is DraftKind.THANK_YOU)
    single = interviewed().decide("2025-03-05 15:00")
    assert only(single, DraftKind.THANK_YOU).reply_to.subject == "Interview confirmed"


def test_the_user_and_no_reply_addresses_are_never_interviewers():
    decision = interviewed(interviewers=(ALICE, USER, ATS)).decide("2025-03-05 15:00")
    assert [d.to for d in decision.drafts if d.kind is DraftKind.THANK_YOU] == [ALICE]


def test_no_thank_you_when_the_user_already_sent_one_by_hand():
    story = interviewed()
    story.outbound("2025-03-05 17:00", to=(RECRUITER,), text="Thank you for today!")
    decision = story.decide("2025-03-05 18:00")
    assert DraftKind.THANK_YOU.value not in kinds(decision)
    assert decision.stage is Stage.WAITING


def test_a_hand_written_thank_you_to_one_interviewer_leaves_the_others_their_draft():
    story = interviewed(interviewers=(ALICE, BOB))
    story.outbound("2025-03-05 17:00", to=(ALICE,))
    decision = story.decide("2025-03-05 18:00")
    assert [d.to for d in decision.drafts if d.kind is DraftKind.THANK_YOU] == [BOB]


def test_no_thank_you_once_the_user_sent_ours():
    story = interviewed()
    story.send(only(story.decide("2025-03-05 15:00"), DraftKind.THANK_YOU), "2025-03-05 16:00")
    assert DraftKind.THANK_YOU.value not in kinds(story.decide("2025-03-05 17:00"))


def test_no_thank_you_when_the_interview_ended_more_than_72_hours_before_we_learned_of_it():
    story = Story()
    story.inbound(Label.INTERVIEW_SCHEDULED, "2025-03-01 12:00", start="2025-03-05 14:00",
                  learned="2025-03-08 14:46")
    assert DraftKind.THANK_YOU.value not in kinds(story.decide("2025-03-08 15:00"))


def test_a_thank_you_learned_of_within_72_hours_is_still_drafted():
    story = Story()
    story.inbound(Label.INTERVIEW_SCHEDULED, "2025-03-01 12:00", start="2025-03-05 14:00",
                  learned="2025-03-08 14:00")
    assert only(story.decide("2025-03-08 14:05"), DraftKind.THANK_YOU)


def test_a_thank_you_not_sent_within_72_hours_is_withdrawn_from_the_plan():
    story = interviewed()
    assert only(story.decide("2025-03-08 14:45"), DraftKind.THANK_YOU)
    assert "thank_you" not in kinds(story.decide("2025-03-08 14:46"))


def test_no_thank_you_after_a_rejection_that_followed_the_interview():
    story = interviewed()
    story.inbound(Label.REJECTION, "2025-03-05 16:00")
    assert DraftKind.THANK_YOU.value not in kinds(story.decide("2025-03-05 17:00"))


def test_thank_you_in_tokyo_is_due_at_the_local_end_of_the_interview():
    story = interviewed(Story(tz=ZoneInfo("Asia/Tokyo")), invited="2025-03-03 10:00",
                        start="2025-03-05 10:00")
    thanks = only(story.decide("2025-03-05 11:00"), DraftKind.THANK_YOU)
    assert utc(thanks.due) == datetime(2025, 3, 5, 1, 45, tzinfo=UTC)


def test_the_stage_moves_from_interviewed_to_waiting_after_24_hours_without_a_thank_you():
    story = interviewed()
    assert story.decide("2025-03-06 14:00").stage is Stage.INTERVIEWED
    assert story.decide("2025-03-06 15:00").stage is Stage.WAITING


# --- follow-up 1 -------------------------------------------------------------------------


def test_followup_1_is_due_seven_days_after_the_interview_at_nine_in_the_morning():
    decision = interviewed(start="2025-03-13 14:00", invited="2025-03-10 10:00").decide(
        "2025-03-14 10:00")
    assert only(decision, DraftKind.FOLLOWUP_1).due == at("2025-03-20 09:00")


def test_followup_1_keeps_nine_oclock_local_across_the_us_spring_dst_change():
    decision = interviewed().decide("2025-03-06 10:00")  # interview Wed 5 March, EST
    due = only(decision, DraftKind.FOLLOWUP_1).due
    assert due == at("2025-03-12 09:00")  # EDT by then
    assert utc(due) == datetime(2025, 3, 12, 13, tzinfo=UTC)


def test_followup_1_keeps_nine_oclock_local_across_the_us_autumn_dst_change():
    decision = interviewed(start="2025-10-29 14:00", invited="2025-10-27 10:00").decide(
        "2025-10-30 10:00")
    assert utc(only(decision, DraftKind.FOLLOWUP_1).due) == datetime(2025, 11, 5, 14, tzinfo=UTC)


def test_followup_1_keeps_nine_oclock_local_across_the_eu_autumn_dst_change():
    story = interviewed(Story(tz=ZoneInfo("Europe/Berlin")), start="2025-10-20 14:00",
                        invited="2025-10-15 10:00")
    due = only(story.decide("2025-10-21 10:00", country="DE", subdivision="BY"),
               DraftKind.FOLLOWUP_1).due
    assert utc(due) == datetime(2025, 10, 27, 8, tzinfo=UTC)  # 09:00 CET


def test_followup_1_keeps_nine_oclock_local_across_the_eu_spring_dst_change():
    story = interviewed(Story(tz=ZoneInfo("Europe/Berlin")), start="2025-03-27 14:00",
                        invited="2025-03-24 10:00")
    due = only(story.decide("2025-03-28 10:00", country="DE"), DraftKind.FOLLOWUP_1).due
    assert utc(due) == datetime(2025, 4, 3, 7, tzinfo=UTC)  # 09:00 CEST


def test_followup_1_moves_off_thanksgiving_to_the_next_business_day():
    decision = interviewed(start="2025-11-20 14:00", invited="2025-11-17 10:00").decide(
        "2025-11-21 10:00")
    assert only(decision, DraftKind.FOLLOWUP_1).due == at("2025-11-28 09:00")


def test_followup_1_moves_off_a_weekend_when_the_interview_was_on_a_saturday():
    decision = interviewed(start="2025-03-08 11:00", invited="2025-03-03 10:00").decide(
        "2025-03-09 10:00")
    assert only(decision, DraftKind.FOLLOWUP_1).due == at("2025-03-17 09:00")


def test_followup_1_moves_off_corpus_christi_in_bavaria_but_not_in_berlin():
    def due(subdivision: str):
        story = interviewed(Story(tz=ZoneInfo("Europe/Berlin")), start="2025-06-12 10:00",
                            invited="2025-06-06 10:00")
        decision = story.decide("2025-06-13 10:00", country="DE", subdivision=subdivision)
        return only(decision, DraftKind.FOLLOWUP_1).due.date()

    assert due("BY") == date(2025, 6, 20)
    assert due("BE") == date(2025, 6, 19)


def test_followup_1_comes_the_business_day_after_a_stated_decision_date():
    story = interviewed(decision=date(2025, 3, 14))  # "we'll decide by Friday the 14th"
    assert only(story.decide("2025-03-06 10:00"), DraftKind.FOLLOWUP_1).due == at(
        "2025-03-17 09:00")


def test_a_decision_date_stated_in_the_invitation_counts():
    story = Story()
    story.inbound(Label.INTERVIEW_INVITATION, "2025-03-03 10:00", decision=date(2025, 3, 20))
    story.inbound(Label.INTERVIEW_SCHEDULED, "2025-03-03 12:00", start="2025-03-05 14:00")
    assert only(story.decide("2025-03-06 10:00"), DraftKind.FOLLOWUP_1).due == at(
        "2025-03-21 09:00")


def test_a_decision_date_before_the_interview_is_not_about_the_decision():
    story = interviewed(decision=date(2025, 3, 4))
    assert only(story.decide("2025-03-06 10:00"), DraftKind.FOLLOWUP_1).due == at(
        "2025-03-12 09:00")


def test_a_decision_date_before_good_friday_in_germany_waits_for_easter_tuesday():
    story = interviewed(Story(tz=ZoneInfo("Europe/Berlin")), start="2025-04-09 10:00",
                        invited="2025-04-01 10:00", decision=date(2025, 4, 17))
    decision = story.decide("2025-04-10 10:00", country="DE", subdivision="BY")
    assert only(decision, DraftKind.FOLLOWUP_1).due.date() == date(2025, 4, 22)


def test_the_morning_hour_is_configurable():
    decision = interviewed().decide("2025-03-06 10:00", morning_hour=7)
    assert only(decision, DraftKind.FOLLOWUP_1).due == at("2025-03-12 07:00")


def test_followup_1_in_los_angeles_is_nine_in_the_morning_pacific():
    story = interviewed(Story(tz=ZoneInfo("America/Los_Angeles")))
    due = only(story.decide("2025-03-06 10:00"), DraftKind.FOLLOWUP_1).due
    assert utc(due) == datetime(2025, 3, 12, 16, tzinfo=UTC)


def test_followup_1_goes_to_the_recruiter_in_the_latest_conversation():
    followup = only(interviewed().decide("2025-03-12 10:00"), DraftKind.FOLLOWUP_1)
    assert followup.to == RECRUITER
    assert followup.reply_to.subject == "Interview confirmed"


def test_no_followup_after_an_employer_reply():
    story = interviewed()
    story.inbound(Label.POSITIVE, "2025-03-07 10:00", subject="Good news")
    decision = story.decide("2025-03-20 10:00")
    assert not {"followup_1", "followup_2", "followup_final"} & set(kinds(decision))
    assert decision.stage is Stage.ADVANCING


def test_a_hand_written_follow_up_counts_as_followup_1():
    story = interviewed()
    story.outbound("2025-03-11 10:00", text="Just checking in on the role.")
    decision = story.decide("2025-03-12 10:00")
    assert only(decision, DraftKind.FOLLOWUP_2).due == at("2025-03-18 09:00")
    assert decision.stage is Stage.FOLLOWED_UP
    assert decision.followups_sent == 1


# --- follow-up 2, final, stop ------------------------------------------------------------


def _send_ladder(story: Story, *sends: str):
    """Send each next follow-up at the given local times; return the last decision."""
    decision = None
    for when in sends:
        decision = story.decide(when)
        rung = next(d for d in decision.drafts if d.kind.value.startswith("followup"))
        story.send(rung, when)
    return story.decide(sends[-1])


def test_followup_2_is_due_seven_days_after_the_user_sent_followup_1():
    story = interviewed()
    decision = _send_ladder(story, "2025-03-12 11:00")
    assert only(decision, DraftKind.FOLLOWUP_2).due == at("2025-03-19 09:00")
    assert decision.stage is Stage.FOLLOWED_UP


def test_followup_2_moves_to_a_business_day_when_seven_days_after_sending_is_a_holiday():
    story = interviewed(start="2025-11-12 14:00", invited="2025-11-10 10:00")
    decision = _send_ladder(story, "2025-11-20 11:00")
    assert only(decision, DraftKind.FOLLOWUP_2).due == at("2025-11-28 09:00")


def test_followup_2_never_comes_while_followup_1_sits_unsent_in_drafts():
    story = interviewed()
    first = only(story.decide("2025-03-12 09:00"), DraftKind.FOLLOWUP_1)
    story.draft(first.key, first.kind, DraftFate.PLACED, "2025-03-12 09:00")
    decision = story.decide("2025-04-30 09:00")
    assert kinds(decision) == ["followup_1"]  # still the same step, still not sent


def test_a_dismissed_followup_1_is_not_proposed_again_and_nothing_follows_it():
    story = interviewed()
    first = only(story.decide("2025-03-12 09:00"), DraftKind.FOLLOWUP_1)
    story.draft(first.key, first.kind, DraftFate.DISMISSED, "2025-03-12 09:00")
    assert kinds(story.decide("2025-04-30 09:00")) == []


def test_an_edited_draft_is_never_proposed_again():
    story = interviewed()
    first = only(story.decide("2025-03-12 09:00"), DraftKind.FOLLOWUP_1)
    story.draft(first.key, first.kind, DraftFate.EDITED, "2025-03-12 09:00")
    assert kinds(story.decide("2025-03-13 09:00")) == []


def test_followup_1_found_in_sent_counts_even_without_a_journal_record():
    story = interviewed()
    first = only(story.decide("2025-03-12 09:00"), DraftKind.FOLLOWUP_1)
    story.outbound("2025-03-12 10:00", key=first.key)
    assert only(story.decide("2025-03-13 09:00"), DraftKind.FOLLOWUP_2).due == at(
        "2025-03-19 09:00")


def test_the_final_follow_up_is_due_fourteen_days_after_followup_2_was_sent():
    story = interviewed()
    decision = _send_ladder(story, "2025-03-12 11:00", "2025-03-19 11:00")
    final = only(decision, DraftKind.FOLLOWUP_FINAL)
    assert final.due == at("2025-04-02 09:00")
    assert decision.followups_sent == 2


def test_fourteen_days_after_the_final_follow_up_the_application_is_no_response():
    story = interviewed()
    _send_ladder(story, "2025-03-12 11:00", "2025-03-19 11:00", "2025-04-02 11:00")
    before = story.decide("2025-04-15 09:00")
    assert before.stage is Stage.FOLLOWED_UP and before.next_wakeup == at("2025-04-16 09:00")
    after = story.decide("2025-04-16 09:00")
    assert after.stage is Stage.NO_RESPONSE
    assert after.drafts == ()
    assert [n.kind for n in after.notes] == ["move_on"]


def test_a_reply_after_no_response_reopens_the_application():
    story = interviewed()
    _send_ladder(story, "2025-03-12 11:00", "2025-03-19 11:00", "2025-04-02 11:00")
    story.inbound(Label.REJECTION, "2025-04-20 10:00", subject="Your application")
    decision = story.decide("2025-04-20 11:00")
    assert decision.stage is Stage.REJECTED
    assert kinds(decision) == ["rejection_reply"]


def test_never_more_than_max_followups():
    story = interviewed()
    _send_ladder(story, "2025-03-12 11:00", "2025-03-19 11:00")
    decision = story.decide("2025-03-26 09:00", max_followups=2)
    assert kinds(decision) == []
    assert story.decide("2025-04-02 09:00", max_followups=2).stage is Stage.NO_RESPONSE


def test_with_two_follow_ups_the_second_is_the_final_one():
    story = interviewed()
    decision = _send_ladder(story, "2025-03-12 11:00")
    assert only(story.decide("2025-03-12 12:00", max_followups=2),
                DraftKind.FOLLOWUP_FINAL).due == at("2025-03-26 09:00")
    assert decision  # the default ladder still has a second follow-up


def test_with_no_follow_ups_allowed_only_the_thank_you_is_drafted():
    decision = interviewed().decide("2025-03-05 15:00", max_followups=0)
    assert kinds(decision) == ["thank_you"]
    assert interviewed().decide("2025-03-19 15:00", max_followups=0).stage is Stage.NO_RESPONSE


# --- out of office, timeline updates ------------------------------------------------------


def test_an_out_of_office_reply_holds_the_next_follow_up_until_after_the_return_date():
    story = interviewed()
    story.inbound(Label.OUT_OF_OFFICE, "2025-03-05 18:00", ooo_return=date(2025, 3, 14),
                  subject="Out of office")
    decision = story.decide("2025-03-12 09:00")
    assert only(decision, DraftKind.FOLLOWUP_1).due == at("2025-03-17 09:00")
    assert decision.stage is not Stage.ADVANCING


def test_an_out_of_office_return_before_the_due_date_changes_nothing():
    story = interviewed()
    story.inbound(Label.OUT_OF_OFFICE, "2025-03-05 18:00", ooo_return=date(2025, 3, 7))
    assert only(story.decide("2025-03-12 09:00"), DraftKind.FOLLOWUP_1).due == at(
        "2025-03-12 09:00")


def test_an_out_of_office_reply_to_followup_1_holds_followup_2():
    story = interviewed()
    _send_ladder(story, "2025-03-12 11:00")
    story.inbound(Label.OUT_OF_OFFICE, "2025-03-12 11:01", ooo_return=date(2025, 3, 21))
    assert only(story.decide("2025-03-13 09:00"), DraftKind.FOLLOWUP_2).due == at(
        "2025-03-24 09:00")


def test_a_timeline_update_moves_followup_1_to_the_business_day_after_the_new_date():
    story = interviewed()
    story.inbound(Label.TIMELINE_UPDATE, "2025-03-10 10:00", decision=date(2025, 3, 21))
    decision = story.decide("2025-03-12 09:00")
    assert only(decision, DraftKind.FOLLOWUP_1).due == at("2025-03-24 09:00")
    assert decision.stage is Stage.WAITING


def test_a_timeline_update_after_followup_1_moves_followup_2_without_restarting_the_count():
    story = interviewed()
    _send_ladder(story, "2025-03-12 11:00")
    story.inbound(Label.TIMELINE_UPDATE, "2025-03-13 10:00", decision=date(2025, 3, 28))
    decision = story.decide("2025-03-19 09:00")
    assert only(decision, DraftKind.FOLLOWUP_2).due == at("2025-03-31 09:00")
    assert decision.stage is Stage.FOLLOWED_UP


def test_a_timeline_update_without_a_date_starts_the_wait_again():
    story = interviewed()
    story.inbound(Label.TIMELINE_UPDATE, "2025-03-10 10:00")
    assert only(story.decide("2025-03-12 09:00"), DraftKind.FOLLOWUP_1).due == at(
        "2025-03-17 09:00")


# --- rejection ---------------------------------------------------------------------------


def test_a_rejection_after_the_interview_gets_a_reply_at_once_to_the_human_contact():
    story = interviewed()
    rejection = story.inbound(Label.REJECTION, "2025-03-10 16:20", sender=ATS, contact=None,
                              subject="Update on your application")
    decision = story.decide("2025-03-10 16:30")
    reply = only(decision, DraftKind.REJECTION_REPLY)
    assert reply.due == at("2025-03-10 16:20")
    assert reply.to == RECRUITER  # the ATS no-reply address is never a recipient
    assert reply.reply_to == rejection
    assert decision.stage is Stage.REJECTED
    assert "followup_1" not in kinds(decision)


def test_never_a_second_reply_to_a_rejection():
    story = interviewed()
    story.inbound(Label.REJECTION, "2025-03-10 16:20")
    story.send(only(story.decide("2025-03-10 16:30"), DraftKind.REJECTION_REPLY),
               "2025-03-10 17:00")
    story.inbound(Label.REJECTION, "2025-03-11 10:00")
    assert kinds(story.decide("2025-03-11 11:00")) == []


def test_a_rejection_before_any_interview_closes_the_application_without_a_draft():
    story = Story()
    story.inbound(Label.ACKNOWLEDGEMENT, "2025-03-01 10:00", sender=ATS, contact=None)
    story.inbound(Label.REJECTION, "2025-03-04 10:00", sender=ATS, contact=None)
    decision = story.decide("2025-03-04 11:00")
    assert decision.stage is Stage.REJECTED
    assert decision.drafts == ()


def test_a_rejection_before_any_interview_gets_a_reply_when_the_setting_asks_for_it():
    story = Story()
    story.inbound(Label.REJECTION, "2025-03-04 10:00")
    decision = story.decide("2025-03-04 11:00", reply_to_early_rejection=True)
    assert only(decision, DraftKind.REJECTION_REPLY).to == RECRUITER


def test_sending_another_of_our_drafts_is_not_an_answer_to_the_rejection():
    story = interviewed()
    thanks = only(story.decide("2025-03-05 15:00"), DraftKind.THANK_YOU)
    story.inbound(Label.REJECTION, "2025-03-05 16:00")
    story.send(thanks, "2025-03-05 17:00")  # it was already in Drafts
    assert kinds(story.decide("2025-03-05 18:00")) == ["rejection_reply"]


def test_no_rejection_reply_when_the_user_already_answered_by_hand():
    story = interviewed()
    story.inbound(Label.REJECTION, "2025-03-10 16:20")
    story.outbound("2025-03-10 18:00", text="Thanks for letting me know.")
    assert kinds(story.decide("2025-03-10 19:00")) == []


# --- positive answers and new rounds ------------------------------------------------------


def test_good_news_gets_a_reply_at_once():
    story = interviewed()
    news = story.inbound(Label.POSITIVE, "2025-03-07 10:00", subject="Next steps")
    decision = story.decide("2025-03-07 10:05")
    reply = only(decision, DraftKind.POSITIVE_REPLY)
    assert (reply.due, reply.to, reply.reply_to) == (at("2025-03-07 10:00"), RECRUITER, news)
    assert decision.stage is Stage.ADVANCING


def test_good_news_that_books_the_next_interview_is_a_new_round_not_a_positive_reply():
    story = interviewed()
    story.send(only(story.decide("2025-03-05 15:00"), DraftKind.THANK_YOU), "2025-03-05 16:00")
    invite = CalendarEvent("REQUEST", "uid-2", 0, None, None, "Round 2", RECRUITER)
    story.inbound(Label.POSITIVE, "2025-03-07 10:00", start="2025-03-12 11:00",
                  calendar=(invite,), subject="Great news: round 2")
    decision = story.decide("2025-03-07 11:00")
    assert decision.stage is Stage.SCHEDULED and decision.round == 2
    assert "positive_reply" not in kinds(decision)
    round_2 = only(decision, DraftKind.THANK_YOU)
    assert round_2.round == 2 and round_2.due == at("2025-03-12 11:45")
    # Round 1's ladder stopped; the only follow-up listed is round 2's, after its interview.
    assert [(d.round, d.due) for d in decision.drafts if d.kind is DraftKind.FOLLOWUP_1] == [
        (2, at("2025-03-19 09:00"))]


def test_a_new_invitation_after_the_interview_starts_a_new_round_and_stops_the_ladder():
    story = interviewed()
    story.inbound(Label.INTERVIEW_INVITATION, "2025-03-07 10:00", subject="Second round?")
    decision = story.decide("2025-03-13 10:00")
    assert decision.stage is Stage.INVITED
    assert decision.round == 2
    assert kinds(decision) == []


def test_each_round_has_its_own_thank_you_key():
    story = interviewed()
    first = only(story.decide("2025-03-05 15:00"), DraftKind.THANK_YOU)
    story.inbound(Label.INTERVIEW_SCHEDULED, "2025-03-07 10:00", start="2025-03-12 11:00")
    second = only(story.decide("2025-03-12 12:00"), DraftKind.THANK_YOU)
    assert first.key != second.key
    assert (first.round, second.round) == (1, 2)


def test_a_cancelled_interview_goes_back_to_invited_with_no_thank_you():
    story = interviewed()
    story.inbound(Label.INTERVIEW_CANCELLED, "2025-03-04 10:00")
    decision = story.decide("2025-03-05 16:00")
    assert decision.stage is Stage.INVITED
    assert decision.drafts == ()


def test_a_rescheduled_interview_gets_its_thank_you_at_the_new_time():
    story = interviewed()
    story.inbound(Label.INTERVIEW_SCHEDULED, "2025-03-04 10:00", start="2025-03-06 10:00")
    decision = story.decide("2025-03-06 11:00")
    assert only(decision, DraftKind.THANK_YOU).due == at("2025-03-06 10:45")
    assert decision.round == 1


def test_a_cancellation_after_the_interview_is_calendar_clean_up_and_changes_nothing():
    story = interviewed()
    story.inbound(Label.INTERVIEW_CANCELLED, "2025-03-06 10:00")
    decision = story.decide("2025-03-12 10:00")
    assert decision.stage is Stage.WAITING
    assert "followup_1" in kinds(decision)


def test_an_acknowledgement_opens_the_application_as_applied_with_no_draft():
    story = Story()
    story.inbound(Label.ACKNOWLEDGEMENT, "2025-03-01 10:00", sender=ATS, contact=None)
    decision = story.decide("2025-03-20 10:00")
    assert decision.stage is Stage.APPLIED
    assert decision.drafts == ()
    assert decision.changes[0].stage is Stage.APPLIED


# --- low confidence ----------------------------------------------------------------------


def test_a_low_confidence_label_drafts_nothing_and_asks_the_user_to_confirm():
    story = interviewed()
    doubtful = story.inbound(Label.REJECTION, "2025-03-10 10:00", confidence=0.4)
    decision = story.decide("2025-03-10 11:00")
    assert "rejection_reply" not in kinds(decision)
    assert decision.stage is Stage.WAITING
    notes = [(n.kind, n.message_id) for n in decision.notes]
    assert ("please_confirm", doubtful.message_id) in notes


def test_a_confirmed_label_counts_like_any_other():
    story = interviewed()
    story.inbound(Label.REJECTION, "2025-03-10 10:00", confidence=1.0)
    assert kinds(story.decide("2025-03-10 11:00")) == ["rejection_reply"]


def test_the_confidence_threshold_is_a_setting():
    story = interviewed()
    story.inbound(Label.REJECTION, "2025-03-10 10:00", confidence=0.4)
    assert kinds(story.decide("2025-03-10 11:00", confidence_threshold=0.3)) == ["rejection_reply"]


# --- recipients --------------------------------------------------------------------------


def test_with_no_human_contact_the_draft_has_no_recipient_and_the_digest_says_so():
    story = Story()
    story.inbound(Label.INTERVIEW_SCHEDULED, "2025-03-03 12:00", sender=SCHEDULER, contact=None,
                  start="2025-03-05 14:00")
    decision = story.decide("2025-03-05 15:00")
    assert only(decision, DraftKind.THANK_YOU).to is None
    assert "find_contact" in [n.kind for n in decision.notes]


def test_the_calendar_organizer_is_the_recipient_when_a_scheduling_tool_sent_the_invite():
    story = Story()
    confirmation = story.inbound(Label.INTERVIEW_SCHEDULED, "2025-03-03 12:00", sender=SCHEDULER,
                                 contact=ALICE, start="2025-03-05 14:00")
    thanks = only(story.decide("2025-03-05 15:00"), DraftKind.THANK_YOU)
    assert thanks.to == ALICE
    assert thanks.reply_to == confirmation  # answers the tool's thread, addressed to a person


def test_a_no_reply_contact_is_never_a_recipient():
    story = Story()
    story.inbound(Label.INTERVIEW_SCHEDULED, "2025-03-03 12:00", sender=ATS, contact=ATS,
                  start="2025-03-05 14:00")
    assert only(story.decide("2025-03-05 15:00"), DraftKind.THANK_YOU).to is None


# --- corrections -------------------------------------------------------------------------


def test_a_sent_follow_up_naming_another_company_gets_a_quick_correction():
    story = interviewed()
    sent = story.outbound("2025-03-12 10:00", company="Globex",
                          text="I remain excited about joining Globex.")
    decision = story.decide("2025-03-12 10:05")
    fix = only(decision, DraftKind.CORRECTION)
    assert (fix.wrong_company, fix.reply_to, fix.to) == ("Globex", sent, RECRUITER)
    assert "check_sent_followup" in [n.kind for n in decision.notes]


def test_a_sent_draft_still_holding_the_marker_gets_a_quick_correction():
    story = interviewed()
    first = only(story.decide("2025-03-12 09:00"), DraftKind.FOLLOWUP_1)
    story.send(first, "2025-03-12 10:00", text=f"Hi Rita,\n\n{PLACEHOLDER_MARKER}\n\nBest")
    fix = only(story.decide("2025-03-12 10:05"), DraftKind.CORRECTION)
    assert fix.wrong_company is None


def test_a_dismissed_correction_is_not_offered_again_nor_noted():
    story = interviewed()
    story.outbound("2025-03-12 10:00", company="Globex")
    fix = only(story.decide("2025-03-12 10:05"), DraftKind.CORRECTION)
    story.draft(fix.key, fix.kind, DraftFate.DISMISSED, "2025-03-12 10:05")
    decision = story.decide("2025-03-12 11:00")
    assert "correction" not in kinds(decision)
    assert "check_sent_followup" not in [n.kind for n in decision.notes]


def test_the_same_company_with_a_legal_suffix_is_not_a_mistake():
    story = interviewed()
    story.outbound("2025-03-12 10:00", company="ACME Inc.")
    assert "correction" not in kinds(story.decide("2025-03-12 10:05"))


def test_brackets_in_quoted_text_are_not_the_users_placeholder():
    assert not holds_placeholder("Thanks!\n\nOn Tue, Rita wrote:\n> Dear [Candidate Name],")
    assert holds_placeholder("Dear [Interviewer's Name], thank you")
    assert not holds_placeholder("See [1] and the [docs](https://x)")


# --- keys and determinism ----------------------------------------------------------------


def test_keys_are_deterministic_and_name_their_kind():
    key = draft_key("a", "b", DraftKind.FOLLOWUP_2, round=1, step=2)
    assert key == draft_key("a", "b", DraftKind.FOLLOWUP_2, round=1, step=2)
    assert key != draft_key("a", "c", DraftKind.FOLLOWUP_2, round=1, step=2)
    assert kind_of_key(key) is DraftKind.FOLLOWUP_2
    assert kind_of_key("nonsense") is None and kind_of_key(None) is None


def test_deciding_twice_gives_the_same_decision():
    story = interviewed(interviewers=(ALICE, BOB))
    assert story.decide("2025-03-12 10:00") == story.decide("2025-03-12 10:00")


def test_decide_does_not_read_the_wall_clock():
    story = interviewed()
    expected = story.decide("2025-03-12 10:00")
    with freeze_time("1999-12-31 23:59:59"):
        assert story.decide("2025-03-12 10:00") == expected


def test_messages_learned_after_now_are_not_known_yet():
    story = interviewed()
    story.inbound(Label.REJECTION, "2025-03-10 10:00")
    assert story.decide("2025-03-09 10:00").stage is Stage.WAITING


def test_a_date_header_in_the_future_counts_from_when_the_message_was_seen():
    story = interviewed()
    story.inbound(Label.POSITIVE, "2025-03-20 10:00", learned="2025-03-07 10:00")
    reply = only(story.decide("2025-03-07 11:00"), DraftKind.POSITIVE_REPLY)
    assert reply.due == at("2025-03-07 10:00")


def test_a_naive_now_is_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        decide(interviewed().history(), datetime(2025, 3, 5, 12), PolicySettings(tz=NY))


def test_settings_refuse_nonsense_and_unknown_countries():
    with pytest.raises(ValueError, match="morning_hour"):
        PolicySettings(tz=NY, morning_hour=25)
    with pytest.raises(ValueError, match="'XX'"):
        PolicySettings(tz=NY, country="XX")


def test_every_change_is_recorded_with_its_cause():
    story = interviewed()
    _send_ladder(story, "2025-03-12 11:00")
    changes = story.decide("2025-03-13 09:00").changes
    assert [c.stage for c in changes] == [Stage.INVITED, Stage.SCHEDULED, Stage.INTERVIEWED,
                                          Stage.WAITING, Stage.FOLLOWED_UP]
    assert changes[0].cause.endswith(story.items[0].message.message_id)
    assert "followup_1" in changes[-1].cause


def test_stage_changes_of_two_rounds_have_distinct_causes():
    story = interviewed()
    story.inbound(Label.INTERVIEW_SCHEDULED, "2025-03-07 10:00", start="2025-03-12 11:00")
    changes = story.decide("2025-03-20 10:00").changes
    pairs = [(c.stage, c.cause) for c in changes]
    assert len(pairs) == len(set(pairs))
    assert [c.stage for c in changes].count(Stage.WAITING) == 2


def test_an_unknown_user_is_never_confused_with_a_contact():
    stranger = Address("", "someone@acme.example")
    story = interviewed(interviewers=(stranger,))
    assert only(story.decide("2025-03-05 15:00"), DraftKind.THANK_YOU).to == stranger
