"""``followup doctor``: checks everything the daemon depends on and says what would happen next.

Config; secret files (present, owner-only); the state directory; every account's connection,
login, capabilities and the Inbox/Sent/Drafts folders found; the clock (NTP) and the time
zone; then the next drafts, polls and digest. Each line is ``ok``, ``warn`` or ``FAIL``; the
exit code is 0 when nothing failed, 1 otherwise (78 when the config itself cannot be read).
"""

from __future__ import annotations

import argparse
import os
import shutil
import stat
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

from followup.cli.common import load, utc_now
from followup.config import Config, GmailAccount, ImapAccount, MaildirAccount, resolve_secret
from followup.errors import ConfigError, FollowupError


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("doctor", help="check connectivity, folders, secrets, clock and time zone; "
                            "say what happens next")
    parser.add_argument("--offline", action="store_true", help="do not connect to the mail servers")
    parser.set_defaults(func=run)


class Report:
    def __init__(self) -> None:
        self.failed = 0
        self.warned = 0

    def ok(self, text: str) -> None:
        print(f"  ok    {text}")

    def warn(self, text: str) -> None:
        self.warned += 1
        print(f"  warn  {text}")

    def fail(self, text: str) -> None:
        self.failed += 1
        print(f"  FAIL  {text}")

    def info(self, text: str) -> None:
        print(f"        {text}")


def run(args: argparse.Namespace) -> int:
    report = Report()
    print("config")
    config = load(args)  # a broken config: one clear error, exit 78
    report.ok(f"{config.source}: {len(config.accounts)} account(s): "
              + ", ".join(f"{a.name} ({a.type})" for a in config.accounts))
    _check_file_mode(report, config.source, secret=False)

    print("secrets")
    secrets_ok = _check_secrets(report, config)

    print("state")
    _check_state(report, config)

    print("accounts")
    for account in config.accounts:
        if args.offline:
            report.info(f"{account.name}: not checked (--offline)")
        elif account.name in secrets_ok:
            _check_account(report, config, account.name)
        else:
            report.fail(f"{account.name}: not checked: its secret is not usable (see above)")

    print("clock and time zone")
    _check_clock(report, config)

    print("what happens next")
    _next(report, config)

    print()
    if report.failed:
        print(f"{report.failed} problem(s), {report.warned} warning(s)")
        return 1
    print("everything needed works" + (f" ({report.warned} warning(s))" if report.warned else ""))
    return 0


def _check_file_mode(report: Report, path: Path | None, *, secret: bool) -> None:
    if path is None:
        return
    try:
        info = Path(path).stat()
    except OSError:
        return
    mode = stat.S_IMODE(info.st_mode)
    if mode & stat.S_IWOTH:
        report.warn(f"{path}: anyone may write it (mode {mode:04o}); run: chmod o-w {path}")
    elif secret and mode & (stat.S_IRWXG | stat.S_IRWXO):
        report.fail(f"{path}: readable by others (mode {mode:04o}); run: chmod 600 {path}")


def _check_secrets(report: Report, config: Config) -> set[str]:
    usable: set[str] = set()
    from followup.mailbox import gmail_auth

    for account in config.accounts:
        if isinstance(account, GmailAccount):
            try:
                path = gmail_auth.token_source(config, account)
            except ConfigError as exc:
                report.fail(str(exc))
                continue
            usable.add(account.name)
            kind = f"systemd credential {account.token_credential}" if account.token_credential else "token file"
            report.ok(f"{account.name}: Gmail {kind} {path}")
            continue
        if not isinstance(account, ImapAccount):
            usable.add(account.name)
            continue
        try:
            kind, secret = resolve_secret(account)
            refreshable = kind == "oauth2" and gmail_auth.is_token_json(secret)
            if refreshable:
                gmail_auth.credentials_from_text(secret, account.name, "of this account")
        except ConfigError as exc:
            report.fail(str(exc))
            continue
        usable.add(account.name)
        what = "OAuth token (refreshed before a login)" if refreshable else "secret"
        path = account.password_file or account.oauth2_token_file
        credential = account.password_credential or account.oauth2_token_credential
        if path is not None:
            path = Path(os.path.expanduser(str(path)))
            mode = stat.S_IMODE(path.stat().st_mode)
            report.ok(f"{account.name}: {what} file {path} (mode {mode:04o}, owner only)")
        elif credential:
            report.ok(f"{account.name}: {what} from the systemd credential {credential}")
        else:
            report.warn(f"{account.name}: {what} from the environment ({account.password_env or account.oauth2_token_env}); "
                        "a file (mode 0600) or a systemd credential is safer")
    if not any(isinstance(a, ImapAccount | GmailAccount) for a in config.accounts):
        report.info("none needed (Maildir accounts only)")
    return usable


def _check_state(report: Report, config: Config) -> None:
    from followup.store.db import Store

    path = config.database_path
    try:
        store = Store.open(path)
    except FollowupError as exc:
        report.fail(str(exc))
        return
    try:
        mode = stat.S_IMODE(path.parent.stat().st_mode)
        where = f"{path} (directory mode {mode:04o})"
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            report.warn(f"{where}: others may read your mail's state; run: chmod 700 {path.parent}")
        else:
            report.ok(where)
        rows = store.db.execute("SELECT account, max(synced_at) FROM cursors GROUP BY account").fetchall()
        synced = {r[0]: r[1] for r in rows}
        for account in config.accounts:
            if account.name in synced:
                when = datetime.fromisoformat(synced[account.name]).astimezone(config.tz)
                report.info(f"{account.name}: last synced {when:%Y-%m-%d %H:%M} "
                            f"({store.count_messages(account.name)} messages known)")
            else:
                report.info(f"{account.name}: never synced yet")
    finally:
        store.close()


