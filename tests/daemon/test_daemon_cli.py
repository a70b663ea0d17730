"""The service-side commands: init (scripted through stdin), doctor, show, status's next draft,
install-service, and the systemd units themselves."""

from __future__ import annotations

import io
import json
import shutil
import stat
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sync_support import USER, invite, maildir_config

from followup.cli import main
from followup.cli.install_service import (
    DEFAULT_SYSTEM_EXEC,
    DEFAULT_USER_EXEC,
    followup_executable,
    system_unit,
    user_unit,
)
from followup.core.model import FolderRole
from followup.mailbox.maildir import MaildirMailbox

ROOT = Path(__file__).resolve().parents[2]


def feed(monkeypatch, *answers: str) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("".join(a + "\n" for a in answers)))


@pytest.mark.dovecot
def test_init_asks_writes_a_commented_config_and_a_0600_secret_and_tests_the_connection(
        tmp_path, dovecot_server, monkeypatch, capsys):
    user, password = dovecot_server.new_user()
    config = tmp_path / "conf" / "config.yaml"
    feed(monkeypatch, "Dana Reyes", USER, "Europe/Berlin", "de", "imap", "school", dovecot_server.host,
         "plain", str(dovecot_server.port), user, password, "7")
    assert main(["--config", str(config), "init"]) == 0
    out = capsys.readouterr().out
    assert "connected; folders found: inbox: INBOX, sent: Sent, drafts: Drafts" in out
    secret = tmp_path / "conf" / "school.password"
    assert secret.read_text() == password and stat.S_IMODE(secret.stat().st_mode) == 0o600
    text = config.read_text()
    assert text.startswith("# interview-followup configuration") and password not in text
    assert "timezone: Europe/Berlin" in text and "country: DE" in text and "hour: 7" in text
    assert main(["--config", str(config), "check-config"]) == 0

    feed(monkeypatch, "x")
    assert main(["--config", str(config), "init"]) == 1  # never overwrites without --force
    assert "exists; `followup init --force`" in capsys.readouterr().err

    monkeypatch.setenv("FOLLOWUP_STATE_DIR", str(tmp_path / "state"))
    assert main(["--config", str(config), "doctor"]) == 0
    out = capsys.readouterr().out
    assert f"ok    school: secret file {secret} (mode 0600, owner only)" in out
    assert "ok    school: logged in to 127.0.0.1" in out and "IDLE" in out
    assert "ok    school: drafts folder 'Drafts'" in out and "no draft scheduled" in out
    secret.chmod(0o644)
    assert main(["--config", str(config), "doctor"]) == 1
    assert "readable by others (mode 0644); run: chmod 600" in capsys.readouterr().out


def test_init_with_a_wrong_answer_asks_again_and_a_short_script_is_a_clear_error(tmp_path, monkeypatch, capsys):
    config = tmp_path / "config.yaml"
    feed(monkeypatch, "Dana", "not-an-address", USER, "Mars/Base", "UTC", "", "maildir", "", str(tmp_path / "mail"),
         "none")
    assert main(["--config", str(config), "init", "--no-test"]) == 0
    out = capsys.readouterr().out
    assert "that is not an email address" in out and "unknown time zone 'Mars/Base'" in out
    assert "type: maildir" in config.read_text() and "enabled: false" in config.read_text()
    feed(monkeypatch, "Dana")
    assert main(["--config", str(tmp_path / "other.yaml"), "init"]) == 1
    assert "stdin ended" in capsys.readouterr().err
    assert not (tmp_path / "other.yaml").exists()


@pytest.fixture
def maildir_app(tmp_path, capsys):
    config = maildir_config(tmp_path)
    box = MaildirMailbox("home", tmp_path / "mail")
    start = datetime.now(UTC) - timedelta(hours=3)
    box.append(FolderRole.INBOX, invite(1, company="Acme", start=start), flags=(), when=start - timedelta(days=3))
    assert main(["--config", str(config), "once"]) == 0
    capsys.readouterr()
    return config


