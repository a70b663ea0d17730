"""Google OAuth for the Gmail API backend and for Gmail over IMAP (XOAUTH2): the one-time
consent flow, the stored token, its refresh.

* ``followup auth gmail --account NAME`` runs Google's *installed-app* flow
  (google-auth-oauthlib): a browser opens Google's consent page and Google redirects to a
  loopback address (``http://127.0.0.1:PORT/``) this process listens on. On a headless server
  the printed instructions forward that port over SSH (``ssh -L PORT:127.0.0.1:PORT server``)
  and the URL is opened on the laptop.
* The token (refresh token + client id/secret, Google's "authorized user" JSON) is written
  atomically: a new file created with mode 0600 (``O_EXCL``), fsynced, renamed over the old one,
  the directory fsynced. Default place: ``<state_dir>/gmail-<account>.token.json``. Under systemd
  it can instead be handed over read-only with ``LoadCredential=`` (``token_credential:``); the
  refreshed access token then lives in memory only (Google keeps the refresh token valid).
* Scopes: ``gmail.readonly`` + ``gmail.compose`` (drafts; it could also send, which is why a test
  proves no code path but the digest calls a send method), plus ``gmail.modify`` only when
  stage labels are enabled (``labels: true``).
* Gmail over IMAP (an ``imap`` account whose ``oauth2_token_*`` holds this same JSON) needs the
  scope ``https://mail.google.com/``; :class:`XOAuth2Token` hands the IMAP login a fresh access
  token, refreshing it when expired and writing the file back (0600, atomically).
* ``invalid_grant`` on refresh is one line telling the user to run the command again: a
  consent screen left in "Testing" makes Google expire refresh tokens after 7 days, and a
  password change or 6 months without use revoke them too.
"""

from __future__ import annotations

import json
import logging
import os
import stat
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from followup.config import Config, GmailAccount
from followup.errors import AuthError, ConfigError, TransientError

log = logging.getLogger(__name__)

READONLY_SCOPE = "https://www.googleapis.com/auth/gmail.readonly"
COMPOSE_SCOPE = "https://www.googleapis.com/auth/gmail.compose"
MODIFY_SCOPE = "https://www.googleapis.com/auth/gmail.modify"
#: The scope Gmail over IMAP with XOAUTH2 needs (the whole mailbox; the API scopes are narrower).
IMAP_SCOPE = "https://mail.google.com/"

#: The port the consent flow listens on by default (fixed, so an SSH forward can be set up first).
DEFAULT_FLOW_PORT = 8765


def scopes_for(account: GmailAccount) -> list[str]:
    """The scopes the account's token needs: read + drafts, and modify only for stage labels."""
    scopes = [READONLY_SCOPE, COMPOSE_SCOPE]
    if account.labels:
        scopes.append(MODIFY_SCOPE)
    return scopes


def reauth_hint(account_name: str) -> str:
    """The one line that tells the user what to do about a refused token."""
    return (f"run `followup auth gmail --account {account_name}` again "
            "(apps in Testing expire refresh tokens after 7 days)")


def token_path(config: Config, account: GmailAccount) -> Path:
    """Where ``followup auth`` writes the token: ``token_file``, else ``<state_dir>/gmail-<name>.token.json``."""
    if account.token_file is not None:
        return Path(os.path.expanduser(str(account.token_file)))
    return config.state_path / f"gmail-{account.name}.token.json"


def token_source(config: Config, account: GmailAccount, *, environ: Mapping[str, str] | None = None) -> Path:
    """Return the file the token is read from; raises ConfigError when it is missing or too open.

    Only looks at the file system (no network): the daemon calls it at start and on reload.
    """
    env = os.environ if environ is None else environ
    where = f"accounts.{account.name}"
    if account.token_credential:
        cred_dir = env.get("CREDENTIALS_DIRECTORY")
        if not cred_dir:
            raise ConfigError(f"{where}: token_credential needs $CREDENTIALS_DIRECTORY "
                              "(set by systemd's LoadCredential=)")
        path = Path(cred_dir) / account.token_credential
        check_mode = False  # systemd makes it readable by the service only
    else:
        path = token_path(config, account)
        check_mode = True
    try:
        info = path.stat()
    except FileNotFoundError:
        raise ConfigError(f"{where}: no Gmail token at {path}: run `followup auth gmail --account "
                          f"{account.name}`") from None
    except OSError as exc:
        raise ConfigError(f"{where}: cannot read the Gmail token {path}: {exc.strerror}") from None
    if check_mode and info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(f"{where}: the Gmail token {path} is readable by others "
                          f"(mode {stat.S_IMODE(info.st_mode):04o}); run: chmod 600 {path}")
    return path


