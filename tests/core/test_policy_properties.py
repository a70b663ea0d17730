"""Properties of ``decide`` over generated histories, and a simulated user sending drafts.

A generated story is one interview followed by events in time order: inbound mail of any
label and confidence, hand-written mail from the user, and the user acting on what the
policy proposed (sending, dismissing, editing or leaving a draft). ``decide`` runs before every
event, as the daemon would, and every decision is checked.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from followup.core.business_days import local_date
from followup.core.model import DraftFate, DraftKind, Label, Stage
from followup.core.policy import STOPPING_EVENTS, LABEL_EVENTS, Decision, decide
from policy_factory import ALICE, ATS, BOB, RECRUITER, SCHEDULER, USER, Story

ZONES = [
    ("America/New_York", "US", None),
    ("America/Los_Angeles", "US", "CA"),
    ("Europe/Berlin", "DE", "BY"),
    ("Asia/Tokyo", "JP", None),
]
LADDER = (DraftKind.FOLLOWUP_1, DraftKind.FOLLOWUP_2, DraftKind.FOLLOWUP_FINAL)
STOPPING_LABELS = {label for label, event in LABEL_EVENTS.items() if event in STOPPING_EVENTS}
PEOPLE = [ALICE, BOB, ATS, USER, RECRUITER]
CONTACTS = [RECRUITER, ALICE, ATS, SCHEDULER, None]

inbound_event = st.tuples(
    st.just("inbound"),
    st.sampled_from(list(Label)),
    st.sampled_from([0.3, 0.59, 0.6, 0.9, 1.0]),
    st.one_of(st.none(), st.integers(0, 40)),  # decision / return date, days after the event
)
user_event = st.tuples(
    st.sampled_from(["send", "dismiss", "edit", "place", "hand_written"]),
    st.just(None), st.just(None), st.just(None),
)
events = st.lists(
    st.tuples(st.integers(0, 60 * 24), st.one_of(inbound_event, user_event)),
    max_size=12,
)

scenario = st.fixed_dictionaries({
    "zone": st.sampled_from(ZONES),
    "start": st.datetimes(min_value=datetime(2025, 1, 6), max_value=datetime(2026, 12, 20)),
    "interviewers": st.lists(st.sampled_from(PEOPLE), max_size=3, unique=True),
    "contact": st.sampled_from(CONTACTS),
    "max_followups": st.integers(0, 4),
    "events": events,
})


def _story(data) -> tuple[Story, datetime]:
    zone, _, _ = data["zone"]
    story = Story(tz=ZoneInfo(zone))
    start = data["start"].replace(minute=0, second=0, microsecond=0, tzinfo=ZoneInfo(zone))
    sender = SCHEDULER if data["contact"] is None else RECRUITER
    story.inbound(Label.INTERVIEW_SCHEDULED, start - timedelta(days=2), sender=sender,
                  contact=data["contact"], start=start,
                  interviewers=tuple(data["interviewers"]))
    return story, start


def _settings(data, story: Story):
    _, country, subdivision = data["zone"]
    return story.settings(country=country, subdivision=subdivision,
                          max_followups=data["max_followups"])


def _stop_after(story: Story, end: datetime, now: datetime) -> bool:
    """True when a confident employer reply that stops the ladder arrived after the interview."""
    for item in story.items:
        c = item.classification
        if (not item.outbound and c and c.confidence >= 0.6 and c.label in STOPPING_LABELS
                and end < item.message.date <= now):
            return True
    return False


def _check(decision: Decision, story: Story, now: datetime, s, end: datetime) -> None:
    keys = [d.key for d in decision.drafts]
    assert len(keys) == len(set(keys)), "two intents share a key"
    closed = {r.key for r in story.drafts
              if r.fate in (DraftFate.SENT, DraftFate.DISMISSED, DraftFate.EDITED)}
    assert not closed & set(keys), "a sent, dismissed or edited draft was proposed again"
    for intent in decision.drafts:
        if intent.to is not None:
            assert not intent.to.is_no_reply, f"draft to a no-reply address {intent.to}"
            assert intent.to.email != USER.email, "draft to the user"
    ladder = [d for d in decision.drafts if d.kind in LADDER]
    per_round: dict[int, int] = {}
    for intent in ladder:
        per_round[intent.round] = per_round.get(intent.round, 0) + 1
        local = intent.due.astimezone(s.tz)
        assert local.hour == s.morning_hour and local.minute == 0
        assert s.calendar.is_business_day(local.date())
        assert intent.due > end
    assert all(n <= 1 for n in per_round.values()), "two follow-ups pending in one round"
    if decision.round == 1:
        # Never more than max_followups: sent ones plus the one pending.
        assert decision.followups_sent + len(ladder) <= s.max_followups
        if _stop_after(story, end, now):
            assert not ladder, "a follow-up after an employer reply"
        for intent in ladder:
            if intent.kind is not DraftKind.FOLLOWUP_1:
                assert decision.followups_sent >= 1, "a later follow-up with none sent"
    if decision.next_wakeup is not None:
        assert decision.next_wakeup > now


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario)
def test_generated_histories_keep_every_promise_of_the_schedule(data):
    story, start = _story(data)
    s = _settings(data, story)
    end = start.astimezone(UTC) + s.interview_duration
    now = end
    for hours, (what, label, confidence, days) in sorted(data["events"], key=lambda e: e[0]):
        now = end + timedelta(hours=hours)
        decision = decide(story.history(), now, s)
        _check(decision, story, now, s, end)
        event(f"stage {decision.stage.value}")
        for intent in decision.drafts:
            event(f"proposes {intent.kind.value}")
        assert decision == decide(story.history(), now, s), "decide is not deterministic"
        due = [d for d in decision.drafts if d.due <= now]
        if what == "inbound":
            extra = {}
            if label is Label.OUT_OF_OFFICE and days is not None:
                extra["ooo_return"] = local_date(now, s.tz) + timedelta(days=days)
            elif days is not None:
                extra["decision"] = local_date(now, s.tz) + timedelta(days=days)
            story.inbound(label, now, confidence=confidence, sender=RECRUITER, **extra)
        elif what == "hand_written":
            story.outbound(now, to=(RECRUITER,))
        elif due:
            intent = due[0]
            if what == "send":
                story.send(intent, now)
            else:
                fate = {"dismiss": DraftFate.DISMISSED, "edit": DraftFate.EDITED,
                        "place": DraftFate.PLACED}[what]
                story.draft(intent.key, intent.kind, fate, now)
    final = decide(story.history(), now + timedelta(days=1), s)
    _check(final, story, now + timedelta(days=1), s, end)


@settings(max_examples=60, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    start=st.datetimes(min_value=datetime(2025, 1, 6, 8), max_value=datetime(2026, 12, 1, 17)),
    max_followups=st.integers(0, 4),
    delay_hours=st.integers(1, 30),
    interviewers=st.lists(st.sampled_from([ALICE, BOB]), max_size=2, unique=True),
)
def test_a_user_who_sends_every_draft_walks_the_whole_ladder_then_gets_no_response(
    zone, start, max_followups, delay_hours, interviewers,
):
    """Silence from the employer: each step is drafted exactly once, in order, then it stops."""
    story = Story(tz=ZoneInfo(zone[0]))
    start = start.replace(minute=0, second=0, microsecond=0, tzinfo=story.tz)
    story.inbound(Label.INTERVIEW_SCHEDULED, start - timedelta(days=3), start=start,
                  interviewers=tuple(interviewers))
    s = story.settings(country=zone[1], subdivision=zone[2], max_followups=max_followups)
    now = start.astimezone(UTC)
    placed: dict[str, tuple[DraftKind, datetime]] = {}
    sent_kinds: list[DraftKind] = []
    for _ in range(400):
        decision = decide(story.history(), now, s)
        for intent in decision.drafts:
            if intent.due <= now and intent.key not in placed:
                placed[intent.key] = (intent.kind, now)
                story.draft(intent.key, intent.kind, DraftFate.PLACED, now)
        for key, (kind, when) in list(placed.items()):
            if when + timedelta(hours=delay_hours) <= now and not any(
                r.key == key and r.fate is DraftFate.SENT for r in story.drafts
            ):
                story.drafts = [r for r in story.drafts if r.key != key]
                story.draft(key, kind, DraftFate.SENT, when, now)
                story.outbound(now, to=(RECRUITER,), key=key)
                sent_kinds.append(kind)
        if decision.stage is Stage.NO_RESPONSE:
            break
        now = decision.next_wakeup or now + timedelta(hours=1)
        now = max(now.astimezone(UTC), story.items[-1].learned_at.astimezone(UTC)) + timedelta(
            minutes=1)
        # Let the simulated user's sends (delay_hours after placing) happen on time too.
        pending = [w + timedelta(hours=delay_hours) for (_, w) in placed.values()]
        soon = [p for p in pending if p > now - timedelta(minutes=1)]
        if soon:
            now = min(now, min(soon).astimezone(UTC) + timedelta(minutes=1))
    else:
        raise AssertionError("the ladder never ended")
    ladder = [k for k in sent_kinds if k in LADDER]
    assert len(ladder) == max_followups
    expected = [DraftKind.FOLLOWUP_1] if max_followups >= 1 else []
    if max_followups >= 2:
        expected += [DraftKind.FOLLOWUP_2] * (max_followups - 2) + [DraftKind.FOLLOWUP_FINAL]
    assert ladder == expected
    thanks = [k for k in sent_kinds if k is DraftKind.THANK_YOU]
    assert len(thanks) == max(1, len(interviewers))
    assert len(placed) == len(set(placed))
