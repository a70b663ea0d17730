"""The engine shell on a real Maildir and real SQLite: drafts placed exactly once, fates tracked,
interrupted placements reconciled. The classifier and policy are the real ones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sync_support import invite, maildir_config

from followup.config import load_config
from followup.core.model import FolderRole
from followup.engine import run_engine
from followup.errors import TransientError
from followup.mailbox.maildir import MaildirMailbox
from followup.runner import sync_context
from followup.store.db import Store
from followup.sync import sync_account

# Thursday 5 March 2026, 14:00-14:45 in New York (19:00 UTC).
INTERVIEW = datetime(2026, 3, 5, 19, 0, tzinfo=UTC)
AFTER = INTERVIEW + timedelta(minutes=50)


@pytest.fixture
def setup(tmp_path):
    config = load_config(maildir_config(tmp_path))
    box = MaildirMailbox("home", tmp_path / "mail")
    store = Store.open(config.database_path)
    return config, box, store, tmp_path / "mail"


def cycle(config, box, store, now):
    sync_account(box, store, sync_context(config), now)
    return run_engine(box, store, config, now)


def drafts_on_disk(root: Path) -> list[bytes]:
    folder = root / ".Drafts" / "cur"
    return [p.read_bytes() for p in sorted(folder.iterdir())] if folder.is_dir() else []


def test_a_thank_you_per_interviewer_appears_right_after_the_interview_and_only_once(setup):
    config, box, store, root = setup
    box.append(FolderRole.INBOX, invite(1, company="Acme", start=INTERVIEW, interviewers=("alice", "bob")),
               flags=(), when=INTERVIEW - timedelta(days=3))
    assert cycle(config, box, store, INTERVIEW).placed == []  # not before it is over
    report = cycle(config, box, store, AFTER)
    assert sorted((d.kind, d.to) for d in report.placed) == [
        ("thank_you", "alice@acme.example"), ("thank_you", "bob@acme.example")]
    for later in (AFTER, AFTER + timedelta(hours=1), AFTER + timedelta(hours=5)):
        assert cycle(config, box, store, later).placed == []
    on_disk = drafts_on_disk(root)
    assert len(on_disk) == 2 and all(b"X-Followup-Key: " in raw for raw in on_disk)
    assert {d["fate"] for d in store.drafts()} == {"placed"}


def test_a_deleted_draft_is_dismissed_and_never_made_again(setup):
    config, box, store, root = setup
    box.append(FolderRole.INBOX, invite(1, company="Acme", start=INTERVIEW), flags=(),
               when=INTERVIEW - timedelta(days=3))
    cycle(config, box, store, AFTER)
    for path in (root / ".Drafts" / "cur").iterdir():
        path.unlink()
    report = cycle(config, box, store, AFTER + timedelta(hours=2))
    assert report.placed == [] and set(report.fates.values()) == {"dismissed"}
    assert cycle(config, box, store, AFTER + timedelta(days=1)).placed == []
    assert drafts_on_disk(root) == []


def test_an_edited_draft_is_left_alone(setup):
    config, box, store, root = setup
    box.append(FolderRole.INBOX, invite(1, company="Acme", start=INTERVIEW), flags=(),
               when=INTERVIEW - timedelta(days=3))
    cycle(config, box, store, AFTER)
    (path,) = (root / ".Drafts" / "cur").iterdir()
    edited = path.read_bytes().replace(b"\n\n", b"\n\n(edited by Dana) ", 1)
    path.unlink()
    box.append(FolderRole.DRAFTS, edited, flags=("\\Draft",), when=AFTER + timedelta(hours=1))
    report = cycle(config, box, store, AFTER + timedelta(hours=2))
    assert set(report.fates.values()) == {"edited"} and report.placed == []
    assert drafts_on_disk(root) == [edited]


def test_a_sent_thank_you_is_recognised_and_the_first_follow_up_comes_a_week_later(setup):
    config, box, store, root = setup
    box.append(FolderRole.INBOX, invite(1, company="Acme", start=INTERVIEW), flags=(),
               when=INTERVIEW - timedelta(days=3))
    cycle(config, box, store, AFTER)
    (path,) = (root / ".Drafts" / "cur").iterdir()
    raw = path.read_bytes()
    path.unlink()
    box.append(FolderRole.SENT, raw, flags=("\\Seen",), when=AFTER + timedelta(hours=1))
    report = cycle(config, box, store, AFTER + timedelta(hours=2))
    assert set(report.fates.values()) == {"sent"}
    # Thursday 5 March + 7 days = Thursday 12 March, at the 09:00 morning hour in New York.
    assert cycle(config, box, store, datetime(2026, 3, 12, 12, 59, tzinfo=UTC)).placed == []  # 08:59 EDT
    (followup,) = cycle(config, box, store, datetime(2026, 3, 12, 13, 0, tzinfo=UTC)).placed
    assert followup.kind == "followup_1" and followup.to == "rita@acme.example"


class FlakyMailbox:
    """A Maildir whose next APPEND fails before (or after) writing: a crash at that point."""

    def __init__(self, inner: MaildirMailbox, *, write_first: bool) -> None:
        self.inner, self.write_first, self.armed = inner, write_first, True

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def append(self, role, raw, *, flags, when):
        if self.armed and role is FolderRole.DRAFTS:
            self.armed = False
            if self.write_first:
                self.inner.append(role, raw, flags=flags, when=when)
            raise TransientError("connection lost during APPEND")
        return self.inner.append(role, raw, flags=flags, when=when)


@pytest.mark.parametrize("write_first", [False, True], ids=["before the write", "after the write"])
def test_a_crash_around_the_append_never_loses_or_doubles_a_draft(setup, write_first):
    config, box, store, root = setup
    box.append(FolderRole.INBOX, invite(1, company="Acme", start=INTERVIEW), flags=(),
               when=INTERVIEW - timedelta(days=3))
    flaky = FlakyMailbox(box, write_first=write_first)
    sync_account(flaky, store, sync_context(config), AFTER)
    with pytest.raises(TransientError):
        run_engine(flaky, store, config, AFTER)
    assert [d["fate"] for d in store.drafts()] == ["journalled"]
    report = cycle(config, flaky, store, AFTER + timedelta(minutes=5))
    assert report.reconciled == 1
    assert len(drafts_on_disk(root)) == 1
    assert [d["fate"] for d in store.drafts()] == ["placed"]
    assert cycle(config, flaky, store, AFTER + timedelta(hours=1)).placed == []
    assert len(drafts_on_disk(root)) == 1


def test_what_the_user_actually_sent_replaces_our_draft_text(setup):
    config, box, store, root = setup
    box.append(FolderRole.INBOX, invite(1, company="Acme", start=INTERVIEW), flags=(),
               when=INTERVIEW - timedelta(days=3))
    cycle(config, box, store, AFTER)
    cycle(config, box, store, AFTER + timedelta(minutes=5))  # the draft is synced from Drafts
    (path,) = (root / ".Drafts" / "cur").iterdir()
    raw = path.read_bytes()
    assert b"[ADD ONE SPECIFIC POINT" in raw
    edited = raw.replace(b"[ADD ONE SPECIFIC POINT FROM YOUR CONVERSATION]", b"I loved the dbt discussion.")
    path.unlink()
    box.append(FolderRole.SENT, edited, flags=("\\Seen",), when=AFTER + timedelta(hours=1))
    report = cycle(config, box, store, AFTER + timedelta(hours=2))
    assert set(report.fates.values()) == {"sent"}
    assert report.placed == []  # no "quick correction": the placeholder was filled before sending
    (sent,) = [r for r in store.db.execute("SELECT raw, sent_at FROM messages WHERE outbound=1")]
    assert b"I loved the dbt discussion." in sent["raw"] and sent["sent_at"]


def test_an_unchanged_application_is_not_decided_again_before_its_next_wakeup(setup, monkeypatch):
    import followup.engine as engine

    config, box, store, root = setup
    box.append(FolderRole.INBOX, invite(1, company="Acme", start=INTERVIEW), flags=(),
               when=INTERVIEW - timedelta(days=3))
    cycle(config, box, store, AFTER)
    cycle(config, box, store, AFTER + timedelta(minutes=5))  # our draft, synced from Drafts, is news
    calls = []
    real = engine.decide
    monkeypatch.setattr(engine, "decide", lambda *a, **k: calls.append(1) or real(*a, **k))
    cycle(config, box, store, AFTER + timedelta(minutes=10))
    assert calls == []  # nothing changed and nothing is due
    (app,) = store.applications()
    wake = datetime.fromisoformat(app["next_wakeup"])
    cycle(config, box, store, wake)
    assert calls == [1]  # its time came
    box.append(FolderRole.INBOX, invite(2, company="Acme", start=INTERVIEW + timedelta(days=9)), flags=(),
               when=wake + timedelta(minutes=1))
    cycle(config, box, store, wake + timedelta(minutes=2))
    assert calls == [1, 1]  # new mail in the application
