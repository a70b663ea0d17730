"""``followup init``: a few questions, then a commented config, a 0600 secrets file, and a
connection test.

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
    kind = a.ask("Mailbox type: imap or maildir", "imap",
                 check=lambda v: None if v.lower() in ("imap", "maildir") else "answer imap or maildir").lower()
    account = a.ask("A short name for this account", "personal",
                    check=lambda v: None if v.replace("-", "").replace("_", "").replace(".", "").isalnum()
                    and len(v) <= 40 else "letters, digits, - _ . only")
    secret_path = target.parent / f"{account}.password"
    password = None
    if kind == "imap":
        domain = email.rsplit("@", 1)[1].lower()
        host = a.ask("IMAP server", KNOWN_HOSTS.get(domain, f"imap.{domain}"))
        security = a.ask("Security: tls, starttls or plain (plain only for this machine)", "tls",
                         check=lambda v: None if v in ("tls", "starttls", "plain") else "answer tls, starttls or plain")
        port = a.ask("Port", "993" if security == "tls" else "143",
                     check=lambda v: None if v.isdigit() and 0 < int(v) < 65536 else "a port number")
        username = a.ask("Username", email)
        hint = " (Gmail, Outlook, Yahoo, iCloud: an app password)" if domain in KNOWN_HOSTS else ""
        password = a.ask(f"Password{hint}; stored in {secret_path}, mode 0600", secret=True)
        account_yaml = _imap_yaml(account, email, host, security, int(port), username, secret_path)
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
    if args.no_test:
        return 0
    return _test_connection(target, account)


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


def _imap_yaml(name: str, email: str, host: str, security: str, port: int, username: str, secret: Path) -> str:
    return f"""  - name: {name}
    type: imap
    address: {_q(email)}
    host: {_q(host)}
    port: {port}
    security: {security}             # tls | starttls | plain (plain only for a server on this machine)
    username: {_q(username)}
    # The password lives in a file readable only by you (or use password_env, or
    # password_credential with systemd's LoadCredential=):
    password_file: {_q(str(secret))}
    timeout_seconds: 30
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
              "  delivery: imap        # imap: appended to your INBOX (needs no permission to send); smtp; none\n"
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
