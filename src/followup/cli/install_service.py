"""``followup install-service [--user]``: writes the systemd unit with this installation's paths.

The units are generated here; ``systemd/interview-followup.service`` and
``systemd/user/interview-followup.service`` in the source tree are these templates with the
default paths (a test keeps them equal). The system unit runs as a dynamic user with the state
in ``/var/lib/interview-followup`` and the passwords and OAuth tokens handed over by
``LoadCredential=``; the user unit runs in your session manager (``loginctl enable-linger``
keeps it running while you are logged out).

OAuth tokens and the system service: a credential is a read-only copy, so a refreshed access
token cannot be written back into ``$CREDENTIALS_DIRECTORY``. It does not need to be: Google
keeps the refresh token the same on a refresh, so the service refreshes the access token in
memory (once an hour, and once per start). That is the default here, rather than a token file
under ``StateDirectory=``: only the service's dynamic user may write there, so putting a new
token there after ``followup auth gmail`` would need a chown into ``/var/lib/private``. A new
token in ``/etc/interview-followup/NAME`` takes effect at the next restart (a reload does not
re-read credentials). The user unit keeps the token in its file and writes it back after a refresh.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

from followup.errors import FollowupError

UNIT_NAME = "interview-followup.service"
SYSTEM_CONFIG = Path("/etc/interview-followup/config.yaml")
SYSTEM_CREDENTIAL_DIR = Path("/etc/interview-followup")
DEFAULT_SYSTEM_EXEC = "/opt/interview-followup/venv/bin/followup"
DEFAULT_USER_EXEC = "%h/.local/bin/followup"
WATCHDOG = "120s"

SYSTEM_TEMPLATE = """\
# System service. Install the package (e.g. into /opt/interview-followup/venv), put the config
# in /etc/interview-followup/config.yaml with `password_credential: NAME` for each account (Gmail
# API: `token_credential: NAME`) and each password or OAuth token in /etc/interview-followup/NAME
# (mode 0600, root-owned; systemd hands it over through LoadCredential=), then:
#   systemctl daemon-reload && systemctl enable --now interview-followup
#   systemctl reload interview-followup    # after editing the config (SIGHUP)
# `followup install-service` writes this file with the paths of the running installation.
[Unit]
Description=interview-followup: follow-up drafts for job seekers
Documentation=file:///usr/share/doc/interview-followup/README.md
Wants=network-online.target
After=network-online.target

[Service]
Type=notify
NotifyAccess=main
ExecStart={exec_start}
ExecReload=/bin/kill -HUP $MAINPID
WatchdogSec={watchdog}
DynamicUser=yes
StateDirectory=interview-followup
StateDirectoryMode=0700
{credentials}Restart=on-failure
RestartSec=30s
# 78 = EX_CONFIG: restarting cannot fix a broken config.
RestartPreventExitStatus=78
TimeoutStopSec=20s

# Hardening: it only needs the network, its state directory and the notify socket.
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes
PrivateDevices=yes
PrivateUsers=yes
ProtectHostname=yes
ProtectClock=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectProc=invisible
ProcSubset=pid
RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX
RestrictNamespaces=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
MemoryDenyWriteExecute=yes
RemoveIPC=yes
CapabilityBoundingSet=
AmbientCapabilities=
SystemCallArchitectures=native
SystemCallFilter=@system-service
SystemCallFilter=~@privileged @resources
UMask=0077

[Install]
WantedBy=multi-user.target
"""

USER_TEMPLATE = """\
# User service: `followup install-service --user` writes it to ~/.config/systemd/user/, then
#   systemctl --user daemon-reload && systemctl --user enable --now interview-followup
#   loginctl enable-linger "$USER"   # keep it running while you are logged out
#   systemctl --user reload interview-followup   # after editing the config (SIGHUP)
[Unit]
Description=interview-followup: follow-up drafts for job seekers
Wants=network-online.target
After=network-online.target

[Service]
Type=notify
NotifyAccess=main
ExecStart={exec_start}
ExecReload=/bin/kill -HUP $MAINPID
WatchdogSec={watchdog}
Restart=on-failure
RestartSec=30s
# 78 = EX_CONFIG: restarting cannot fix a broken config.
RestartPreventExitStatus=78
TimeoutStopSec=20s
NoNewPrivileges=yes
PrivateTmp=yes
UMask=0077
LockPersonality=yes
MemoryDenyWriteExecute=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
RestrictNamespaces=yes
RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX
SystemCallArchitectures=native

