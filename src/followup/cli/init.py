"""``followup init``: a few questions, then a commented config, a 0600 secrets file, and a
connection test.

The mailbox is one of: ``imap`` (any IMAP server, a password), ``gmail`` (Gmail through the
Gmail API: asks for the OAuth client JSON downloaded from Google Cloud), ``gmail-imap`` (Gmail
over IMAP on imap.gmail.com:993, with an app password or OAuth) or ``maildir``. An OAuth
account has no token yet, so instead of the connection test init says to run
``followup auth gmail --account NAME`` (which tests it).

Every question has a default in brackets (Enter takes it). Answers are read with ``input()``;
the password with ``getpass`` on a terminal, so the whole dialogue can be scripted by feeding
stdin. Nothing is written before every answer is in and the resulting config validates; an
existing config is never overwritten without ``--force``.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import stat
import sys
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from followup.config import default_config_path, parse_config
from followup.errors import ConfigError, FollowupError

#: Well-known IMAP servers by mail domain (anything else: imap.<domain>).
KNOWN_HOSTS = {
    "gmail.com": "imap.gmail.com", "googlemail.com": "imap.gmail.com",
    "outlook.com": "outlook.office365.com", "hotmail.com": "outlook.office365.com",
    "live.com": "outlook.office365.com", "yahoo.com": "imap.mail.yahoo.com",
    "icloud.com": "imap.mail.me.com", "me.com": "imap.mail.me.com", "fastmail.com": "imap.fastmail.com",
}
GMAIL_DOMAINS = ("gmail.com", "googlemail.com")
GMAIL_IMAP_HOST = "imap.gmail.com"
KINDS = {
    "imap": "any IMAP server, with a password",
    "gmail": "Gmail through the Gmail API (recommended for Gmail: OAuth, read + drafts only)",
    "gmail-imap": "Gmail over IMAP (imap.gmail.com, an app password or OAuth)",
    "maildir": "a local Maildir",
}


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("init", help="answer a few questions; writes the config and the password file")
    parser.add_argument("--force", action="store_true", help="replace an existing config")
    parser.add_argument("--no-test", action="store_true", help="do not test the connection")
    parser.set_defaults(func=run)


class Asker:
    """Questions on stdout, answers from stdin; EOF is an error (a script that ran out of answers)."""

    def ask(self, question: str, default: str | None = None, *, check=None, secret: bool = False) -> str:
        prompt = f"{question}" + (f" [{default}]" if default else "") + ": "
        for _ in range(5):
            try:
                if secret and sys.stdin.isatty():
                    answer = getpass.getpass(prompt)
                else:
                    answer = input(prompt)
            except EOFError:
                print()
                raise FollowupError(f"no answer to {question!r} (stdin ended)") from None
            answer = answer.strip()
            if not answer and default is not None:
                answer = default
            if not answer:
                print("  an answer is needed")
                continue
            problem = check(answer) if check else None
            if problem:
                print(f"  {problem}")
                continue
            return answer
        raise FollowupError(f"no usable answer to {question!r}")


def run(args: argparse.Namespace) -> int:
    target = Path(args.config).expanduser() if args.config else default_config_path()
    if target.exists() and not args.force:
        raise FollowupError(f"{target} exists; `followup init --force` replaces it "
                            "(or edit it and run `followup check-config`)")
    print(f"Setting up interview-followup: the config goes to {target}. Enter takes the default.")
    a = Asker()
    name = a.ask("Your name (it signs the drafts)")
    email = a.ask("Your email address", check=lambda v: None if "@" in v else "that is not an email address")
    timezone = a.ask("Your time zone (IANA name)", _system_zone() or "UTC", check=_check_zone)
    country = a.ask("Country for public holidays (ISO code)", "US", check=_check_country).upper()
    domain = email.rsplit("@", 1)[1].lower()
    is_gmail = domain in GMAIL_DOMAINS
    print("Mailbox types: " + "; ".join(f"{k}: {v}" for k, v in KINDS.items()))
    kind = a.ask("Mailbox type: " + ", ".join(KINDS), "gmail" if is_gmail else "imap",
                 check=lambda v: None if v.lower() in KINDS else "answer " + ", ".join(KINDS)).lower()
    account = a.ask("A short name for this account", "gmail" if kind.startswith("gmail") else "personal",
                    check=lambda v: None if v.replace("-", "").replace("_", "").replace(".", "").isalnum()
                    and len(v) <= 40 else "letters, digits, - _ . only")
    secret_path = target.parent / f"{account}.password"
    password = None
    oauth = False  # no token yet: `followup auth gmail` gets it and tests the connection
    client_file: Path | None = None
    if kind == "gmail":
        oauth = True
        client_file = _ask_client_file(a, target)
        account_yaml = _gmail_yaml(account, email, client_file)
    elif kind == "gmail-imap":
        print(f"Gmail's IMAP server: {GMAIL_IMAP_HOST}, port 993, TLS.")
        username = a.ask("Username", email)
        how = a.ask("Sign in with an app password or with OAuth: app-password or oauth", "app-password",
                    check=lambda v: None if v.lower() in ("app-password", "oauth") else "answer app-password or oauth")
        if how.lower() == "oauth":
            oauth = True
            client_file = _ask_client_file(a, target)
            token_path = target.parent / f"{account}.token.json"
            secret_yaml = _oauth_secret_yaml(account, token_path, client_file)
        else:
            password = a.ask("App password (Google Account > Security > 2-Step Verification > App passwords); "
                             f"stored in {secret_path}, mode 0600", secret=True)
            secret_yaml = _password_secret_yaml(secret_path)
        account_yaml = _imap_yaml(account, email, GMAIL_IMAP_HOST, "tls", 993, username, secret_yaml)
    elif kind == "imap":
        host = a.ask("IMAP server", KNOWN_HOSTS.get(domain, f"imap.{domain}"))
        security = a.ask("Security: tls, starttls or plain (plain only for this machine)", "tls",
                         check=lambda v: None if v in ("tls", "starttls", "plain") else "answer tls, starttls or plain")
        port = a.ask("Port", "993" if security == "tls" else "143",
                     check=lambda v: None if v.isdigit() and 0 < int(v) < 65536 else "a port number")
        username = a.ask("Username", email)
        hint = " (Gmail, Outlook, Yahoo, iCloud: an app password)" if domain in KNOWN_HOSTS else ""
        password = a.ask(f"Password{hint}; stored in {secret_path}, mode 0600", secret=True)
        account_yaml = _imap_yaml(account, email, host, security, int(port), username,
                                  _password_secret_yaml(secret_path))
    else:
        path = a.ask("Maildir path", "~/Maildir")
        account_yaml = _maildir_yaml(account, email, path)
    hour = a.ask("Hour of the daily digest (0-23, or none)", "8",
                 check=lambda v: None if v == "none" or (v.isdigit() and int(v) < 24) else "0-23 or none")

    text = _config_text(name=name, email=email, timezone=timezone, country=country,
                        account_yaml=account_yaml, digest_hour=None if hour == "none" else int(hour))
    try:
        parse_config(text, source=target)  # never write a config that would not load
    except ConfigError as exc:
        raise FollowupError(f"the answers do not make a valid config:\n{exc}") from None
    target.parent.mkdir(parents=True, exist_ok=True)
    if password is not None:
        _write_secret(secret_path, password)
    _write_text(target, text)
    print(f"wrote {target}" + (f" and {secret_path} (mode 0600)" if password is not None else ""))
    if oauth:
        _oauth_next_steps(target, account, client_file)
        return 0
    if args.no_test:
        return 0
    return _test_connection(target, account)


def _ask_client_file(a: Asker, target: Path) -> Path:
    """The OAuth client JSON (a "Desktop app" client) downloaded from Google Cloud, as an absolute path."""
    answer = a.ask("OAuth client JSON downloaded from Google Cloud (a Desktop app client; "
                   "see the README's Gmail section)", str(target.parent / "client_secret.json"),
                   check=_check_client_file)
    return Path(os.path.expanduser(answer)).absolute()


def _check_client_file(value: str) -> str | None:
    """A problem with the client file, if it is there already (it may still be downloaded later)."""
    path = Path(os.path.expanduser(value))
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return f"{path} is not the JSON Google Cloud gives for an OAuth client"
    if not isinstance(data, dict) or "installed" not in data:
        if isinstance(data, dict) and "web" in data:
            return (f"{path} is a \"Web application\" client; create one of type \"Desktop app\" "
                    "(Clients > Create client) and download that")
        return f"{path} is not an OAuth client of type \"Desktop app\" (no \"installed\" section)"
    return None


def _oauth_next_steps(target: Path, account: str, client_file: Path | None) -> None:
    if client_file is not None and not client_file.exists():
        print(f"note: {client_file} is not there yet: download the OAuth client JSON (Google Cloud Console, "
              "Clients, type Desktop app) and save it there")
    elif client_file is not None and stat.S_IMODE(client_file.stat().st_mode) & (stat.S_IRWXG | stat.S_IRWXO):
        print(f"note: {client_file} is readable by others; run: chmod 600 {client_file}")
    config_arg = "" if target == default_config_path() else f" --config {target}"
    print("next:")
    print(f"  followup{config_arg} auth gmail --account {account}   # sign in with Google once; it saves the "
          "token and tests the connection")
    print("      (on a server over SSH, first forward the port it names: ssh -L 8765:127.0.0.1:8765 you@server)")
    print(f"  followup{config_arg} doctor   # then a first sync: followup{config_arg} once")
    print(f"  followup{config_arg} install-service --user   # keep it running")


def _test_connection(target: Path, account: str) -> int:
    from followup.config import load_config
    from followup.core.model import FolderRole
    from followup.mailbox.factory import open_mailbox

    print(f"testing {account} ...")
    try:
        config = load_config(target)
        mailbox = open_mailbox(config, account)
        mailbox.connect()
        try:
            found = []
            for role in (FolderRole.INBOX, FolderRole.SENT, FolderRole.DRAFTS):
                folder = mailbox.folder_name(role) if hasattr(mailbox, "folder_name") else role.value
                mailbox.folder_state(role)
                found.append(f"{role.value}: {folder}")
        finally:
            mailbox.close()
    except FollowupError as exc:
        print(f"the connection test failed: {exc}")
        print(f"fix {target} (or run `followup init --force`), then `followup doctor`")
        return 1
    print("connected; folders found: " + ", ".join(found))
    print("next: `followup once` for a first sync, then `followup install-service --user` to keep it running")
    return 0


def _check_zone(value: str) -> str | None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return f"unknown time zone {value!r} (e.g. Europe/Berlin, America/New_York)"
    return None


def _check_country(value: str) -> str | None:
    import holidays

    if value.upper() not in holidays.list_supported_countries():
        return f"no holiday calendar for {value!r} (an ISO code like US, DE, FR)"
    return None


def _system_zone() -> str | None:
    from followup.cli.doctor import _system_zone as zone

    found = zone()
    return found if found and not _check_zone(found) else None


def _q(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid YAML scalar


def _password_secret_yaml(secret: Path) -> str:
    return f"""    # The password lives in a file readable only by you (or use password_env, or
    # password_credential with systemd's LoadCredential=):
    password_file: {_q(str(secret))}
