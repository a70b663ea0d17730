"""GmailMailbox.search_text and the sync's text prefilter over the Gmail API, against
tests/gmail_fake.py: a FAKE Gmail REST server on 127.0.0.1 in the test process that follows the
published API shapes; it is not Google, and its search only approximates Gmail's (whole words
and phrases in the subject and text parts, ``filename:ics``; see its ``_text_matches``).

What these tests show: the backend asks ``messages.list`` with the query and an ``after:`` bound,
pages, keeps the match set for one folder sync (one listing however many batches), forgets it
when a folder sync starts, and the sync then fetches only the personal mail the search found."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest
from gmail_fake import FakeGmail, mailbox_for
from sync_support import NOW, context, invite, mail

from followup.core.model import FolderRole
from followup import sync
from followup.core.prefilter import body_need, gmail_query
from followup.errors import ProtocolError
from followup.mailbox import gmail
from followup.store.db import Store
from followup.sync import sync_account

INBOX, SENT, DRAFTS = FolderRole.INBOX, FolderRole.SENT, FolderRole.DRAFTS
ME = "dana@gmail.example"
QUERY = gmail_query()


@pytest.fixture
def fake():
    server = FakeGmail(email=ME, now=NOW).start()
    yield server
    server.stop()


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def box(fake, sleeps):
    mailbox = mailbox_for(fake, "gmail", sleeps=sleeps)
    mailbox.connect()
    yield mailbox
    mailbox.close()


@pytest.fixture
def store(tmp_path):
    opened = Store.open(tmp_path / "state.sqlite3")
    yield opened
    opened.close()


def personal(n: int, subject: str, body: str, *, content_type: str = "text/plain", base64_body: bool = False,
             sender: str | None = None) -> bytes:
    """Mail from a friend (no recruiting signal in its headers: the prefilter says PROBE)."""
    head = mail(n, subject, sender=sender or f"friend{n}@gmail.example", to=ME).split(b"\r\n\r\n", 1)[0]
    head += f"\r\nMIME-Version: 1.0\r\nContent-Type: {content_type}; charset=utf-8".encode()
    data = body.encode()
    if base64_body:
        head += b"\r\nContent-Transfer-Encoding: base64"
        data = base64.encodebytes(data).replace(b"\n", b"\r\n")
    return head + b"\r\n\r\n" + data


def with_ics(n: int, subject: str, body: str) -> bytes:
    """Personal mail with an .ics attachment (application/ics) and no job words anywhere."""
    head = mail(n, subject, sender=f"friend{n}@gmail.example", to=ME).split(b"\r\n\r\n", 1)[0]
    return head + (
        "\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=zz\r\n\r\n"
        f"--zz\r\nContent-Type: text/plain\r\n\r\n{body}\r\n"
        "--zz\r\nContent-Type: application/ics\r\nContent-Disposition: attachment; filename=\"dinner.ics\"\r\n\r\n"
        "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nSUMMARY:Dinner\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n--zz--\r\n").encode()


def text_searches(fake: FakeGmail, label: str | None = None) -> list[dict]:
    """The messages.list calls that carried the text query (on ``label`` when given)."""
    return [e for e in fake.calls("/messages$") if e["query"].get("q", [""])[0].startswith(QUERY)
            and (label is None or e["query"].get("labelIds") == [label])]


def after_bound(entry: dict) -> int:
    q = entry["query"]["q"][0]
    assert q.startswith(QUERY + " after:"), q
    return int(q.rsplit("after:", 1)[1])


def raw_fetches(fake: FakeGmail, ref: str) -> list[dict]:
    return fake.calls(r"/messages/" + ref + "$", format="raw")


# -- the backend ---------------------------------------------------------------------------------


def test_search_text_returns_only_the_given_refs_that_gmail_matches(fake, box):
    day = NOW - timedelta(days=2)
    interview = fake.deliver(personal(1, "quick question", "How did the Interview with Acme go?"), when=day)
    dinner = fake.deliver(personal(2, "dinner", "Bring the photos on friday."), when=day)
    calendar = fake.deliver(with_ics(3, "dinner", "See you there."), when=day)
    invitation = fake.deliver(invite(9, company="Acme", start=NOW, user=ME), when=day)
    encoded = fake.deliver(personal(4, "news", "They sent me the offer letter!", base64_body=True), when=day)
    substring = fake.deliver(personal(5, "paint", "I reapplied the paint; the repositioned shelves hold."), when=day)
    markup = fake.deliver(personal(6, "photos", '<table role="presentation"><td>Nice photos</td></table>',
                                   content_type="text/html"), when=day)
    not_asked = fake.deliver(personal(7, "again", "Another interview tomorrow."), when=day)
    sent_only = fake.deliver(personal(8, "my interview", "The interview went well."), labels=("SENT",), when=day)
    refs = [interview, dinner, calendar, invitation, encoded, substring, markup, sent_only]

    found = box.search_text(INBOX, refs, QUERY, since=day - timedelta(days=1))

    assert found == {interview, calendar, invitation, encoded}
    assert not_asked not in found and sent_only not in found  # not given; not on the label
    (call,) = text_searches(fake, "INBOX")
    assert after_bound(call) == int((day - timedelta(days=1)).timestamp())
    assert not fake.calls(format="raw") and not fake.calls(format="metadata")  # no message was read


def test_search_text_without_refs_asks_nothing_and_without_since_lists_unbounded(fake, box):
    ref = fake.deliver(personal(1, "hi", "Any news on your application?"), when=NOW - timedelta(days=400))
    assert box.search_text(INBOX, [], QUERY) == set() and not text_searches(fake)
    assert box.search_text(INBOX, [ref], QUERY) == {ref}
    (call,) = text_searches(fake)
    assert call["query"]["q"] == [QUERY]


def test_the_match_set_is_listed_once_and_forgotten_when_a_folder_sync_starts(fake, box):
    first = fake.deliver(personal(1, "hi", "The interview is on Monday."), when=NOW)
    since = NOW - timedelta(days=1)
    assert box.search_text(INBOX, [first], QUERY, since=since) == {first}
    assert box.search_text(INBOX, [first], QUERY, since=since + timedelta(hours=1)) == {first}
    assert len(text_searches(fake)) == 1  # a later batch (never older than the bound) reuses the set
    starts = [lambda: box.folder_state(INBOX), lambda: box.list_refs(INBOX),
              lambda: box.changes_since(INBOX, fake.history_id)]
    for number, start in enumerate(starts, 2):
        ref = fake.deliver(personal(number, "hi", f"Round {number} of interviews."), when=NOW)
        assert box.search_text(INBOX, [ref], QUERY, since=since) == set()  # the cached set predates it
        start()
        assert box.search_text(INBOX, [ref], QUERY, since=since) == {ref}
    assert len(text_searches(fake)) == 1 + len(starts)
    box.folder_state(SENT)  # another folder's sync start keeps this folder's set
    box.search_text(INBOX, [first], QUERY, since=since)
    assert len(text_searches(fake)) == 1 + len(starts)


def test_an_earlier_since_than_the_listed_bound_lists_again(fake, box):
    recent = fake.deliver(personal(1, "hi", "The interview is on Monday."), when=NOW)
    old = fake.deliver(personal(2, "hi", "I applied there in January."), when=NOW - timedelta(days=30))
    assert box.search_text(INBOX, [recent], QUERY, since=NOW - timedelta(days=1)) == {recent}
    assert box.search_text(INBOX, [old, recent], QUERY, since=NOW - timedelta(days=31)) == {old, recent}
    assert [after_bound(c) for c in text_searches(fake)] == [
        int((NOW - timedelta(days=1)).timestamp()), int((NOW - timedelta(days=31)).timestamp())]


def test_search_text_pages_through_every_match(fake, box, monkeypatch):
    monkeypatch.setattr(gmail, "PAGE_SIZE", 2)
    refs = [fake.deliver(personal(n, "hi", f"Interview number {n}."), when=NOW) for n in range(5)]
    assert box.search_text(INBOX, refs, QUERY, since=NOW - timedelta(days=1)) == set(refs)
    calls = text_searches(fake)
    assert len(calls) == 3 and [c["query"].get("pageToken") for c in calls] == [None, ["2"], ["4"]]


def test_a_rate_limited_search_is_retried_with_backoff(fake, box, sleeps):
    ref = fake.deliver(personal(1, "hi", "The interview is on Monday."), when=NOW)
    fake.fail(429, path_contains="/messages", times=1)
    assert box.search_text(INBOX, [ref], QUERY, since=NOW - timedelta(days=1)) == {ref}
    assert len(sleeps) == 1 and len(text_searches(fake)) == 2


def test_the_fake_refuses_search_terms_it_does_not_know(fake, box):
    ref = fake.deliver(personal(1, "hi", "The interview is on Monday."), when=NOW)
    for query in ("{interview from:ann@acme.example}", "{interview OR offer}", "interview"):
        with pytest.raises(ProtocolError, match="400"):
            box.search_text(INBOX, [ref], query)
    assert box.search_text(INBOX, [ref], '{"interview is on" filename:ics}') == {ref}


# -- the sync ------------------------------------------------------------------------------------


def test_a_cold_sync_asks_gmail_once_per_folder_and_fetches_only_personal_mail_about_a_job(fake, box, store):
    """The real header prefilter: list mail is left out, personal mail is asked of Gmail's
    search (one listing per folder however many batches), and only what it finds is fetched."""
    when = {n: NOW - timedelta(days=n) for n in range(1, 10)}
    listed = mail(1, "Weekly digest", sender="news@list.example", to=ME).replace(
        b"\r\n\r\n", b"\r\nList-Id: <news.list.example>\r\n\r\n", 1)
    refs = {
        1: fake.deliver(listed, when=when[1]),
        2: fake.deliver(personal(2, "quick question", "How did the interview with Acme go yesterday?"), when=when[2]),
        3: fake.deliver(personal(3, "dinner on friday?", "Bring the photos."), when=when[3]),
        4: fake.deliver(personal(4, "long news", "They sent me the offer letter for the analyst role!",
                                 base64_body=True), when=when[4]),
        5: fake.deliver(personal(5, "photos", "Here they are."), when=when[5]),
        6: fake.deliver(personal(6, "weekend", "Hiking on Sunday?"), when=when[6]),
        7: fake.deliver(personal(7, "re: trip", "Tickets are booked."), when=when[7]),
        8: fake.deliver(personal(8, "catching up", "Call me tonight.", sender=ME), labels=("SENT",), when=when[8]),
    }
    ctx = context(could_matter=body_need, user_addresses=frozenset({ME}), batch_size=2)

    report = sync_account(box, store, ctx, NOW)

    sent, inbox, drafts = report.folders
    assert (inbox.stored, inbox.probed, inbox.bodies_fetched) == (7, 6, 2)
    assert (sent.stored, sent.probed, sent.bodies_fetched) == (1, 1, 0)
    read = {n: store.message("gmail", f"<m{n}@example>").label is not None for n in range(1, 8)}
    assert read == {1: False, 2: True, 3: False, 4: True, 5: False, 6: False, 7: False}
    fetched = {n for n, ref in refs.items() if raw_fetches(fake, ref)}
    assert fetched == {2, 4}  # personal mail without job words never travels
    # Four INBOX batches, one listing; the bound is a day before the oldest probed message.
    (inbox_search,) = text_searches(fake, "INBOX")
    assert after_bound(inbox_search) == int((when[7] - timedelta(days=1)).timestamp())
    assert len(text_searches(fake, "SENT")) == 1 and not text_searches(fake, "DRAFT")
    assert sync_account(box, store, ctx, NOW).bodies_fetched == 0


def test_mail_arriving_between_two_syncs_is_not_hidden_by_the_cached_matches(fake, box, store):
    ctx = context(could_matter=body_need, user_addresses=frozenset({ME}), batch_size=2)
    fake.deliver(personal(1, "quick question", "How did the interview go?"), when=NOW - timedelta(days=1))
    sync_account(box, store, ctx, NOW)
    assert len(text_searches(fake, "INBOX")) == 1
    later = NOW + timedelta(minutes=10)
    fresh = fake.deliver(personal(2, "so?", "Did they call you back about the second interview?"), when=later)
    quiet = fake.deliver(personal(3, "lunch", "Noon at the usual place."), when=later)

    report = sync_account(box, store, ctx, later + sync.SEARCH_INDEX_LAG + timedelta(minutes=1))

    inbox = report.folders[1]
    assert (inbox.new_refs, inbox.probed, inbox.bodies_fetched) == (2, 2, 1)
    assert store.message("gmail", "<m2@example>").label is not None
    assert store.message("gmail", "<m3@example>").label is None
    assert raw_fetches(fake, fresh) and not raw_fetches(fake, quiet)
    searches = text_searches(fake, "INBOX")
    assert len(searches) == 2 and after_bound(searches[1]) == int((later - timedelta(days=1)).timestamp())


def test_mail_younger_than_the_search_index_lag_is_probed_locally(fake, box, store, monkeypatch):
    """Gmail indexes new mail with a delay: a PROBE message the search does not (yet) match is
    looked at locally while it is younger than SEARCH_INDEX_LAG, and only then."""
    ctx = context(could_matter=body_need, user_addresses=frozenset({ME}))
    unindexed = fake.deliver(personal(1, "so?", "Did they call you back about the interview?"), when=NOW)
    old = fake.deliver(personal(2, "lunch", "Noon at the usual place."), when=NOW - timedelta(days=2))
    monkeypatch.setattr(box, "search_text", lambda role, refs, query, since=None: set())  # nothing indexed yet

    report = sync_account(box, store, ctx, NOW + timedelta(minutes=1))

    assert report.folders[1].bodies_fetched == 1
    assert store.message("gmail", "<m1@example>").label is not None
    assert raw_fetches(fake, unindexed) and not raw_fetches(fake, old)


def test_a_sync_passes_no_bound_when_a_probed_message_has_no_date(fake, box, store, monkeypatch):
    """Without every probed message's date the search cannot be bounded: it lists unbounded."""
    ref = fake.deliver(personal(1, "quick question", "How did the interview go?"), when=NOW - timedelta(days=1))
    real = box.fetch_headers

    def undated(role, refs):
        from dataclasses import replace

        return [replace(r, received_at=None) for r in real(role, refs)]

    monkeypatch.setattr(box, "fetch_headers", undated)
    sync_account(box, store, context(could_matter=body_need, user_addresses=frozenset({ME})), NOW)
    (call,) = text_searches(fake, "INBOX")
    assert call["query"]["q"] == [QUERY] and raw_fetches(fake, ref)


def test_a_naive_since_is_taken_as_utc():
    assert gmail._epoch(datetime(2026, 3, 9, 12, 0)) == gmail._epoch(datetime(2026, 3, 9, 12, 0, tzinfo=UTC))
