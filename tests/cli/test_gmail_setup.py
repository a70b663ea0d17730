"""Setting up Gmail from the command line: ``followup init`` offers the Gmail API and Gmail over
IMAP, ``followup auth gmail`` also serves an IMAP account (the scope https://mail.google.com/),
``install-service`` hands OAuth tokens over as credentials and says where to put them, and
``check-config``/``doctor`` know a refreshable IMAP token.

Nothing reaches Google: the consent flow is a fake object, the token endpoint and the Gmail API
are tests/gmail_fake.py (a FAKE server on 127.0.0.1), Gmail's IMAP is tests/gmail_imap_fake.py."""

from __future__ import annotations

import io
import json
import os
import stat
import sys
from datetime import UTC, datetime, timedelta

import pytest
from gmail_fake import FakeGmail, credentials_for
from gmail_imap_fake import FakeGmailImap

from followup.cli import main
from followup.config import load_config
from followup.mailbox import factory, gmail_auth, imap

ME = "dana.reyes@gmail.com"
DESKTOP_CLIENT = {"installed": {"client_id": "fake-client.apps.googleusercontent.com", "client_secret": "fake-secret",
                                "auth_uri": "https://accounts.google.com/o/oauth2/auth",
                                "token_uri": "https://oauth2.googleapis.com/token", "redirect_uris": ["http://localhost"]}}


def feed(monkeypatch, *answers: str) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("".join(a + "\n" for a in answers)))


@pytest.fixture
def google(monkeypatch):
    server = FakeGmail(email=ME).start()
    monkeypatch.setattr(factory, "GMAIL_TOKEN_URI", server.token_uri)
    monkeypatch.setattr(factory, "GMAIL_ROOT_URL", server.url)
    yield server
    server.stop()


@pytest.fixture
def gmail_imap(monkeypatch):
    server = FakeGmailImap()
    monkeypatch.setattr(imap, "default_client_factory", server.client)
    return server


@pytest.fixture
def no_connection_test(monkeypatch):
    """`followup init` must not try to log in where there is no token yet."""
    def refuse(*_args, **_kwargs):
        raise AssertionError("init tried to connect")

    monkeypatch.setattr(factory, "open_mailbox", refuse)


class FakeFlow:
    """google_auth_oauthlib's InstalledAppFlow as far as `followup auth` uses it."""

    def __init__(self, credentials) -> None:
        self.credentials = credentials
        self.scopes: list[str] = []

    def run_local_server(self, **kwargs):
        return self.credentials


@pytest.fixture
def consent(monkeypatch, google):
    """The consent flow: the user allows access; Google hands back refresh-1 / access-1 (an hour)."""
    credentials = credentials_for(google)
    credentials.expiry = datetime.now(UTC).replace(tzinfo=None) + timedelta(hours=1)  # google-auth: naive UTC
    flow = FakeFlow(credentials)

    def from_client_secrets_file(path, scopes):
        flow.scopes = scopes
        return flow

    monkeypatch.setattr("google_auth_oauthlib.flow.InstalledAppFlow.from_client_secrets_file", from_client_secrets_file)
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    return flow


def write_config(tmp_path, account: str) -> str:
    client = tmp_path / "client_secret.json"
    client.write_text(json.dumps(DESKTOP_CLIENT))
    config = tmp_path / "config.yaml"
    config.write_text(f"state_dir: {tmp_path / 'state'}\naccounts:\n{account}")
    return str(config)


# -- followup auth gmail for Gmail over IMAP -------------------------------------------------

def test_auth_gmail_for_an_imap_account_asks_for_the_imap_scope_saves_the_token_and_logs_in(
        tmp_path, consent, gmail_imap, capsys):
    token = tmp_path / "gmail-imap.token.json"
    config = write_config(tmp_path, f"""  - name: gmail-imap
    type: imap
    host: imap.gmail.com
    username: {ME}
    oauth2_token_file: {token}
    client_secrets_file: {tmp_path / 'client_secret.json'}
""")
    assert main(["--config", config, "auth", "gmail", "--account", "gmail-imap"]) == 0
    out = capsys.readouterr().out
    assert consent.scopes == [gmail_auth.IMAP_SCOPE]
    assert "Asking Google for: https://mail.google.com/" in out and "ssh -L 8765:127.0.0.1:8765" in out
    assert stat.S_IMODE(token.stat().st_mode) == 0o600
    assert json.loads(token.read_text())["refresh_token"] == "refresh-1"
    assert gmail_imap.logins == [("xoauth2", ME, "access-1")]
    assert f"logged in to imap.gmail.com as {ME} with XOAUTH2" in out
    # From now on the daemon's mailbox reads that file and logs in with it (no refresh: still valid).
    with factory.open_mailbox(load_config(config), "gmail-imap"):
        pass
    assert gmail_imap.tokens == ["access-1", "access-1"]