"""


def _oauth_secret_yaml(name: str, token: Path, client_file: Path) -> str:
    return f"""    # XOAUTH2: `followup auth gmail --account {name}` writes the token here (mode 0600); it is
    # refreshed before a login when it has expired. (For the system service use
    # oauth2_token_credential: {name}.token instead; an app password would go in password_file.)
    oauth2_token_file: {_q(str(token))}
    # The OAuth client (type "Desktop app") downloaded from Google Cloud; only `followup auth gmail` reads it.
    client_secrets_file: {_q(str(client_file))}
"""


def _gmail_yaml(name: str, email: str, client_file: Path) -> str:
    return f"""  - name: {name}
    type: gmail                # the Gmail API, allowed to read mail and write drafts
    address: {_q(email)}
    # The OAuth client (type "Desktop app") downloaded from Google Cloud; only `followup auth gmail` reads it.
    client_secrets_file: {_q(str(client_file))}
    # `followup auth gmail --account {name}` writes the token (mode 0600) to
    # <state_dir>/gmail-{name}.token.json, or to token_file if set. For the system service hand
    # it over as a systemd credential instead (see `followup install-service`):
    # token_credential: {name}.token
    # true: label the threads with the application's stage (Jobs/Interview, ...); that needs the
    # gmail.modify scope, so run `followup auth gmail` again after turning it on.
    labels: false
    timeout_seconds: 30