def test_status_shows_the_next_draft_and_its_date(maildir_app, capsys):
    assert main(["--config", str(maildir_app), "status", "--json"]) == 0
    (app,) = json.loads(capsys.readouterr().out)
    assert app["next_draft"]["kind"] == "followup_1"
    due = datetime.fromisoformat(app["next_draft"]["due"])
    assert due > datetime.now(UTC) + timedelta(days=4) and due.hour == 9  # a morning a week later
    assert datetime.now(UTC) - datetime.fromisoformat(app["last_contact"]) > timedelta(days=2)  # the invitation
    # times are shown in the user's zone (America/New_York), not as the mail stated them
    assert datetime.fromisoformat(app["last_contact"]).utcoffset() in (timedelta(hours=-5), timedelta(hours=-4))
    assert all(datetime.fromisoformat(e["at"]).utcoffset() in (timedelta(hours=-5), timedelta(hours=-4))
               for e in app["events"])
    assert main(["--config", str(maildir_app), "status"]) == 0
    table = capsys.readouterr().out
    assert "next" in table and "09:00" in table  # (rich wraps the headers at 80 columns)


def test_show_tells_the_whole_history_with_causes(maildir_app, capsys):
    assert main(["--config", str(maildir_app), "note", "acme", "we discussed dbt"]) == 0
    capsys.readouterr()
    assert main(["--config", str(maildir_app), "show", "acme"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Acme — Data Engineer")
    assert "mail     rita@acme.example: 'Invitation: Interview for Data Engineer at Acme'" in out
    assert "because: read as interview_scheduled" in out
    assert "stage    → interviewed" in out and "because: interview_ended" in out
    assert "draft    thank_you to alice@acme.example" in out and "note     we discussed dbt" in out
    assert "next: a followup_1 draft on " in out
    assert main(["--config", str(maildir_app), "show", "acme", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    whats = [entry["what"] for entry in data["timeline"]]
    assert whats[0] == "mail" and "stage" in whats and "draft" in whats
    assert main(["--config", str(maildir_app), "show", "nope"]) == 1


def test_install_service_user_writes_the_unit_with_this_installation_and_says_what_next(
        tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    config = tmp_path / "config.yaml"
    assert main(["--config", str(config), "install-service", "--user"]) == 0
    unit = (tmp_path / "xdg" / "systemd" / "user" / "interview-followup.service").read_text()
    assert f"ExecStart={followup_executable()} --config {config} run\n" in unit
    assert Path(followup_executable()).parent == Path(sys.executable).parent
    assert "Type=notify" in unit and "WatchdogSec=" in unit and "RestartPreventExitStatus=78" in unit
    out = capsys.readouterr().out
    assert "systemctl --user daemon-reload" in out and "systemctl --user enable --now interview-followup" in out


def test_install_service_system_loads_each_accounts_credential(tmp_path, capsys):
    config = tmp_path / "config.yaml"
    config.write_text("accounts:\n"
                      "  - {name: mail, type: imap, host: imap.example.net, username: u, password_credential: mail.pw}\n"
                      "  - {name: old, type: imap, host: imap.example.net, username: u, password_file: /x}\n")
    out_file = tmp_path / "unit.service"
    assert main(["--config", str(config), "install-service", "--output", str(out_file)]) == 0
    unit = out_file.read_text()
    assert "LoadCredential=mail.pw:/etc/interview-followup/mail.pw\n" in unit
    assert "DynamicUser=yes" in unit and f"--config {config} run" in unit
    out = capsys.readouterr().out
    assert "old: a system service cannot read password_file" in out
    assert "systemctl enable --now interview-followup" in out


def test_the_units_in_the_tree_are_what_install_service_writes():
    assert (ROOT / "systemd" / "interview-followup.service").read_text() == system_unit(
        DEFAULT_SYSTEM_EXEC, "/etc/interview-followup/config.yaml", ["personal.password"])
    assert (ROOT / "systemd" / "user" / "interview-followup.service").read_text() == user_unit(DEFAULT_USER_EXEC, None)


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_the_system_unit_scores_at_most_2_in_systemd_analyze_security(tmp_path):
    unit = tmp_path / "interview-followup.service"
    unit.write_text((ROOT / "systemd" / "interview-followup.service").read_text())
    result = subprocess.run(["systemd-analyze", "security", "--offline=true", "--threshold=20", str(unit)],
                            capture_output=True, text=True, timeout=60)
    line = [x for x in result.stdout.splitlines() if "Overall exposure level" in x]
    assert line, result.stdout + result.stderr
    score = float(line[0].split(":", 1)[1].split()[0])
    print(f"\n{line[0].strip()}")
    assert score <= 2.0