@pytest.mark.parametrize(("secret", "complaint"), [
    ("password_file: /pw", "logs in with a password. For OAuth, replace its password_* key with oauth2_token_file"),
    ("oauth2_token_env: TOKEN", "comes from $TOKEN, which this command cannot write"),
])
def test_auth_gmail_explains_what_an_imap_account_lacks(tmp_path, secret, complaint, capsys):
    config = write_config(tmp_path, f"  - {{name: box, type: imap, host: imap.gmail.com, username: u, {secret}}}\n")
    assert main(["--config", config, "auth", "gmail", "--account", "box"]) == 78
    assert complaint in capsys.readouterr().err


def test_auth_gmail_refuses_an_imap_account_on_another_server(tmp_path, capsys):
    config = write_config(tmp_path, "  - {name: box, type: imap, host: imap.example.net, username: u, "
                                    "oauth2_token_file: /t.json}\n")
    assert main(["--config", config, "auth", "gmail", "--account", "box"]) == 78
    assert "connects to imap.example.net, not imap.gmail.com" in capsys.readouterr().err


def test_auth_gmail_writes_a_credential_token_beside_the_config_and_says_to_restart(tmp_path, consent, capsys):
    config = write_config(tmp_path, f"""  - name: gmail
    type: gmail
    address: {ME}
    client_secrets_file: {tmp_path / 'client_secret.json'}
    token_credential: gmail.token
""")
    assert main(["--config", config, "auth", "gmail", "--account", "gmail"]) == 0
    out = capsys.readouterr().out
    written = tmp_path / "gmail.token"
    assert stat.S_IMODE(written.stat().st_mode) == 0o600
    assert f"LoadCredential=gmail.token:{written}" in out and "systemctl restart interview-followup" in out
    assert not (tmp_path / "state" / "gmail-gmail.token.json").exists()


# -- followup init ---------------------------------------------------------------------------

def test_init_for_a_gmail_address_offers_the_gmail_api_and_says_to_run_auth(
        tmp_path, monkeypatch, capsys, no_connection_test):
    client = tmp_path / "client_secret.json"
    client.write_text(json.dumps(DESKTOP_CLIENT))
    os.chmod(client, 0o600)
    web = tmp_path / "web.json"
    web.write_text(json.dumps({"web": DESKTOP_CLIENT["installed"]}))
    config = tmp_path / "config.yaml"
    # name, address, zone, country, mailbox type (Enter: gmail), account name (Enter: gmail),
    # a Web client (refused), the Desktop client, digest hour
    feed(monkeypatch, "Dana Reyes", ME, "Europe/Berlin", "DE", "", "", str(web), str(client), "8")
    assert main(["--config", str(config), "init"]) == 0
    out = capsys.readouterr().out
    assert "Mailbox type: imap, gmail, gmail-imap, maildir [gmail]" in out
    assert 'is a "Web application" client; create one of type "Desktop app"' in out
    assert f"followup --config {config} auth gmail --account gmail" in out and "ssh -L 8765" in out
    account = load_config(config).account("gmail")
    assert account.type == "gmail" and account.address == ME and account.client_secrets_file == client
    assert "token_credential: gmail.token" in config.read_text()  # shown, commented out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["client_secret.json", "config.yaml", "web.json"]


def test_init_for_gmail_over_imap_with_an_app_password_writes_it_0600_and_tests_the_login(
        tmp_path, monkeypatch, capsys, gmail_imap):
    config = tmp_path / "config.yaml"
    # ..., gmail-imap, account name (Enter: gmail), username (Enter: the address),
    # sign-in (Enter: app-password), the app password, digest hour
    feed(monkeypatch, "Dana Reyes", ME, "UTC", "US", "gmail-imap", "", "", "", "abcd efgh ijkl mnop", "none")
    assert main(["--config", str(config), "init"]) == 0
    out = capsys.readouterr().out
    assert "Gmail's IMAP server: imap.gmail.com, port 993, TLS." in out
    secret = tmp_path / "gmail.password"
    assert secret.read_text() == "abcd efgh ijkl mnop" and stat.S_IMODE(secret.stat().st_mode) == 0o600
    account = load_config(config).account("gmail")
    assert (account.type, account.host, account.effective_port, account.security) == ("imap", "imap.gmail.com", 993, "tls")
    assert gmail_imap.logins == [("password", ME, "abcd efgh ijkl mnop")]
    assert "connected; folders found: inbox: INBOX, sent: [Gmail]/Sent Mail, drafts: [Gmail]/Drafts" in out
    assert "abcd" not in config.read_text()