"""


def _imap_yaml(name: str, email: str, host: str, security: str, port: int, username: str, secret_yaml: str) -> str:
    return f"""  - name: {name}
    type: imap
    address: {_q(email)}
    host: {_q(host)}
    port: {port}
    security: {security}             # tls | starttls | plain (plain only for a server on this machine)
    username: {_q(username)}
{secret_yaml}    timeout_seconds: 30
    # Inbox, Sent and Drafts are found by their SPECIAL-USE flags; override only if needed:
    # folders:
    #   drafts: "Drafts"
"""


def _maildir_yaml(name: str, email: str, path: str) -> str:
    return f"""  - name: {name}
    type: maildir
    path: {_q(path)}           # INBOX is the root; Sent and Drafts are Maildir++ subfolders
    address: {_q(email)}
    sent_folder: .Sent
    drafts_folder: .Drafts
"""


def _config_text(*, name: str, email: str, timezone: str, country: str, account_yaml: str,
                 digest_hour: int | None) -> str:
    digest = (f"  enabled: true\n  hour: {digest_hour}            # local hour of the daily digest\n"
              "  delivery: imap        # imap: put in your INBOX (a Gmail API account mails it to you); smtp; none\n"
              if digest_hour is not None else "  enabled: false\n")
    return f"""# interview-followup configuration, written by `followup init`.
