"""A Gmail API account end to end through the command line: ``followup once`` syncs, classifies,
places a threaded thank-you draft with drafts.create and tracks its fate, and the digest goes out
with messages.send. Google is played by tests/gmail_fake.py, a FAKE Gmail REST server on
127.0.0.1 that follows the published API shapes (it is not Google)."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta

import pytest
from gmail_fake import FakeGmail
from sync_support import invite

from followup.cli import main
from followup.config import load_config
from followup.mailbox import factory

ME = "dana@gmail.example"
# Thursday 5 March 2026, 14:00-14:45 in New York (19:00 UTC).
INTERVIEW = datetime(2026, 3, 5, 19, 0, tzinfo=UTC)
AFTER = INTERVIEW + timedelta(minutes=50)


@pytest.fixture
def fake():
    server = FakeGmail(email=ME, now=AFTER).start()
    yield server
    server.stop()


@pytest.fixture
def setup(tmp_path, fake, monkeypatch):
    monkeypatch.setattr(factory, "GMAIL_ROOT_URL", fake.url)
    monkeypatch.setattr(factory, "GMAIL_TOKEN_URI", fake.token_uri)
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    token = state / "gmail-personal.token.json"
    token.write_text(json.dumps({"refresh_token": "refresh-1",
                                 "client_id": "fake-client.apps.googleusercontent.com",
                                 "client_secret": "fake-secret"}))
    os.chmod(token, 0o600)
    config = tmp_path / "config.yaml"
    config.write_text(f"""
timezone: America/New_York
state_dir: {state}
user: {{name: Dana Reyes}}
accounts:
  - {{name: personal, type: gmail, address: {ME}}}
