"""The YAML config, validated whole into one frozen, typed :class:`Config`.

Every problem is reported at once (file, key path, reason), unknown keys are rejected, and
secrets are only ever *references*: ``password_file``, ``password_env`` or
``password_credential`` (a file in systemd's ``$CREDENTIALS_DIRECTORY``). A secret written
inline is refused with a message saying how to move it out. Secrets are resolved when an
account connects (:func:`resolve_secret`), never logged, and files holding them must not be
readable by group or others.
"""

from __future__ import annotations

import ipaddress
import os
import stat
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from followup.errors import ConfigError

DEFAULT_CONFIG_PATH = Path("~/.config/interview-followup/config.yaml")
DEFAULT_STATE_DIR = Path("~/.local/state/interview-followup")

_SECRET_WORDS = ("password", "token", "secret", "client_secret", "refresh_token", "access_token")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SecretRef(_Strict):
    """Where a secret lives. Exactly one of the three must be set."""

    file: Path | None = None
    env: str | None = None
    credential: str | None = None


class _AccountBase(_Strict):
    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,40}$")]
    address: str | None = Field(default=None, description="the user's address on this account")


class ImapAccount(_AccountBase):
    type: Literal["imap"]
    host: str
    port: int | None = None
    security: Literal["tls", "starttls", "plain"] = "tls"
    username: str
    password_file: Path | None = None
    password_env: str | None = None
    password_credential: str | None = None
    oauth2_token_file: Path | None = None
    oauth2_token_env: str | None = None
    oauth2_token_credential: str | None = None
    client_secrets_file: Path | None = None
    timeout_seconds: float = Field(default=30.0, gt=0, le=600)
    folders: dict[Literal["inbox", "sent", "drafts"], str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check(self) -> ImapAccount:
        refs = [self.password_file, self.password_env, self.password_credential,
                self.oauth2_token_file, self.oauth2_token_env, self.oauth2_token_credential]
        if sum(r is not None for r in refs) != 1:
            raise ValueError(
                "set exactly one of password_file, password_env, password_credential, "
                "oauth2_token_file, oauth2_token_env, oauth2_token_credential"
            )
        if self.client_secrets_file is not None and not self.uses_oauth2:
            raise ValueError("client_secrets_file is for OAuth (`followup auth gmail`): it goes with "
                             "oauth2_token_file or oauth2_token_credential, not with a password")
        if self.security == "plain" and not _is_loopback(self.host):
            raise ValueError("security: plain is only allowed for a server on this machine "
                             "(127.0.0.1, ::1, localhost); use tls or starttls")
        return self

    @property
    def effective_port(self) -> int:
        return self.port or (993 if self.security == "tls" else 143)

    @property
    def uses_oauth2(self) -> bool:
        """True when the login is XOAUTH2 (a token reference) rather than a password."""
        return any(r is not None for r in (self.oauth2_token_file, self.oauth2_token_env,
                                           self.oauth2_token_credential))


class MaildirAccount(_AccountBase):
    type: Literal["maildir"]
    path: Path
    sent_folder: str = ".Sent"
    drafts_folder: str = ".Drafts"


class GmailAccount(_AccountBase):
    """A Gmail account through the Gmail REST API (:mod:`followup.mailbox.gmail`).

    The OAuth token comes from ``followup auth gmail --account NAME`` and lives in ``token_file``
    (default: ``<state_dir>/gmail-<name>.token.json``, mode 0600) or, under systemd, in the
    credential ``token_credential`` (``LoadCredential=``). ``client_secrets_file`` (the OAuth
    client downloaded from Google Cloud) is read by ``followup auth`` only. ``labels: true``
    puts stage labels (``Jobs/Interview`` …) on the application's threads and needs the
    ``gmail.modify`` scope. (Gmail over IMAP is an ``imap`` account on ``imap.gmail.com``.)
    """

    type: Literal["gmail"]
    address: str = Field(description="the Gmail address of this account")
    client_secrets_file: Path | None = None
    token_file: Path | None = None
    token_credential: str | None = None
    labels: bool = False
    timeout_seconds: float = Field(default=30.0, gt=0, le=600)

    @model_validator(mode="after")
    def _check(self) -> GmailAccount:
        if self.token_file is not None and self.token_credential is not None:
            raise ValueError("set at most one of token_file, token_credential")
        if "@" not in self.address:
            raise ValueError("address must be the account's Gmail address (name@gmail.com)")
        return self


Account = Annotated[ImapAccount | MaildirAccount | GmailAccount, Field(discriminator="type")]


class SyncSettings(_Strict):
    window_days: int = Field(default=90, ge=1, le=3650)
    poll_interval_seconds: int = Field(default=300, ge=30, le=86400)
    batch_size: int = Field(default=500, ge=1, le=5000)


class ScheduleSettings(_Strict):
    morning_hour: int = Field(default=9, ge=0, le=23)
    interview_minutes: int = Field(default=45, ge=5, le=600)
    thank_you_max_lateness_hours: int = Field(default=72, ge=1)
    followup_1_days: int = Field(default=7, ge=1)
    followup_2_days: int = Field(default=7, ge=1)
    final_days: int = Field(default=14, ge=1)
    stop_days: int = Field(default=14, ge=1)
    max_followups: int = Field(default=3, ge=0, le=10)
    reply_to_early_rejection: bool = False
    confidence_threshold: float = Field(default=0.6, ge=0, le=1)
    templates_dir: Path | None = None


class SmtpSettings(_Strict):
    """The server the digest is sent through when ``digest.delivery`` is ``smtp``.

    ``security``: ``starttls`` (port 587), ``tls`` (implicit TLS, port 465) or ``plain`` (port
    25, only to a server on this machine). A ``username`` needs exactly one password reference
    (``password_file``/``password_env``/``password_credential``, resolved like an account's);
    without one the server is used unauthenticated. ``from`` defaults to the digest's ``to``.
    ``ca_file`` trusts one more certificate authority (a self-hosted server's own).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    host: str
    port: int | None = Field(default=None, ge=1, le=65535)
    security: Literal["starttls", "tls", "plain"] = "starttls"
    username: str | None = None
    password_file: Path | None = None
    password_env: str | None = None
    password_credential: str | None = None
    sender: str | None = Field(default=None, alias="from")
    ca_file: Path | None = None
    timeout_seconds: float = Field(default=30.0, gt=0, le=600)

    @model_validator(mode="after")
    def _check(self) -> SmtpSettings:
        refs = sum(r is not None for r in (self.password_file, self.password_env, self.password_credential))
        if refs > 1:
            raise ValueError("set at most one of password_file, password_env, password_credential")
        if refs and not self.username:
            raise ValueError("a password needs a username")
        if self.username and not refs:
            raise ValueError("a username needs one of password_file, password_env, password_credential")
        if self.security == "plain" and not _is_loopback(self.host):
            raise ValueError("security: plain is only allowed for a server on this machine "
                             "(127.0.0.1, ::1, localhost); use starttls or tls")
        return self

    @property
    def effective_port(self) -> int:
        return self.port or {"tls": 465, "starttls": 587, "plain": 25}[self.security]


class DigestSettings(_Strict):
    """The daily digest (SPEC §4). ``delivery: imap`` appends it to the INBOX of ``account``
    (default: the first account; a Maildir account's INBOX works the same way), ``smtp`` sends
    it through ``smtp``, ``none`` only previews it (``followup digest --preview``)."""

    enabled: bool = True
    hour: int = Field(default=8, ge=0, le=23)
    delivery: Literal["imap", "smtp", "none"] = "imap"
    to: str | None = None
    skip_when_empty: bool = False
    account: str | None = None
    smtp: SmtpSettings | None = None

    @model_validator(mode="after")
    def _check(self) -> DigestSettings:
        if self.delivery == "smtp" and self.smtp is None:
            raise ValueError("delivery: smtp needs the smtp settings (host, security, username, …)")
        return self


class UserSettings(_Strict):
    name: str = ""
    addresses: tuple[str, ...] = ()


class Config(_Strict):
    """The whole validated configuration. ``source`` is the file it came from."""

    timezone: str = "UTC"
    country: str = "US"
    subdivision: str | None = None
    state_dir: Path = DEFAULT_STATE_DIR
    user: UserSettings = UserSettings()
    accounts: tuple[Account, ...]
    sync: SyncSettings = SyncSettings()
    schedule: ScheduleSettings = ScheduleSettings()
    digest: DigestSettings = DigestSettings()
    source: Path | None = None

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (use an IANA name like Europe/Berlin)") from None
        return value

    @field_validator("country")
    @classmethod
    def _country(cls, value: str) -> str:
        import holidays

        if value.upper() not in holidays.list_supported_countries():
            raise ValueError(f"no public-holiday calendar for country {value!r} (use an ISO code like US, DE)")
        return value.upper()

    @model_validator(mode="after")
    def _unique_accounts(self) -> Config:
        names = [a.name for a in self.accounts]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"account names must be unique; repeated: {', '.join(dupes)}")
        if not self.accounts:
            raise ValueError("at least one account is needed")
        return self

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def state_path(self) -> Path:
        return Path(os.path.expanduser(str(self.state_dir)))

    @property
    def database_path(self) -> Path:
        return self.state_path / "state.sqlite3"

    def user_addresses(self) -> frozenset[str]:
        found = {a.lower() for a in self.user.addresses}
        for account in self.accounts:
            if account.address:
                found.add(account.address.lower())
            if isinstance(account, ImapAccount) and "@" in account.username:
                found.add(account.username.lower())
        return frozenset(found)

    def account(self, name: str) -> Account:
        for account in self.accounts:
            if account.name == name:
                return account
        raise ConfigError(f"no account named {name!r} in {self.source or 'the config'}")


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def default_config_path(environ: dict[str, str] | None = None) -> Path:
    """Return $FOLLOWUP_CONFIG, else ~/.config/interview-followup/config.yaml."""
    env = os.environ if environ is None else environ
    return Path(os.path.expanduser(env.get("FOLLOWUP_CONFIG") or str(DEFAULT_CONFIG_PATH)))


def load_config(path: Path | str | None = None, *, environ: dict[str, str] | None = None) -> Config:
    """Given a YAML file, return the validated Config; raises ConfigError listing every problem."""
    config_path = Path(path) if path else default_config_path(environ)
    try:
        text = config_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{config_path}: no such config file (write one with `followup init` "
                          "or copy config.example.yaml)") from None
    except OSError as exc:
        raise ConfigError(f"{config_path}: cannot read: {exc.strerror}") from None
    return parse_config(text, source=config_path, environ=environ)


def parse_config(text: str, *, source: Path | None = None, environ: dict[str, str] | None = None) -> Config:
    """Given YAML text, return the validated Config; raises ConfigError listing every problem.

    Without ``state_dir`` in the file, systemd's ``$STATE_DIRECTORY`` (set by ``StateDirectory=``)
    or ``$FOLLOWUP_STATE_DIR`` is used, else ~/.local/state/interview-followup.
    """
    env = os.environ if environ is None else environ
    where = str(source or "<config>")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" line {mark.line + 1}, column {mark.column + 1}:" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{where}:{line} not valid YAML: {problem}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: the top level must be a mapping of settings")
    problems = _inline_secret_problems(data)
    if "state_dir" not in data:
        state_dir = env.get("FOLLOWUP_STATE_DIR") or (env.get("STATE_DIRECTORY") or "").split(":")[0]
        if state_dir:
            data = {**data, "state_dir": state_dir}
    try:
        config = Config.model_validate({**data, "source": source})
    except ValidationError as exc:
        secret_keys = {p.split(":", 1)[0] for p in problems}
        for error in exc.errors():
            described = _describe(error)
            if described.split(":", 1)[0] not in secret_keys:
                problems.append(described)
    else:
        if not problems:
            return config
    raise ConfigError(f"{where}: {len(problems)} problem(s) in the config", sorted(set(problems)))


def _describe(error: dict) -> str:
    loc = [str(part) for part in error.get("loc", ())]
    # The discriminated union puts the account type into the path ("accounts.0.imap.host").
    if len(loc) >= 3 and loc[0] == "accounts" and loc[2] in ("imap", "maildir", "gmail"):
        del loc[2]
    key = ".".join(loc) or "(top level)"
    kind = error.get("type", "")
    if kind == "extra_forbidden":
        return f"{key}: unknown key"
    if kind == "missing":
        return f"{key}: required"
    msg = error.get("msg", "invalid").removeprefix("Value error, ")
    return f"{key}: {msg}"


def _inline_secret_problems(data: object, path: str = "") -> list[str]:
    problems: list[str] = []
    if isinstance(data, dict):
        for key, value in data.items():
            here = f"{path}.{key}" if path else str(key)
            if str(key).lower() in _SECRET_WORDS and isinstance(value, str | int):
                problems.append(
                    f"{here}: secrets are never written in the config; use {key}_file "
                    f"(a file with mode 0600), {key}_env or {key}_credential (systemd LoadCredential=)"
                )
            else:
                problems.extend(_inline_secret_problems(value, here))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            problems.extend(_inline_secret_problems(value, f"{path}.{index}"))
    return problems


def resolve_secret(
    account: ImapAccount, *, environ: dict[str, str] | None = None
) -> tuple[Literal["password", "oauth2"], str]:
    """Return ("password"|"oauth2", value) for the account; raises ConfigError naming the reference.

    A secret file must exist and be readable by its owner only (mode 0600 or stricter). An
    ``oauth2`` value is either a ready access token or the JSON ``followup auth gmail`` writes
    (refresh token included), which :mod:`followup.mailbox.factory` turns into fresh access tokens.
    """
    env = os.environ if environ is None else environ
    kind: Literal["password", "oauth2"] = "oauth2" if account.uses_oauth2 else "password"
    where = f"accounts.{account.name}"
    if account.password_env or account.oauth2_token_env:
        var = account.password_env or account.oauth2_token_env
        value = env.get(var or "")
        if not value:
            raise ConfigError(f"{where}: environment variable {var} is not set or empty")
        return kind, value
    credential = account.password_credential or account.oauth2_token_credential
    if credential:
        key = "password_credential" if account.password_credential else "oauth2_token_credential"
        cred_dir = env.get("CREDENTIALS_DIRECTORY")
        if not cred_dir:
            raise ConfigError(f"{where}: {key} needs $CREDENTIALS_DIRECTORY "
                              "(set by systemd's LoadCredential=)")
        return kind, _read_secret_file(Path(cred_dir) / credential, where, check_mode=False)
    path = account.password_file or account.oauth2_token_file
    assert path is not None  # guaranteed by ImapAccount._check
    return kind, _read_secret_file(Path(os.path.expanduser(str(path))), where, check_mode=True)


def _read_secret_file(path: Path, where: str, *, check_mode: bool) -> str:
    try:
        info = path.stat()
    except FileNotFoundError:
        raise ConfigError(f"{where}: secret file {path} does not exist") from None
    except OSError as exc:
        raise ConfigError(f"{where}: cannot read secret file {path}: {exc.strerror}") from None
    if check_mode and info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(f"{where}: secret file {path} is readable by others "
                          f"(mode {stat.S_IMODE(info.st_mode):04o}); run: chmod 600 {path}")
    try:
        value = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(f"{where}: cannot read secret file {path}: {exc.strerror}") from None
    if not value:
        raise ConfigError(f"{where}: secret file {path} is empty")
    return value