def load_credentials(path: Path, account: GmailAccount, *, token_uri: str | None = None) -> Any:
    """Read the stored token into ``google.oauth2.credentials.Credentials`` (not refreshed yet).

    google-auth ignores a ``token_uri`` written in the file (a tampered file must not send the
    refresh token elsewhere); ``token_uri`` here replaces Google's (the test suite's fake)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"accounts.{account.name}: cannot read the Gmail token {path}: {exc.strerror}") from None
    return credentials_from_text(text, account.name, str(path), token_uri=token_uri)


def credentials_from_text(text: str, account_name: str, source: str, *, token_uri: str | None = None) -> Any:
    """Parse the authorized-user JSON ``followup auth gmail`` writes into ``Credentials``.

    ``source`` names where the text came from (a path, a credential) in the ConfigError raised
    when it is not such a JSON. Never touches the network."""
    from google.oauth2.credentials import Credentials

    where = f"accounts.{account_name}"
    try:
        info = json.loads(text)
    except ValueError:
        raise ConfigError(f"{where}: the Gmail token {source} is not JSON; "
                          f"run `followup auth gmail --account {account_name}`") from None
    if not isinstance(info, dict) or not info.get("refresh_token"):
        raise ConfigError(f"{where}: the Gmail token {source} holds no refresh token; "
                          f"run `followup auth gmail --account {account_name}`")
    try:
        # The scopes the token was granted are in the file; asking for others here would make
        # Google refuse the refresh, so a missing scope shows up as a 403 naming it instead.
        credentials = Credentials.from_authorized_user_info(info)
        if not token_uri:
            return credentials
        moved = credentials.with_token_uri(token_uri)
        moved.expiry = credentials.expiry  # google-auth's copy drops it (an expired token would look valid)
        return moved
    except ValueError as exc:
        raise ConfigError(f"{where}: the Gmail token {source} is incomplete ({exc}); "
                          f"run `followup auth gmail --account {account_name}`") from None


def missing_scopes(credentials: Any, account: GmailAccount) -> list[str]:
    """Scopes the account needs that the stored token was not granted (empty when unknown)."""
    granted = set(getattr(credentials, "scopes", None) or getattr(credentials, "granted_scopes", None) or ())
    if not granted:
        return []
    if MODIFY_SCOPE in granted:
        granted |= {READONLY_SCOPE}  # modify includes reading
    return [s for s in scopes_for(account) if s not in granted]


def refresh(credentials: Any, account_name: str, request: Any | None = None) -> None:
    """Get a fresh access token; raises AuthError (``invalid_grant``: re-run auth) or TransientError."""
    from google.auth import exceptions as gexc

    if request is None:
        import google_auth_httplib2
        import httplib2

        request = google_auth_httplib2.Request(httplib2.Http(timeout=30))
    try:
        credentials.refresh(request)
    except gexc.RefreshError as exc:
        raise refresh_error(account_name, exc) from exc
    except (gexc.TransportError, OSError) as exc:
        raise TransientError(f"{account_name}: cannot reach Google to refresh the token: {exc}") from exc


def refresh_error(account_name: str, exc: Exception) -> AuthError | TransientError:
    """Map a ``google.auth.exceptions.RefreshError`` to our errors (``invalid_grant`` → re-auth)."""
    text = str(exc)
    if getattr(exc, "retryable", False):
        return TransientError(f"{account_name}: Google could not refresh the token now: {text[:200]}")
    if "invalid_grant" in text:
        return AuthError(f"{account_name}: Google refused the saved token (invalid_grant): "
                         f"{reauth_hint(account_name)}")
    return AuthError(f"{account_name}: Google refused the token ({text[:200]}): {reauth_hint(account_name)}")


def is_token_json(text: str) -> bool:
    """True when an IMAP account's ``oauth2_token_*`` secret is the JSON ``followup auth gmail``
    writes (refreshable), not a ready access token (Google's start ``ya29.``, never ``{``)."""
    return text.lstrip().startswith("{")


class XOAuth2Token:
    """Access tokens for Gmail over IMAP (XOAUTH2) from the JSON ``followup auth gmail`` writes.

    Calling it returns an access token that is valid for at least a few more minutes. ``read``
    returns the current text of the token (its file, systemd credential or environment
    variable); it is read again at every call, which is cheap (a login is rare) and picks up a
    new ``followup auth gmail`` without a restart. When the access token in it has expired
    (google-auth's ``valid``, with its safety margin) it is refreshed at Google's token endpoint
    and, when ``save_path`` is given, written back there atomically with mode 0600. Where it
    cannot be written (a read-only systemd credential) it stays in memory: Google keeps the
    refresh token the same on a refresh, so nothing is lost but one refresh per start.

    The constructor parses the text (ConfigError when it is not such a JSON) and never touches
    the network. ``request`` replaces the HTTP transport of the refresh (the default is
    httplib2 with a 30 s timeout); ``token_uri`` replaces Google's endpoint (the tests' fake).
    Raises AuthError (``invalid_grant``: run the auth command again; a token granted without the
    IMAP scope) or TransientError (Google unreachable). The token itself is never logged.
    """

    def __init__(self, account_name: str, read: Callable[[], str], *, source: str,
                 save_path: Path | None = None, token_uri: str | None = None,
                 request: Any | None = None, text: str | None = None) -> None:
        self.account_name = account_name
        self._read = read
        self._source = source
        self._save_path = save_path
        self._token_uri = token_uri
        self._request = request
        self._text = ""
        self._credentials: Any = None
        self._load(read() if text is None else text)

    def __repr__(self) -> str:  # never the token
        return f"XOAuth2Token({self.account_name!r}, source={self._source!r})"

    def _load(self, text: str) -> None:
        text = text.strip()
        self._credentials = credentials_from_text(text, self.account_name, self._source,
                                                  token_uri=self._token_uri)
        self._text = text

    def __call__(self) -> str:
        text = self._read().strip()
        if text != self._text:  # `followup auth gmail` wrote a new one
            self._load(text)
        credentials = self._credentials
        granted = set(credentials.scopes or ())
        if granted and IMAP_SCOPE not in granted:
            raise AuthError(f"{self.account_name}: the token in {self._source} is for "
                            f"{', '.join(sorted(s.rsplit('/', 1)[-1] for s in granted))}, but IMAP "
                            f"needs the scope {IMAP_SCOPE}: {reauth_hint(self.account_name)}")
        if not credentials.valid:
            refresh(credentials, self.account_name, self._request)
            self._save(credentials)
        return str(credentials.token)

    def forget(self) -> None:
        """The server refused the access token: the next call gets a new one from Google."""
        if self._credentials is not None:
            self._credentials.token = None

    def _save(self, credentials: Any) -> None:
        if self._save_path is None:
            return
        data = credentials.to_json()
        try:
            write_private_file(self._save_path, data.encode("utf-8"))
        except OSError as exc:
            log.warning("%s: cannot write the refreshed token back to %s (%s); it is kept in memory",
                        self.account_name, self._save_path, exc.strerror or exc)
            return
        self._text = data.strip()


def save_credentials(path: Path, credentials: Any) -> None:
    """Write the token atomically with mode 0600: temp file (O_EXCL) + fsync + rename + dir fsync."""
    data = credentials.to_json() if hasattr(credentials, "to_json") else json.dumps(credentials)
    write_private_file(path, data.encode("utf-8"))


def write_private_file(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data``, readable by the owner only, so that a crash leaves the
    old file or the new one, never half of one and never a moment with a wider mode."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    # One temp name per process and thread: the poll and the IDLE connection of an account may
    # both refresh (and write) the token at the same moment.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o600)  # O_CREAT's mode is masked by the umask; never wider than 0600 anyway
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    try:
        dir_fd = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def headless_instructions(port: int) -> str:
    """What to do when the browser is on another machine than this process."""
    return (
        "If this machine has no browser (a server over SSH), forward the port first, from your laptop:\n"
        f"    ssh -L {port}:127.0.0.1:{port} USER@THIS-SERVER\n"
        "then open the link below in the laptop's browser. Google redirects to "
        f"http://127.0.0.1:{port}/, which the tunnel brings back here."
    )


def run_consent_flow(client_secrets_file: Path, scopes: list[str], *, port: int = DEFAULT_FLOW_PORT,
                     open_browser: bool = True, out: Callable[[str], None] = print,
                     flow_factory: Callable[..., Any] | None = None) -> Any:
    """Run the installed-app flow on a loopback redirect; return the new credentials.

    Raises ConfigError when the client secrets file is missing or not an OAuth client of the
    "Desktop app" kind, AuthError when consent is refused.
    """
    path = Path(os.path.expanduser(str(client_secrets_file)))
    if not path.is_file():
        raise ConfigError(f"client_secrets_file {path} does not exist: download the OAuth client "
                          "(type Desktop app) from Google Cloud Console, see the README's Gmail section")
    if flow_factory is None:
        from google_auth_oauthlib.flow import InstalledAppFlow

        flow_factory = InstalledAppFlow.from_client_secrets_file
    try:
        flow = flow_factory(str(path), scopes=scopes)
    except (ValueError, KeyError) as exc:
        raise ConfigError(f"{path} is not an OAuth client secrets file of a Desktop app ({exc})") from None
    out(headless_instructions(port))
    try:
        return flow.run_local_server(
            host="127.0.0.1", bind_addr="127.0.0.1", port=port, open_browser=open_browser,
            authorization_prompt_message="Open this link to let interview-followup read mail and write drafts:\n{url}",
            success_message="interview-followup has its token; you can close this tab.",
        )
    except OSError as exc:
        raise ConfigError(f"cannot listen on 127.0.0.1:{port} for Google's redirect ({exc.strerror}); "
                          "choose another with --port") from None
    except Exception as exc:  # noqa: BLE001 - oauthlib raises its own kinds for a refused consent
        raise AuthError(f"the Google consent did not complete: {exc}") from exc
