"""The config of an IMAP account that logs in with OAuth (Gmail over IMAP, XOAUTH2): the token
comes from a file, an environment variable or a systemd credential, and ``client_secrets_file``
(for ``followup auth gmail``) only goes with such a token."""

from __future__ import annotations

import pytest

from followup.config import ImapAccount, parse_config, resolve_secret
from followup.errors import ConfigError


def account_yaml(secret: str) -> str:
    return f"""
accounts:
  - name: gmail-imap
    type: imap
    host: imap.gmail.com
    username: dana@gmail.example
{secret}"""


def test_an_oauth_token_can_be_a_systemd_credential(tmp_path):
    config = parse_config(account_yaml("    oauth2_token_credential: gmail.token\n"))
    account = config.account("gmail-imap")
    assert isinstance(account, ImapAccount) and account.uses_oauth2
    (tmp_path / "gmail.token").write_text('{"refresh_token": "r"}\n')
    assert resolve_secret(account, environ={"CREDENTIALS_DIRECTORY": str(tmp_path)}) == (
        "oauth2", '{"refresh_token": "r"}')
    with pytest.raises(ConfigError, match="oauth2_token_credential needs \\$CREDENTIALS_DIRECTORY"):
        resolve_secret(account, environ={})


def test_the_oauth_client_file_goes_with_an_oauth_token_only():
    config = parse_config(account_yaml("    oauth2_token_file: /t.json\n    client_secrets_file: /c.json\n"))
    assert str(config.account("gmail-imap").client_secrets_file) == "/c.json"
    with pytest.raises(ConfigError) as caught:
        parse_config(account_yaml("    password_file: /pw\n    client_secrets_file: /c.json\n"))
    assert "client_secrets_file is for OAuth" in str(caught.value)


def test_a_token_and_a_password_together_are_refused_naming_every_choice():
    with pytest.raises(ConfigError) as caught:
        parse_config(account_yaml("    password_file: /pw\n    oauth2_token_credential: t\n"))
    assert "set exactly one of password_file, password_env, password_credential, oauth2_token_file, " \
           "oauth2_token_env, oauth2_token_credential" in str(caught.value)
