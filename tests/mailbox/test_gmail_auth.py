"""OAuth for the Gmail backend: the stored token (0600, atomic, or a systemd credential), its
refresh against the token endpoint of tests/gmail_fake.py (a FAKE Gmail/OAuth server on
127.0.0.1 following the published shapes, not Google), and ``followup auth gmail``."""

from __future__ import annotations

import json
import os
import stat

import pytest
from gmail_fake import FakeGmail, credentials_for

from followup.cli import main
from followup.config import parse_config
from followup.errors import AuthError, ConfigError
from followup.mailbox import factory, gmail_auth

ME = "dana@gmail.example"


@pytest.fixture
def fake():
    server = FakeGmail(email=ME).start()
    yield server
    server.stop()


def config_for(tmp_path, extra: str = ""):
    return parse_config(f"""
state_dir: {tmp_path / 'state'}
accounts:
  - {{name: personal, type: gmail, address: {ME}, client_secrets_file: {tmp_path / 'client.json'}{extra}}}
""")


def test_the_token_is_written_atomically_with_mode_0600(tmp_path, fake):
    path = tmp_path / "state" / "gmail-personal.token.json"
    path.parent.mkdir()
    path.write_text("old")
    os.chmod(path, 0o644)
    gmail_auth.save_credentials(path, credentials_for(fake))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text())["refresh_token"] == "refresh-1"
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp file left


def test_the_token_is_looked_up_under_the_state_dir_and_must_be_private(tmp_path, fake):
    config = config_for(tmp_path)
    account = config.account("personal")
    with pytest.raises(ConfigError, match="run `followup auth gmail --account personal`"):
        gmail_auth.token_source(config, account)
    path = gmail_auth.token_path(config, account)
    assert path == tmp_path / "state" / "gmail-personal.token.json"
    gmail_auth.save_credentials(path, credentials_for(fake))
    assert gmail_auth.token_source(config, account) == path
    os.chmod(path, 0o640)
    with pytest.raises(ConfigError, match="chmod 600"):
        gmail_auth.token_source(config, account)


def test_a_systemd_credential_is_read_from_the_credentials_directory(tmp_path, fake):
    config = config_for(tmp_path, ", token_credential: gmail-token")
    account = config.account("personal")
    with pytest.raises(ConfigError, match="CREDENTIALS_DIRECTORY"):
        gmail_auth.token_source(config, account, environ={})
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "gmail-token").write_text(credentials_for(fake).to_json())
    os.chmod(creds / "gmail-token", 0o444)  # systemd hands it over read-only
    path = gmail_auth.token_source(config, account, environ={"CREDENTIALS_DIRECTORY": str(creds)})
    loaded = gmail_auth.load_credentials(path, account, token_uri=fake.token_uri)
    gmail_auth.refresh(loaded, "personal")
    assert loaded.valid and loaded.token.startswith("access-r")


@pytest.mark.parametrize("content", ["not json", "{}", '{"token": "x"}'])
def test_a_broken_token_file_says_to_run_auth_again(tmp_path, content):
    config = config_for(tmp_path)
    path = tmp_path / "token.json"
    path.write_text(content)
    with pytest.raises(ConfigError, match="followup auth gmail --account personal"):
        gmail_auth.load_credentials(path, config.account("personal"))


def test_invalid_grant_is_one_line_with_the_reason(tmp_path, fake):
    fake.refresh_tokens["refresh-1"] = False
    with pytest.raises(AuthError) as caught:
        gmail_auth.refresh(credentials_for(fake, token=None), "personal")
    text = str(caught.value)
    assert "\n" not in text and "invalid_grant" in text and "Testing" in text and "7 days" in text


def test_scopes_are_read_and_compose_and_modify_only_for_labels(tmp_path):
    assert gmail_auth.scopes_for(config_for(tmp_path).account("personal")) == [
        gmail_auth.READONLY_SCOPE, gmail_auth.COMPOSE_SCOPE]
    labelled = config_for(tmp_path, ", labels: true").account("personal")
    assert gmail_auth.MODIFY_SCOPE in gmail_auth.scopes_for(labelled)


class FakeFlow:
    """google_auth_oauthlib's InstalledAppFlow as far as `followup auth` uses it."""

    def __init__(self, credentials) -> None:
        self.credentials = credentials
        self.kwargs: dict = {}

    def run_local_server(self, **kwargs):
        self.kwargs = kwargs
        return self.credentials


def test_followup_auth_gmail_runs_the_flow_checks_the_token_and_saves_it(tmp_path, fake, monkeypatch, capsys):
    (tmp_path / "client.json").write_text('{"installed": {}}')
    config_path = tmp_path / "config.yaml"
    config_path.write_text(f"""
state_dir: {tmp_path / 'state'}
accounts:
  - {{name: personal, type: gmail, address: {ME}, client_secrets_file: {tmp_path / 'client.json'}}}
""")
    flow = FakeFlow(credentials_for(fake))
    asked = {}

    def from_client_secrets_file(path, scopes):
        asked.update(path=path, scopes=scopes)
        return flow

    monkeypatch.setattr("google_auth_oauthlib.flow.InstalledAppFlow.from_client_secrets_file", from_client_secrets_file)
    monkeypatch.setattr(factory, "GMAIL_ROOT_URL", fake.url)
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert main(["--config", str(config_path), "auth", "gmail", "--account", "personal"]) == 0
    out = capsys.readouterr().out
    assert "ssh -L 8765:127.0.0.1:8765" in out and f"token for {ME} saved" in out
    assert asked["scopes"] == [gmail_auth.READONLY_SCOPE, gmail_auth.COMPOSE_SCOPE]
    assert flow.kwargs["host"] == "127.0.0.1" and flow.kwargs["port"] == 8765 and flow.kwargs["open_browser"] is False
    token = tmp_path / "state" / "gmail-personal.token.json"
    assert stat.S_IMODE(token.stat().st_mode) == 0o600
    assert json.loads(token.read_text())["refresh_token"] == "refresh-1"
    assert fake.calls("/profile")


def test_followup_auth_gmail_refuses_other_accounts_and_a_missing_client_file(tmp_path, capsys):
    config_path = tmp_path / "config.yaml"
    config_path.write_text(f"""
state_dir: {tmp_path / 'state'}
accounts:
  - {{name: box, type: maildir, path: {tmp_path}}}
  - {{name: personal, type: gmail, address: {ME}}}
""")
    assert main(["--config", str(config_path), "auth", "gmail", "--account", "box"]) == 78
    assert "is a maildir account" in capsys.readouterr().err
    assert main(["--config", str(config_path), "auth", "gmail", "--account", "personal"]) == 78
    assert "client_secrets_file: required" in capsys.readouterr().err


def test_labels_with_a_token_granted_without_modify_asks_to_run_auth_again(tmp_path, fake):
    from followup.mailbox.factory import open_mailbox

    config = config_for(tmp_path, ", labels: true")
    path = gmail_auth.token_path(config, config.account("personal"))
    credentials = credentials_for(fake)
    info = json.loads(credentials.to_json())
    info["scopes"] = [gmail_auth.READONLY_SCOPE, gmail_auth.COMPOSE_SCOPE]
    gmail_auth.write_private_file(path, json.dumps(info).encode())
    box = open_mailbox(config, "personal")
    with pytest.raises(AuthError, match=r"lacks gmail.modify .*followup auth gmail --account personal"):
        box.connect()
