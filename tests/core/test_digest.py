"""The digest's content model (pure): sections, ages, the once-only outcomes, strips, subject."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from followup.core.digest import (
    STRIP_DAYS,
    ApplicationIn,
    DigestInput,
    DraftIn,
    EventIn,
    NoteIn,
    UpcomingIn,
    build_digest,
    digest_subject,
)

TZ = ZoneInfo("America/New_York")
NOW = datetime(2026, 3, 10, 12, 30, tzinfo=UTC)  # Tuesday 08:30 in New York


def app(app_id="acme", stage="waiting", *, company="Acme", role="Data Engineer", events=(), **kw) -> ApplicationIn:
    return ApplicationIn(id=app_id, account="home", company=company, role=role, stage=stage,
                         created_at=NOW - timedelta(days=40), events=tuple(events), **kw)


def ev(days_ago: float, stage: str, cause: str, recorded_days_ago: float | None = None) -> EventIn:
    recorded = NOW - timedelta(days=recorded_days_ago if recorded_days_ago is not None else days_ago)
    return EventIn(NOW - timedelta(days=days_ago), stage, cause, recorded)


def draft(app_id="acme", kind="thank_you", *, days_ago=0.1, recipient="alice@acme.example", placeholder=False):
    return DraftIn(key=f"{kind}.{app_id}", application_id=app_id, kind=kind, recipient=recipient,
                   subject="Thank You: Data Engineer Interview", placed_at=NOW - timedelta(days=days_ago),
                   location="Drafts folder of home", holds_placeholder=placeholder)


def data(**kw) -> DigestInput:
    return DigestInput(now=NOW, tz=TZ, **kw)


@pytest.mark.parametrize(("counts", "subject"), [
    ({"drafts": 2, "replies": 1}, "Job search: 2 drafts to send today, 1 reply"),
    ({"drafts": 1, "replies": 3, "confirm": 1}, "Job search: 1 draft to send today, 3 replies, 1 to confirm"),
    ({"drafts": 0, "replies": 0, "due": 2}, "Job search: 2 follow-ups due this week"),
    ({"drafts": 0, "replies": 0}, "Job search: nothing to send today"),
])
def test_the_subject_counts_what_to_do(counts, subject):
    assert digest_subject(**counts) == subject


def test_drafts_are_listed_oldest_first_and_flagged_when_left_unsent_for_more_than_two_days():
    d = build_digest(data(applications=(app(),), drafts=(
        draft(days_ago=0.2), draft(kind="followup_1", days_ago=3.5))))
    assert [(line.kind, line.age_text, line.stale) for line in d.drafts] == [
        ("followup_1", "waiting 3 days", True), ("thank_you", "new", False)]
    assert d.subject == "Job search: 2 drafts to send today"
    assert d.stale_drafts == 1 and d.has_news


def test_a_draft_without_recipient_or_with_the_marked_spot_needs_attention_once_per_application():
    d = build_digest(data(applications=(app(),), drafts=(
        draft(recipient=None, placeholder=True), draft(kind="followup_1", days_ago=0.05, placeholder=True)),
        notes=(NoteIn("acme", "find_contact", "No person to send …"),
               NoteIn("acme", "add_specific_point", "Note one specific point …"))))
    kinds = [(a.kind, a.text) for a in d.attention]
    assert kinds[0] == ("find_contact", "No recipient on the thank-you note: find the right contact and add "
                                        "them before sending.")
    assert kinds[1][0] == "add_specific_point" and "thank-you note and first follow-up still hold" in kinds[1][1]
    assert len(kinds) == 2  # the policy's notes say the same thing: not repeated
    assert d.attention[1].command == 'followup note acme "…"'


def test_please_confirm_gives_the_exact_command():
    d = build_digest(data(applications=(app(stage="applied"),), notes=(
        NoteIn("acme", "please_confirm", "Is 'Chat?' really …", "<m1@acme.example>", NOW - timedelta(hours=5),
               label="interview_invitation", subject="Chat next week?"),
        NoteIn("acme", "please_confirm", "dup", "<m1@acme.example>", NOW, label="interview_invitation"))))
    (line,) = d.confirm
    assert line.command == "followup confirm '<m1@acme.example>' interview_invitation"
    assert line.subject == "Chat next week?"
    assert d.subject == "Job search: 1 to confirm"


def test_outcomes_are_those_learned_since_the_last_digest_and_not_old_mail_read_for_the_first_time():
    since = NOW - timedelta(days=1)
    apps = (
        app("new", "rejected", company="Initech", events=[ev(0.2, "rejected", "rejected: <r1@x>")]),
        app("old", "rejected", company="Hooli", events=[ev(3, "rejected", "rejected: <r2@x>")]),
        # learned this morning, but the message is weeks old (a first sync): not news
        app("late", "rejected", company="Globex", events=[ev(20, "rejected", "rejected: <r3@x>", 0.1)]),
        app("good", "advancing", company="Umbrella", events=[
            ev(0.5, "invited", "<p0@x> (interview_invitation)"), ev(0.3, "advancing", "positive: <p1@x>")]),
        # time events are no replies
        app("time", "waiting", company="Soylent", events=[ev(0.1, "waiting", "thank_you_done: 24 h passed")]),
    )
    d = build_digest(data(applications=apps, since=since))
    assert [(o.application_id, o.stage) for o in d.outcomes] == [("good", "advancing"), ("new", "rejected")]
    assert "2 replies" in d.subject


def test_due_soon_is_the_next_seven_days_without_drafts_already_placed():
    d = build_digest(data(applications=(app(),), drafts=(draft(kind="thank_you"),), upcoming=(
        UpcomingIn("acme", "followup_1", NOW + timedelta(days=2), "Rita <rita@acme.example>"),
        UpcomingIn("acme", "thank_you", NOW + timedelta(hours=1)),
        UpcomingIn("acme", "followup_2", NOW + timedelta(days=9)))))
    assert [(u.kind_label, u.when, u.to) for u in d.due] == [
        ("First follow-up", "Thu 12 Mar 08:30", "Rita <rita@acme.example>")]


def test_waiting_says_for_how_long_and_closed_applications_suggest_moving_on():
    apps = (
        app("a", "waiting", events=[ev(9, "interviewed", "interview_ended: round 1"),
                                    ev(8, "waiting", "thank_you_done: the 24 h passed")]),
        app("b", "followed_up", company="Hooli", followups_sent=2,
            events=[ev(20, "interviewed", "interview_ended: round 1"),
                    ev(4, "waiting", "timeline_updated: <t@x>"), ev(2, "followed_up", "followup_sent: 2")]),
        app("c", "no_response", company="Umbrella", followups_sent=3,
            events=[ev(2, "no_response", "gave_up: no reply 14 days after the last follow-up")]),
        app("d", "no_response", company="Old", events=[ev(40, "no_response", "gave_up: …")]),
    )
    d = build_digest(data(applications=apps, since=NOW - timedelta(days=1)))
    assert [(w.application_id, w.days, w.text) for w in d.waiting] == [
        ("a", 9, "9 days since the interview"),
        ("b", 4, "4 days since you last heard from them; 2 follow-ups sent")]
    (closed,) = d.closed
    assert (closed.application_id, closed.text, closed.new) == ("c", "No reply after 3 follow-ups", False)
    assert d.hidden_rows == 1  # "Old" closed long ago is left out of the table


def test_each_application_has_a_thirty_day_strip_ending_today():
    a = app(events=[ev(9, "interviewed", "interview_ended: round 1"), ev(0, "waiting", "x: y"),
                    ev(45, "applied", "<a@x> (acknowledgement)")])
    (row,) = build_digest(data(applications=(a,))).rows
    assert len(row.strip) == STRIP_DAYS and row.strip[-1].today and not any(c.today for c in row.strip[:-1])
    assert [c.stage for c in row.strip if c.stage] == ["interviewed", "waiting"]
    assert row.strip_text.endswith("W") and row.strip_text[-10] == "T"
    assert row.strip[-10].title.endswith(": interviewed")
    assert (row.chip.label, row.chip.bg) == ("Waiting", "#d97706")


def test_totals_count_applications_interviews_and_response_rate():
    apps = (app("a", events=[ev(3, "interviewed", "interview_ended: 1"), ev(5, "scheduled", "scheduled: <s@x>")]),
            app("b", "applied", events=[ev(5, "applied", "<b@x> (acknowledgement)")]),
            app("c", "rejected", events=[ev(5, "rejected", "<c@x> (rejection)")]),
            app("d", "no_response"))
    t = build_digest(data(applications=apps)).totals
    assert (t.applications, t.active, t.interviews, t.responded, t.response_rate) == (4, 2, 1, 2, 50)
    assert t.text == "4 applications (2 active) · 1 interview · 50% response rate"


def test_text_from_mail_is_one_line_and_the_model_holds_no_markup_of_its_own():
    a = app(company="<b>Evil</b>\r\nBcc: x@evil.example", contact_name="Eve\r\nBcc: x@evil.example",
            role="Role\u2028Two")
    d = build_digest(data(applications=(a,), drafts=(draft(),), notes=(
        NoteIn("acme", "please_confirm", "t", "<id\r\nX: y@x>", NOW, label="other", subject="<script>\nx"),)))
    row = d.rows[0]
    for text in (row.title, row.contact, d.drafts[0].title, d.confirm[0].subject, d.confirm[0].command):
        assert "\r" not in text and "\n" not in text and "\u2028" not in text
    assert row.company == "<b>Evil</b> Bcc: x@evil.example"  # escaping is the HTML template's job
    assert "\n" not in d.subject


def test_a_quiet_day_has_no_news_and_the_same_input_gives_the_same_digest():
    quiet = data(applications=(app(events=[ev(9, "interviewed", "interview_ended: 1")]),),
                 upcoming=(UpcomingIn("acme", "followup_1", NOW + timedelta(days=3)),))
    d = build_digest(quiet)
    assert not d.has_news and d.subject == "Job search: 1 follow-up due this week"
    assert build_digest(quiet) == d
    assert build_digest(replace(quiet, upcoming=(UpcomingIn("acme", "followup_1", NOW + timedelta(hours=2)),))).has_news


def test_a_naive_now_is_refused():
    with pytest.raises(ValueError):
        build_digest(DigestInput(now=datetime(2026, 3, 10, 12), tz=TZ))