# Check it with `followup check-config`; `followup doctor` tests everything it needs.
# Secrets are never written here. Unknown keys are errors, so a typo never goes unnoticed.
# Every setting is described in config.example.yaml.

# Your time zone (IANA name). Every draft is timed in it.
timezone: {timezone}
# Public holidays that are not business days (ISO country code).
country: {country}
# Where the state lives: by default ~/.local/state/interview-followup (or systemd's StateDirectory=).
# state_dir: ~/.local/state/interview-followup

user:
  # Your name, used to sign drafts.
  name: {_q(name)}
  # Every address you send from (account addresses are added automatically).
  addresses:
    - {_q(email)}

# One or more mailboxes. Each draft goes to the account that received the thread.
accounts:
{account_yaml}
sync:
  # How often the daemon looks for new mail (with IMAP IDLE it also reacts within seconds).
  poll_interval_seconds: 300

schedule:
  # Drafts appear at this hour of the day they are due (the thank-you right after the interview).
  morning_hour: 9

digest:
{digest}"""


def _write_secret(path: Path, value: str) -> None:
    """Write ``value`` to ``path`` with mode 0600 from the start (never briefly readable by others)."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.unlink()
    except FileNotFoundError:
        pass
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, value.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    os.chmod(tmp, 0o600)  # whatever the umask did
    os.replace(tmp, path)


def _write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.chmod(0o644)
    os.replace(tmp, path)