""")
    return config


def run_at(monkeypatch, moment: datetime, *args: str) -> int:
    monkeypatch.setattr("followup.cli.once.utc_now", lambda: moment)
    return main(list(args))


def test_once_syncs_classifies_places_a_threaded_draft_and_tracks_its_fate(setup, fake, monkeypatch, capsys):
    invitation = fake.deliver(invite(1, company="Acme", start=INTERVIEW, user=ME), when=INTERVIEW - timedelta(days=3))
    assert run_at(monkeypatch, AFTER, "--config", str(setup), "once") == 0
    out = capsys.readouterr().out
    assert out.startswith("personal: sent: 0 new") and "1 application(s) opened; 1 draft(s) placed" in out
    (draft_id, message_id), = fake.drafts.items()
    draft = fake.messages[message_id]
    assert draft.thread_id == fake.messages[invitation].thread_id  # threaded under the recruiter's mail
    assert draft.header("In-Reply-To") == "<invite1@acme.example>"
    assert draft.header("Subject").startswith("Re: ") and draft.header("X-Followup-Key")
    assert "alice@acme.example" in draft.header("To")  # the interviewer

    fake.user_sends_draft(draft_id)
    assert run_at(monkeypatch, AFTER + timedelta(hours=2), "--config", str(setup), "once") == 0
    assert "sent: 1 new" in capsys.readouterr().out
    from followup.store.db import Store

    store = Store.open(load_config(setup).database_path)
    try:
        (row,) = [d for d in store.drafts() if d["kind"] == "thank_you"]  # made once, never again
        assert row["fate"] == "sent" and row["ref"] == message_id
    finally:
        store.close()
    assert fake.sent == []  # drafts are never sent by the program
    assert fake.user_labels == {} and not fake.calls("/threads/")  # labels: false


def test_with_labels_the_application_thread_gets_its_stage_label(setup, fake, monkeypatch, capsys):
    setup.write_text(setup.read_text().replace(f"address: {ME}}}", f"address: {ME}, labels: true}}"))
    invitation = fake.deliver(invite(1, company="Acme", start=INTERVIEW, user=ME), when=INTERVIEW - timedelta(days=3))
    assert run_at(monkeypatch, AFTER, "--config", str(setup), "once") == 0
    (label_id, name), = fake.user_labels.items()
    assert name == "Jobs/Interview" and label_id in fake.messages[invitation].labels


def test_a_revoked_token_fails_the_account_with_one_line(setup, fake, monkeypatch, capsys):
    fake.refresh_tokens["refresh-1"] = False
    assert run_at(monkeypatch, AFTER, "--config", str(setup), "once") == 1
    (line,) = [x for x in capsys.readouterr().out.splitlines() if x.startswith("personal: failed")]
    assert "run `followup auth gmail --account personal` again" in line and "7 days" in line


def test_a_missing_token_is_a_config_error_naming_the_command(setup, capsys):
    (load_config(setup).state_path / "gmail-personal.token.json").unlink()
    assert main(["--config", str(setup), "once"]) == 78
    assert "followup auth gmail --account personal" in capsys.readouterr().err


def test_the_digest_of_a_gmail_account_goes_out_with_messages_send(setup, fake, monkeypatch):
    from followup.digest_job import send_digest_if_due
    from followup.store.db import Store

    config = load_config(setup)
    store = Store.open(config.database_path)
    try:
        outcome = send_digest_if_due(config, store, datetime(2026, 3, 6, 14, 0, tzinfo=UTC), ignore_hour=True)
    finally:
        store.close()
    assert outcome.status == "sent", outcome.detail
    (raw,) = fake.sent
    assert f"To: {ME}".encode() in raw and b"X-Followup-Digest: 2026-03-06" in raw
    (message,) = [m for m in fake.messages.values() if "INBOX" in m.labels]
    assert message.labels >= {"SENT", "INBOX", "UNREAD"}


def test_an_edited_and_a_deleted_draft_are_told_apart(setup, fake, monkeypatch, capsys):
    fake.deliver(invite(1, company="Acme", start=INTERVIEW, user=ME, interviewers=("alice", "bob")),
                 when=INTERVIEW - timedelta(days=3))
    assert run_at(monkeypatch, AFTER, "--config", str(setup), "once") == 0
    assert "2 draft(s) placed" in capsys.readouterr().out
    (edited, _), (deleted, _) = sorted(fake.drafts.items())
    fake.user_edits_draft(edited)
    fake.user_deletes_draft(deleted)
    assert run_at(monkeypatch, AFTER + timedelta(hours=1), "--config", str(setup), "once") == 0
    from followup.store.db import Store

    store = Store.open(load_config(setup).database_path)
    try:
        fates = sorted(d["fate"] for d in store.drafts())
    finally:
        store.close()
    assert fates == ["dismissed", "edited"]
    assert len(fake.drafts) == 1  # nothing made again


def test_check_config_and_doctor_know_gmail_accounts(setup, fake, capsys):
    assert main(["--config", str(setup), "check-config"]) == 0
    assert "personal (gmail)" in capsys.readouterr().out
    main(["--config", str(setup), "doctor"])
    out = capsys.readouterr().out
    assert f"personal: Gmail API as {ME}" in out and "personal: drafts folder 'drafts'" in out
    (load_config(setup).state_path / "gmail-personal.token.json").chmod(0o644)
    assert main(["--config", str(setup), "check-config"]) == 78
    assert "chmod 600" in capsys.readouterr().err


def test_the_gmail_examples_in_config_example_yaml_are_valid(tmp_path):
    from pathlib import Path

    from followup.config import GmailAccount, ImapAccount, parse_config

    text = (Path(__file__).resolve().parents[1] / "config.example.yaml").read_text()
    blocks, current = [], None
    for line in text.splitlines():
        if line.startswith("  # - name: gmail"):
            current = [line.replace("  # ", "  ", 1)]
            blocks.append(current)
        elif current is not None and line.startswith("  #   "):
            current.append(line.replace("  # ", "  ", 1))
        else:
            current = None
    assert len(blocks) == 2
    config = parse_config(f"state_dir: {tmp_path}\naccounts:\n" + "\n".join("\n".join(b) for b in blocks))
    gmail, imap = config.accounts
    assert isinstance(gmail, GmailAccount) and isinstance(imap, ImapAccount) and imap.host == "imap.gmail.com"
    assert "dana.reyes@gmail.com" in config.user_addresses()


def test_a_draft_created_but_not_confirmed_is_found_again_not_made_twice(setup, fake):
    from followup.errors import TransientError
    from followup.mailbox.factory import open_mailbox
    from followup.runner import run_cycle
    from followup.store.db import Store

    config = load_config(setup)
    fake.deliver(invite(1, company="Acme", start=INTERVIEW, user=ME), when=INTERVIEW - timedelta(days=3))
    box = open_mailbox(config, "personal")
    real_append = box.append

    def append_then_lose_the_answer(role, raw, *, flags, when):
        real_append(role, raw, flags=flags, when=when)
        raise TransientError("connection lost after drafts.create")

    box.append = append_then_lose_the_answer
    store = Store.open(config.database_path)
    try:
        first = run_cycle(config, store, AFTER, mailboxes={"personal": box})
        assert "connection lost" in first.errors["personal"] and len(fake.drafts) == 1
        assert [d["fate"] for d in store.drafts()] == ["journalled"]
        box.append = real_append
        second = run_cycle(config, store, AFTER + timedelta(minutes=5), mailboxes={"personal": box})
        assert not second.errors and second.engines[0].reconciled == 1
        assert len(fake.drafts) == 1 and [d["fate"] for d in store.drafts()] == ["placed"]
        assert store.drafts()[0]["ref"] == next(iter(fake.drafts.values()))
    finally:
        box.close()
        store.close()