def _check_account(report: Report, config: Config, name: str) -> None:
    from followup.core.model import FolderRole
    from followup.mailbox.factory import open_mailbox

    account = config.account(name)
    try:
        mailbox = open_mailbox(config, name)
        mailbox.connect()
    except FollowupError as exc:
        report.fail(f"{name}: {exc}")
        return
    try:
        if isinstance(account, ImapAccount):
            caps = getattr(mailbox, "capabilities", frozenset())
            extras = [c for c in ("IDLE", "CONDSTORE", "UIDPLUS", "SPECIAL-USE", "X-GM-EXT-1") if c in caps]
            report.ok(f"{name}: logged in to {account.host}:{account.effective_port} ({account.security}); "
                      f"server offers {', '.join(extras) or 'none of IDLE, CONDSTORE, UIDPLUS'}")
            if "IDLE" not in caps:
                report.info(f"{name}: no IDLE: new mail is seen at the next poll "
                            f"(every {config.sync.poll_interval_seconds} s)")
        elif isinstance(account, MaildirAccount):
            report.ok(f"{name}: Maildir {account.path}")
        else:  # a Gmail API account: connect() checked the token with getProfile
            report.ok(f"{name}: Gmail API as {getattr(mailbox, 'email_address', None) or account.address}")
        for role in (FolderRole.INBOX, FolderRole.SENT, FolderRole.DRAFTS):
            try:
                folder = mailbox.folder_name(role) if hasattr(mailbox, "folder_name") else role.value
                state = mailbox.folder_state(role)
            except FollowupError as exc:
                report.fail(f"{name}: {role.value}: {exc}")
                continue
            report.ok(f"{name}: {role.value} folder {folder!r}: {state.messages} message(s)")
    finally:
        mailbox.close()


def _check_clock(report: Report, config: Config) -> None:
    now = utc_now()
    local = now.astimezone(config.tz)
    report.info(f"now: {now:%Y-%m-%d %H:%M:%S} UTC = {local:%Y-%m-%d %H:%M} {config.timezone}")
    synced = _ntp_synchronized()
    if synced is True:
        report.ok("the system clock is synchronised (NTP)")
    elif synced is False:
        report.warn("the system clock is not synchronised (timedatectl: NTPSynchronized=no); "
                    "drafts are timed by it")
    else:
        report.info("clock synchronisation unknown (no timedatectl)")
    system = _system_zone()
    if system and system != config.timezone:
        report.info(f"the config's time zone {config.timezone} differs from the system's ({system}); "
                    "drafts and the digest follow the config")
    else:
        report.ok(f"time zone {config.timezone}")


def _ntp_synchronized() -> bool | None:
    binary = shutil.which("timedatectl")
    if binary is None:
        return None
    try:
        out = subprocess.run([binary, "show", "--property=NTPSynchronized", "--value"], capture_output=True,
                             text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return None
    value = out.stdout.strip()
    return {"yes": True, "no": False}.get(value)


def _system_zone() -> str | None:
    if os.environ.get("TZ"):
        return os.environ["TZ"].lstrip(":")
    try:
        target = os.readlink("/etc/localtime")
    except OSError:
        return None
    marker = "zoneinfo/"
    return target.split(marker, 1)[1] if marker in target else None


def _next(report: Report, config: Config) -> None:
    from followup.cli.status import next_drafts
    from followup.store.db import Store

    now = utc_now()
    tz = config.tz
    report.info(f"`followup run` polls every {config.sync.poll_interval_seconds} s "
                "(and at once on new mail where IDLE is offered)")
    if config.digest.enabled and config.digest.delivery != "none":
        local = now.astimezone(tz)
        at = local.replace(hour=config.digest.hour, minute=0, second=0, microsecond=0)
        if at <= local:
            at += timedelta(days=1)
        report.info(f"daily digest by {config.digest.delivery} at {config.digest.hour:02d}:00 "
                    f"(next: {at:%a %d %b %H:%M} unless today's is still to be sent)")
    else:
        report.info("no daily digest (digest.enabled is false or delivery is none)")
    try:
        store = Store.open(config.database_path)
    except FollowupError:
        return
    try:
        upcoming = next_drafts(store, config, now)
        names = {r["id"]: f"{r['company'] or '?'} ({r['role'] or '?'})" for r in store.applications()}
    finally:
        store.close()
    if not upcoming:
        report.info("no draft scheduled")
        return
    ordered = sorted(upcoming.items(), key=lambda item: datetime.fromisoformat(item[1]["due"]).astimezone(UTC))
    for app_id, draft in ordered[:10]:
        due = datetime.fromisoformat(draft["due"])
        when = "at the next poll" if due <= now else f"{due.astimezone(tz):%a %d %b %H:%M}"
        report.info(f"{when}: {draft['kind']} draft for {names.get(app_id, app_id)}"
                    + (f" to {draft['to']}" if draft["to"] else ""))
    if len(ordered) > 10:
        report.info(f"... and {len(ordered) - 10} more (followup status)")
