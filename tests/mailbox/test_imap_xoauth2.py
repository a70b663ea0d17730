"""Gmail over IMAP with XOAUTH2: the token JSON ``followup auth gmail`` writes is refreshed before a
login when its access token has expired, written back atomically with mode 0600 (or kept in
memory when it is a read-only systemd credential), and a refused refresh token is one clear line.

Google's token endpoint is played by tests/gmail_fake.py (a FAKE server on 127.0.0.1, not
Google); Gmail's IMAP by tests/gmail_imap_fake.py, which records the XOAUTH2 logins."""

from __future__ import annotations

import json
import logging
import os
import stat
from datetime import UTC, datetime, timedelta

import pytest
from gmail_fake import FakeGmail
from gmail_imap_fake import FakeGmailImap

from followup.config import parse_config
from followup.errors import AuthError, ConfigError, TransientError
from followup.mailbox import factory, gmail_auth, imap
from followup.mailbox.factory import open_mailbox

USER = "dana@gmail.example"


@pytest.fixture
def google(monkeypatch):
    server = FakeGmail(email=USER).start()
    monkeypatch.setattr(factory, "GMAIL_TOKEN_URI", server.token_uri)
    yield server
    server.stop()


@pytest.fixture
def imap_server(monkeypatch):
    server = FakeGmailImap()
    monkeypatch.setattr(imap, "default_client_factory", server.client)
    return server


def token_json(*, token: str | None = "access-old", expired: bool = True, refresh_token: str = "refresh-1",
               scopes: list[str] | None = None) -> str:
    """The authorized-user JSON `followup auth gmail` writes (google-auth's Credentials.to_json)."""
    expiry = datetime.now(UTC) + (timedelta(minutes=-5) if expired else timedelta(minutes=50))
    info = {"token": token, "refresh_token": refresh_token, "token_uri": "https://oauth2.googleapis.com/token",
            "client_id": "fake-client.apps.googleusercontent.com", "client_secret": "fake-secret",
            "scopes": scopes if scopes is not None else [gmail_auth.IMAP_SCOPE],
            "expiry": expiry.strftime("%Y-%m-%dT%H:%M:%S.%fZ")}
    return json.dumps(info)


def write_token(path, text: str, mode: int = 0o600):
    path.write_text(text)
    os.chmod(path, mode)
    return path


def config_with(tmp_path, secret: str):
    return parse_config(f"""
state_dir: {tmp_path / 'state'}
accounts:
  - {{name: gmail-imap, type: imap, host: imap.gmail.com, username: {USER}, {secret}}}
""")


def test_an_expired_token_is_refreshed_at_connect_and_written_back_atomically_with_mode_0600(
        tmp_path, google, imap_server):
    path = write_token(tmp_path / "gmail.token.json", token_json())
    box = open_mailbox(config_with(tmp_path, f"oauth2_token_file: {path}"), "gmail-imap")
    assert google._tokens_issued == 0 and imap_server.connections == 0  # the constructor stays offline
    box.connect()
    assert imap_server.logins == [("xoauth2", USER, "access-r1")]
    saved = json.loads(path.read_text())
    assert saved["token"] == "access-r1" and saved["refresh_token"] == "refresh-1"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gmail.token.json"]  # no temp file left
    box.close()
    box.connect()  # still valid: no second refresh
    assert imap_server.tokens == ["access-r1", "access-r1"] and google._tokens_issued == 1


def test_a_token_that_is_still_valid_is_used_without_asking_google(tmp_path, google, imap_server):
    path = write_token(tmp_path / "gmail.token.json", token_json(token="access-fresh", expired=False))
    before = path.read_text()
    with open_mailbox(config_with(tmp_path, f"oauth2_token_file: {path}"), "gmail-imap"):
        pass
    assert imap_server.logins == [("xoauth2", USER, "access-fresh")]
    assert google._tokens_issued == 0 and path.read_text() == before


def test_a_plain_access_token_in_the_file_keeps_working_as_before(tmp_path, google, imap_server):
    path = write_token(tmp_path / "access-token", "ya29.a-plain-access-token\n")
    box = open_mailbox(config_with(tmp_path, f"oauth2_token_file: {path}"), "gmail-imap")
    assert box.settings.oauth2_token_provider is None
    box.connect()
    assert imap_server.logins == [("xoauth2", USER, "ya29.a-plain-access-token")] and google._tokens_issued == 0