[Install]
WantedBy=default.target
"""


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("install-service", help="write the systemd unit for this installation")
    parser.add_argument("--user", action="store_true",
                        help="a user service (~/.config/systemd/user/) instead of a system service")
    parser.add_argument("--output", type=Path, default=None,
                        help="write the unit here instead (`-` prints it)")
    parser.set_defaults(func=run)


def system_unit(exec_path: str, config_path: str, credentials: list[str]) -> str:
    lines = "".join(f"LoadCredential={name}:{SYSTEM_CREDENTIAL_DIR / name}\n" for name in credentials)
    return SYSTEM_TEMPLATE.format(exec_start=f"{exec_path} --config {config_path} run", watchdog=WATCHDOG,
                                  credentials=lines)


def user_unit(exec_path: str, config_path: str | None) -> str:
    start = f"{exec_path} --config {config_path} run" if config_path else f"{exec_path} run"
    return USER_TEMPLATE.format(exec_start=start, watchdog=WATCHDOG)


def followup_executable() -> str:
    """The ``followup`` script of this installation (beside the running interpreter)."""
    beside = Path(sys.executable).parent / "followup"
    if beside.exists():
        return str(beside)
    found = shutil.which("followup")
    if found:
        return str(Path(found).resolve())
    return f"{sys.executable} -m followup"


def user_unit_dir(environ=None) -> Path:
    env = os.environ if environ is None else environ
    base = env.get("XDG_CONFIG_HOME") or os.path.expanduser("~/.config")
    return Path(base) / "systemd" / "user"


def run(args: argparse.Namespace) -> int:
    exec_path = followup_executable()
    notes: list[str] = []
    if args.user:
        config = str(Path(args.config).expanduser().resolve()) if args.config else None
        text = user_unit(exec_path, config)
        target = args.output or user_unit_dir() / UNIT_NAME
        notes = _user_notes(args.config)
        next_steps = ["systemctl --user daemon-reload", "systemctl --user enable --now interview-followup",
                      "loginctl enable-linger \"$USER\"   # keeps it running while you are logged out",
                      "journalctl --user -u interview-followup -f   # its log"]
    else:
        config = str(Path(args.config).expanduser().resolve()) if args.config else str(SYSTEM_CONFIG)
        credentials, notes = _system_credentials(config)
        text = system_unit(exec_path, config, credentials)
        target = args.output or Path("/etc/systemd/system") / UNIT_NAME
        if exec_path.startswith("/home/") or exec_path.startswith("/root/"):
            notes.append(f"{exec_path} is in a home directory, which ProtectHome=yes hides from a system "
                         "service: install into /opt/interview-followup/venv, or use --user")
        next_steps = ["systemctl daemon-reload", "systemctl enable --now interview-followup",
                      "journalctl -u interview-followup -f   # its log"]
    if str(target) == "-":
        sys.stdout.write(text)
        return 0
    target = Path(target)
    existed = target.exists()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        target.chmod(0o644)
    except PermissionError:
        raise FollowupError(f"cannot write {target}: permission denied (a system service needs root: "
                            "sudo followup install-service; or use --user)") from None
    except OSError as exc:
        raise FollowupError(f"cannot write {target}: {exc.strerror}") from None
    print(f"{'replaced' if existed else 'wrote'} {target} (ExecStart: {exec_path})")
    for note in notes:
        print(f"note: {note}")
    print("next:")
    for step in next_steps:
        print(f"  {step}")
    return 0


def _system_credentials(config_path: str) -> tuple[list[str], list[str]]:
    """The LoadCredential= names the config asks for, and notes: what file to place where, and
    what does not fit a system service."""
    from followup.config import GmailAccount, ImapAccount, load_config
    from followup.errors import ConfigError

    try:
        config = load_config(config_path, environ={})
    except ConfigError as exc:
        return ["personal.password"], [f"could not read {config_path} ({str(exc).splitlines()[0]}); "
                                       "the unit loads the credential personal.password: edit LoadCredential= "
                                       "to match your accounts' password_credential names"]
    names: list[str] = []
    notes: list[str] = []
    for account in config.accounts:
        if isinstance(account, GmailAccount):
            if account.token_credential:
                names.append(account.token_credential)
                notes.append(_token_note(config_path, account.name, account.token_credential))
            else:
                notes.append(f"{account.name}: a system service cannot use a token_file (it cannot read your home, "
                             "and only its dynamic user may write its state directory): add "
                             f"`token_credential: {account.name}.token` to the account and run this again")
        elif isinstance(account, ImapAccount):
            if account.password_credential:
                names.append(account.password_credential)
                notes.append(f"{account.name}: put the password in {SYSTEM_CREDENTIAL_DIR / account.password_credential} "
                             "(mode 0600, owned by root)")
            elif account.oauth2_token_credential:
                names.append(account.oauth2_token_credential)
                notes.append(_token_note(config_path, account.name, account.oauth2_token_credential))
            elif account.uses_oauth2:
                notes.append(f"{account.name}: a system service cannot read oauth2_token_file/oauth2_token_env; use "
                             f"`oauth2_token_credential: {account.name}.token` and run this again")
            else:
                notes.append(f"{account.name}: a system service cannot read password_file/password_env; use "
                             f"password_credential: {account.name}.password and put the password in "
                             f"{SYSTEM_CREDENTIAL_DIR / (account.name + '.password')} (mode 0600)")
        else:
            notes.append(f"{account.name}: a Maildir account is read as the service's dynamic user: "
                         "make it readable, or use --user")
    if _sets_state_dir(config_path):
        notes.append("the config sets state_dir: remove it, so the service keeps its state in "
                     "/var/lib/interview-followup (StateDirectory=); every other path is read-only to it")
    return names, notes


def _token_note(config_path: str, account: str, credential: str) -> str:
    """Where an OAuth token for the system service goes, how it gets there, and how it is refreshed."""
    target = SYSTEM_CREDENTIAL_DIR / credential
    auth = f"sudo followup --config {config_path} auth gmail --account {account}"
    written = Path(config_path).expanduser().resolve().parent / credential  # where `followup auth` puts it
    if written == target:
        how = f"`{auth}` writes it there"
    else:
        how = f"`{auth}` writes it to {written}; then: sudo install -m 600 -o root {written} {target}"
    return (f"{account}: put its OAuth token in {target} (mode 0600, owned by root): {how}. The service "
            "refreshes the access token in memory (a credential is read-only; Google keeps the refresh token "
            "the same); after a new `followup auth gmail`, run `systemctl restart interview-followup` "
            "(a reload does not re-read credentials)")


def _user_notes(config_arg: str | None) -> list[str]:
    """For a user service: accounts that still need a token, and credential names it cannot use."""
    from followup.config import GmailAccount, ImapAccount, load_config
    from followup.errors import ConfigError
    from followup.mailbox import gmail_auth

    try:
        config = load_config(config_arg)
    except ConfigError:
        return []
    notes = []
    for account in config.accounts:
        if isinstance(account, GmailAccount) and account.token_credential:
            notes.append(f"{account.name}: token_credential needs the system service (LoadCredential=); for "
                         "the user service remove it, so the token is read from (and refreshed in) its file")
        elif isinstance(account, GmailAccount):
            path = gmail_auth.token_path(config, account)
            if not path.exists():
                notes.append(f"{account.name}: no token yet: run `followup auth gmail --account {account.name}` "
                             "before starting the service")
            else:
                notes.append(f"{account.name}: the service reads its token from {path} and writes it back there "
                             "after a refresh")
        elif isinstance(account, ImapAccount) and (account.password_credential or account.oauth2_token_credential):
            notes.append(f"{account.name}: a *_credential key needs the system service (LoadCredential=); for "
                         "the user service use password_file or oauth2_token_file")
        elif isinstance(account, ImapAccount) and account.oauth2_token_file is not None:
            path = Path(os.path.expanduser(str(account.oauth2_token_file)))
            if not path.exists():
                notes.append(f"{account.name}: no token yet in {path}: run `followup auth gmail --account "
                             f"{account.name}` before starting the service")
    return notes


def _sets_state_dir(config_path: str) -> bool:
    import yaml

    try:
        data = yaml.safe_load(Path(config_path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return False
    return isinstance(data, dict) and "state_dir" in data
