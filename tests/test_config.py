"""The config: validated whole, every problem at once, secrets only by reference."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from followup.config import ImapAccount, load_config, parse_config, resolve_secret
from followup.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]

MINIMAL = """
accounts:
  - name: local
    type: maildir
    path: /tmp/mail
"""


def test_the_example_config_loads_and_has_several_accounts():
    config = load_config(ROOT / "config.example.yaml")
    assert [a.name for a in config.accounts] == ["personal", "archive"]
    assert config.timezone == "America/New_York"
    assert config.schedule.max_followups == 3
    assert "dana.reyes@example.net" in config.user_addresses()


def test_a_minimal_config_gets_the_documented_defaults():
    config = parse_config(MINIMAL)
    assert config.sync.window_days == 90
    assert config.schedule.morning_hour == 9
    assert config.schedule.interview_minutes == 45
    assert config.digest.hour == 8


def test_every_problem_is_reported_at_once_with_its_key_path():
    text = """
timezone: Mars/Olympus
country: ZZ
accounts:
  - name: a
    type: imap
    host: imap.example.com
    username: me
    password_env: X
    colour: red
  - name: b
    type: maildir
schedule:
  morning_hour: 25
"""
    with pytest.raises(ConfigError) as caught:
        parse_config(text, source=Path("/etc/f.yaml"))
    message = str(caught.value)
    assert message.startswith("/etc/f.yaml: 5 problem(s)")
    for expected in ("accounts.0.colour: unknown key", "accounts.1.path: required", "country:",
                     "schedule.morning_hour:", "timezone: unknown time zone"):
        assert expected in message


def test_an_inline_password_is_refused_with_a_way_out():
    text = MINIMAL + """
  - name: mail
    type: imap
    host: imap.example.com
    username: me
    password: hunter2hunter2
"""
    with pytest.raises(ConfigError) as caught:
        parse_config(text)
    assert "accounts.1.password: secrets are never written in the config; use password_file" in str(caught.value)
    assert "hunter2" not in str(caught.value)


def test_plain_imap_is_only_allowed_on_loopback():
    base = """
accounts:
  - name: mail
    type: imap
    host: {host}
    security: plain
    username: me
    password_env: X
"""
    assert parse_config(base.format(host="127.0.0.1")).accounts[0].effective_port == 143
    with pytest.raises(ConfigError, match="plain is only allowed"):
        parse_config(base.format(host="imap.example.com"))


def test_broken_yaml_names_the_line():
    with pytest.raises(ConfigError, match=r"line \d+, column \d+: not valid YAML"):
        parse_config("accounts:\n  - name: [unclosed\n")


def test_duplicate_account_names_are_refused():
    with pytest.raises(ConfigError, match="repeated: local"):
        parse_config(MINIMAL + "  - name: local\n    type: maildir\n    path: /x\n")


def test_a_missing_config_file_says_how_to_make_one(tmp_path):
    with pytest.raises(ConfigError, match="followup init"):
        load_config(tmp_path / "nope.yaml")


def _imap(**secret) -> ImapAccount:
    return ImapAccount(name="m", type="imap", host="h", username="u", **secret)


def test_a_secret_file_readable_by_others_is_refused(tmp_path):
    secret = tmp_path / "pw"
    secret.write_text("s3cret\n")
    os.chmod(secret, 0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        resolve_secret(_imap(password_file=secret))
    os.chmod(secret, 0o600)
    assert resolve_secret(_imap(password_file=secret)) == ("password", "s3cret")


def test_secrets_come_from_the_environment_or_systemd_credentials(tmp_path):
    assert resolve_secret(_imap(password_env="PW"), environ={"PW": "x"}) == ("password", "x")
    with pytest.raises(ConfigError, match="PW is not set"):
        resolve_secret(_imap(password_env="PW"), environ={})
    (tmp_path / "mail.pw").write_text("fromsystemd")
    got = resolve_secret(_imap(password_credential="mail.pw"), environ={"CREDENTIALS_DIRECTORY": str(tmp_path)})
    assert got == ("password", "fromsystemd")
    assert resolve_secret(_imap(oauth2_token_env="T"), environ={"T": "tok"}) == ("oauth2", "tok")


def test_systemd_state_directory_is_used_when_the_file_names_none():
    assert str(parse_config(MINIMAL, environ={"STATE_DIRECTORY": "/var/lib/x"}).state_path) == "/var/lib/x"
    explicit = MINIMAL + "state_dir: /srv/y\n"
    assert str(parse_config(explicit, environ={"STATE_DIRECTORY": "/var/lib/x"}).state_path) == "/srv/y"
