"""The command line, run in-process: exit codes, one-line errors, and the happy paths."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sync_support import USER, invite, maildir_config as write_maildir_config

from followup.cli import main
from followup.core.model import FolderRole
from followup.mailbox.maildir import MaildirMailbox


@pytest.fixture
def maildir_config(tmp_path):
    return write_maildir_config(tmp_path), MaildirMailbox("home", tmp_path / "mail")


def test_check_config_says_ok_for_a_good_file(maildir_config, capsys):
    config, _ = maildir_config
    assert main(["--config", str(config), "check-config"]) == 0
    assert "OK: 1 account(s): home (maildir)" in capsys.readouterr().out


def test_a_broken_config_exits_78_with_every_problem(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("accounts:\n  - name: x\n    type: imap\n    password: abcdefgh\n")
    assert main(["--config", str(bad), "check-config"]) == 78
    err = capsys.readouterr().err
    assert err.startswith(f"followup: {bad}: ")
    assert "accounts.0.host: required" in err and "accounts.0.password: secrets are never" in err
    assert "abcdefgh" not in err


def test_a_missing_secret_file_is_one_clear_line(tmp_path, capsys):
    config = tmp_path / "c.yaml"
    config.write_text(f"accounts: [{{name: m, type: imap, host: 127.0.0.1, security: plain, username: u, "
                      f"password_file: {tmp_path / 'nope'}}}]\nstate_dir: {tmp_path}\n")
    assert main(["--config", str(config), "once"]) == 78
    assert "secret file" in capsys.readouterr().err


def test_once_then_status_show_the_application(maildir_config, capsys):
    config, box = maildir_config
    start = datetime.now(UTC) - timedelta(days=1)
    box.append(FolderRole.INBOX, invite(1, company="Acme", start=start), flags=(), when=start - timedelta(days=3))
    assert main(["--config", str(config), "once"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("home: sent: 0 new") and "1 application(s) opened" in out
    assert main(["--config", str(config), "status", "--json"]) == 0
    (application,) = json.loads(capsys.readouterr().out)
    assert application["company"] == "Acme" and application["events"]
    assert main(["--config", str(config), "once"]) == 0
    assert "inbox: unchanged" in capsys.readouterr().out


def test_note_and_confirm_change_the_store(maildir_config, capsys):
    config, box = maildir_config
    start = datetime.now(UTC) - timedelta(days=1)
    box.append(FolderRole.INBOX, invite(1, company="Acme", start=start), flags=(), when=start - timedelta(days=3))
    main(["--config", str(config), "once"])
    capsys.readouterr()
    main(["--config", str(config), "status", "--json"])
    app_id = json.loads(capsys.readouterr().out)[0]["id"]
    assert main(["--config", str(config), "note", app_id[:6], "We discussed dbt."]) == 0
    assert "noted for" in capsys.readouterr().out
    assert main(["--config", str(config), "confirm", "invite1@acme.example", "interview_scheduled"]) == 0
    assert main(["--config", str(config), "confirm", "<nope@x>", "rejection"]) == 1
    assert "no message <nope@x>" in capsys.readouterr().err
    assert main(["--config", str(config), "note", "zzz", "text"]) == 1


def test_no_command_prints_help_and_exits_2(capsys):
    assert main([]) == 2
    assert "COMMAND" in capsys.readouterr().out


def test_simulate_prints_one_json_line_per_action(tmp_path, capsys):
    source = tmp_path / "source"
    box = MaildirMailbox("src", source)
    start = datetime(2026, 3, 5, 19, 0, tzinfo=UTC)
    box.append(FolderRole.INBOX, invite(1, company="Acme", start=start, interviewers=("alice", "bob")),
               flags=(), when=start)
    sent = (f"From: Dana <{USER}>\r\nTo: hr@acme.example\r\nSubject: Application\r\n"
            f"Date: Mon, 02 Mar 2026 10:00:00 -0500\r\nMessage-ID: <app@example.net>\r\n\r\nHello\r\n").encode()
    box.append(FolderRole.SENT, sent, flags=(), when=start)
    code = main(["simulate", "--maildir", str(source), "--start", "2026-03-01", "--end", "2026-03-20",
                 "--tz", "America/New_York", "--user-sends-after", "2"])
    assert code == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    drafts = [line for line in lines if line["action"] == "draft"]
    assert [d["kind"] for d in drafts][:2] == ["thank_you", "thank_you"]
    assert drafts[0]["at"] == "2026-03-05T19:45:00+00:00"
    assert any(d["kind"] == "followup_1" for d in drafts)
    assert {"at", "action", "kind", "to", "application", "subject"} <= set(drafts[0])
    assert any(line["action"] == "stage" for line in lines)


def test_simulate_refuses_a_bad_time(tmp_path, capsys):
    assert main(["simulate", "--maildir", str(tmp_path), "--start", "soon", "--end", "later"]) == 78
    assert "--start: 'soon' is not an ISO 8601" in capsys.readouterr().err