def test_a_revoked_refresh_token_is_one_line_saying_to_run_auth_again_and_no_imap_connection(
        tmp_path, google, imap_server):
    google.refresh_tokens["refresh-1"] = False
    path = write_token(tmp_path / "gmail.token.json", token_json())
    box = open_mailbox(config_with(tmp_path, f"oauth2_token_file: {path}"), "gmail-imap")
    with pytest.raises(AuthError) as caught:
        box.connect()
    text = str(caught.value)
    assert "\n" not in text and "invalid_grant" in text
    assert "run `followup auth gmail --account gmail-imap` again" in text
    assert imap_server.connections == 0


def test_google_out_of_reach_is_a_transient_error(tmp_path, imap_server, monkeypatch):
    monkeypatch.setattr(factory, "GMAIL_TOKEN_URI", "http://127.0.0.1:9/token")  # nothing listens there
    path = write_token(tmp_path / "gmail.token.json", token_json())
    box = open_mailbox(config_with(tmp_path, f"oauth2_token_file: {path}"), "gmail-imap")
    with pytest.raises(TransientError, match="cannot reach Google"):
        box.connect()


def test_a_token_granted_only_for_the_gmail_api_is_refused_before_any_request(tmp_path, google, imap_server):
    path = write_token(tmp_path / "gmail.token.json", token_json(
        scopes=[gmail_auth.READONLY_SCOPE, gmail_auth.COMPOSE_SCOPE]))
    box = open_mailbox(config_with(tmp_path, f"oauth2_token_file: {path}"), "gmail-imap")
    with pytest.raises(AuthError, match=r"needs the scope https://mail.google.com/: run `followup auth gmail"):
        box.connect()
    assert google._tokens_issued == 0 and imap_server.connections == 0


def test_a_systemd_credential_is_refreshed_in_memory_and_left_untouched(tmp_path, google, imap_server, monkeypatch):
    creds = tmp_path / "credentials"
    creds.mkdir()
    path = write_token(creds / "gmail.token", token_json(), mode=0o400)  # systemd hands it over read-only
    before = path.read_text()
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(creds))
    box = open_mailbox(config_with(tmp_path, "oauth2_token_credential: gmail.token"), "gmail-imap")
    box.connect()
    box.close()
    box.connect()
    assert imap_server.tokens == ["access-r1", "access-r1"]
    assert path.read_text() == before and google._tokens_issued == 1


def test_a_token_the_server_refuses_is_replaced_at_the_next_login(tmp_path, google, imap_server):
    path = write_token(tmp_path / "gmail.token.json", token_json(token="access-revoked", expired=False))
    imap_server.refused.add("access-revoked")
    box = open_mailbox(config_with(tmp_path, f"oauth2_token_file: {path}"), "gmail-imap")
    with pytest.raises(AuthError) as caught:
        box.connect()
    assert "AUTHENTICATIONFAILED" in str(caught.value) and "followup auth gmail --account gmail-imap" in str(caught.value)
    assert not box.connected
    box.connect()
    assert imap_server.tokens == ["access-revoked", "access-r1"]


def test_a_new_token_from_followup_auth_is_picked_up_at_the_next_login(tmp_path, google, imap_server):
    path = write_token(tmp_path / "gmail.token.json", token_json(token="access-a", expired=False))
    box = open_mailbox(config_with(tmp_path, f"oauth2_token_file: {path}"), "gmail-imap")
    box.connect()
    box.close()
    google.refresh_tokens["refresh-2"] = True
    gmail_auth.write_private_file(path, token_json(token="access-b", expired=False, refresh_token="refresh-2").encode())
    box.connect()
    assert imap_server.tokens == ["access-a", "access-b"]


def test_a_token_file_readable_by_others_or_without_a_refresh_token_is_a_config_error(tmp_path, google):
    path = write_token(tmp_path / "gmail.token.json", token_json(), mode=0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        open_mailbox(config_with(tmp_path, f"oauth2_token_file: {path}"), "gmail-imap")
    write_token(path, '{"token": "x"}')
    with pytest.raises(ConfigError, match="holds no refresh token; run `followup auth gmail --account gmail-imap`"):
        open_mailbox(config_with(tmp_path, f"oauth2_token_file: {path}"), "gmail-imap")


def test_neither_the_tokens_nor_the_refresh_token_are_logged(tmp_path, google, imap_server, caplog):
    path = write_token(tmp_path / "gmail.token.json", token_json())
    caplog.set_level(logging.DEBUG)
    box = open_mailbox(config_with(tmp_path, f"oauth2_token_file: {path}"), "gmail-imap")
    box.connect()
    box.close()
    shown = caplog.text + repr(box.settings) + repr(box.settings.oauth2_token_provider)
    for secret in ("access-r1", "access-old", "refresh-1", "fake-secret"):
        assert secret not in shown