def test_init_for_gmail_over_imap_with_oauth_writes_the_token_path_and_says_to_run_auth(
        tmp_path, monkeypatch, capsys, no_connection_test):
    config = tmp_path / "config.yaml"
    client = tmp_path / "client_secret.json"  # not downloaded yet: init says where to put it
    feed(monkeypatch, "Dana Reyes", ME, "UTC", "US", "gmail-imap", "work", "", "oauth", "", "9")
    assert main(["--config", str(config), "init"]) == 0
    out = capsys.readouterr().out
    account = load_config(config).account("work")
    assert account.oauth2_token_file == tmp_path / "work.token.json" and account.client_secrets_file == client
    assert f"{client} is not there yet" in out and "auth gmail --account work" in out
    assert main(["--config", str(config), "check-config"]) == 78  # no token until `followup auth gmail`
    assert "work.token.json does not exist" in capsys.readouterr().err


def test_init_for_another_address_still_defaults_to_plain_imap(tmp_path, monkeypatch, capsys):
    config = tmp_path / "config.yaml"
    feed(monkeypatch, "Dana", "dana@example.net", "UTC", "US", "", "", "", "", "", "", "pw", "none")
    assert main(["--config", str(config), "init", "--no-test"]) == 0
    assert "[imap]" in capsys.readouterr().out
    account = load_config(config).account("personal")
    assert account.type == "imap" and account.host == "imap.example.net"


# -- install-service -------------------------------------------------------------------------

def test_install_service_loads_oauth_tokens_as_credentials_and_says_where_to_put_them(tmp_path, capsys):
    config = write_config(tmp_path, f"""  - {{name: api, type: gmail, address: {ME}, token_credential: api.token}}
  - {{name: viaimap, type: imap, host: imap.gmail.com, username: {ME}, oauth2_token_credential: viaimap.token}}
  - {{name: nocred, type: gmail, address: {ME}}}
  - {{name: tokenfile, type: imap, host: imap.gmail.com, username: {ME}, oauth2_token_file: /t.json}}
""")
    unit_file = tmp_path / "unit.service"
    assert main(["--config", config, "install-service", "--output", str(unit_file)]) == 0
    unit = unit_file.read_text()
    assert "LoadCredential=api.token:/etc/interview-followup/api.token\n" in unit
    assert "LoadCredential=viaimap.token:/etc/interview-followup/viaimap.token\n" in unit
    out = capsys.readouterr().out
    assert "api: put its OAuth token in /etc/interview-followup/api.token (mode 0600, owned by root)" in out
    assert f"sudo install -m 600 -o root {tmp_path / 'api.token'} /etc/interview-followup/api.token" in out
    assert "refreshes the access token in memory" in out and "systemctl restart interview-followup" in out
    assert "nocred: a system service cannot use a token_file" in out and "token_credential: nocred.token" in out
    assert "tokenfile: a system service cannot read oauth2_token_file" in out


def test_install_service_user_says_which_gmail_account_still_needs_its_token(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    config = write_config(tmp_path, f"  - {{name: api, type: gmail, address: {ME}}}\n")
    assert main(["--config", config, "install-service", "--user"]) == 0
    assert "api: no token yet: run `followup auth gmail --account api`" in capsys.readouterr().out


# -- check-config and doctor -----------------------------------------------------------------

def test_check_config_and_doctor_know_a_refreshable_imap_token(tmp_path, capsys):
    token = tmp_path / "t.json"
    gmail_auth.write_private_file(token, b'{"token": "x"}')
    config = write_config(tmp_path, f"  - {{name: g, type: imap, host: imap.gmail.com, username: {ME}, "
                                    f"oauth2_token_file: {token}}}\n")
    assert main(["--config", config, "check-config"]) == 78
    assert "holds no refresh token; run `followup auth gmail --account g`" in capsys.readouterr().err
    gmail_auth.write_private_file(token, json.dumps({"refresh_token": "r", "client_id": "c",
                                                     "client_secret": "s"}).encode())
    assert main(["--config", config, "check-config"]) == 0
    capsys.readouterr()
    main(["--config", config, "doctor", "--offline"])
    assert f"ok    g: OAuth token (refreshed before a login) file {token} (mode 0600, owner only)" in capsys.readouterr().out
