"""Delivering the daily digest: the ONLY place in the program that sends mail.

Three ways, all to the user themselves:

* :func:`append_to_inbox` puts the digest into the INBOX of one of the user's own accounts
  through the mailbox backend (IMAP APPEND, or a file in a Maildir). It needs no permission to
  send, which is why it is the default.
* For a Gmail API account, :func:`append_to_inbox` hands it to :func:`send_gmail` instead:
  ``users.messages.send`` to the user's own address (the ``gmail.compose`` scope can send but not
  store into the INBOX). It is the only call of a Gmail send method in the program; a test
  checks that (``tests/test_only_the_digest_sends.py``).
* :func:`send_smtp` hands it to an SMTP server: ``starttls`` (port 587), ``tls`` (465) or
  ``plain`` (25, only to this machine; the config refuses anything else). The password is a
  reference (``password_file``/``password_env``/``password_credential``) resolved at the moment
  of sending and never logged.

:func:`build_message` makes the RFC 5322 message (text + HTML alternatives). Every header value
is sanitised (no CR/LF, no control characters) and the mail carries ``Auto-Submitted:
auto-generated`` and ``Precedence: bulk``, so auto-replies stay quiet and the program's own
classifier files it as ``other`` should it read it back from a watched INBOX.
"""

from __future__ import annotations

import base64
import email.policy
import email.utils
import hashlib
import os
import smtplib
import socket
import ssl
from datetime import date, datetime
from email.headerregistry import Address as HeaderAddress
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING

from followup.config import SmtpSettings, _read_secret_file
from followup.core.compose import sanitise_header
from followup.core.model import FolderRole
from followup.errors import AuthError, ConfigError, ProtocolError, TransientError
from followup.mailbox.base import Mailbox

if TYPE_CHECKING:
    from followup.mailbox.gmail import GmailMailbox

#: The header naming the local day a digest is for; used to find an interrupted delivery.
DIGEST_HEADER = "X-Followup-Digest"


def parse_address(value: str, *, where: str) -> HeaderAddress:
    """Given ``name@host`` or ``Name <name@host>``, return it; raises ConfigError when it is not one."""
    found = email.utils.getaddresses([sanitise_header(value)])
    if len(found) != 1:
        raise ConfigError(f"{where}: {value!r} is not one email address")
    name, addr = found[0]
    if "@" not in addr or any(c in addr for c in " <>\r\n,;"):
        raise ConfigError(f"{where}: {value!r} is not an email address")
    try:
        return HeaderAddress(display_name=sanitise_header(name), addr_spec=addr)
    except (ValueError, IndexError) as exc:
        raise ConfigError(f"{where}: {value!r} is not an email address ({exc})") from None


def build_message(*, subject: str, text: str, html: str, sender: HeaderAddress, to: HeaderAddress,
                  now: datetime, local_date: date) -> tuple[EmailMessage, str]:
    """Given the rendered digest, return (the message, its Message-ID)."""
    message = EmailMessage(policy=email.policy.SMTP)
    domain = to.domain or "localhost"
    stamp = hashlib.sha256(f"{local_date}|{now.isoformat()}|{to.addr_spec}".encode()).hexdigest()[:16]
    message_id = f"<digest.{local_date.isoformat()}.{stamp}@{domain}>"
    message["From"] = HeaderAddress(display_name=sanitise_header(sender.display_name) or "Job search digest",
                                    addr_spec=sender.addr_spec)
    message["To"] = to
    message["Subject"] = sanitise_header(subject)
    message["Date"] = email.utils.format_datetime(now)
    message["Message-ID"] = message_id
    message["Auto-Submitted"] = "auto-generated"
    message["Precedence"] = "bulk"
    message["X-Auto-Response-Suppress"] = "All"
    message[DIGEST_HEADER] = local_date.isoformat()
    message.set_content(text, subtype="plain", charset="utf-8")
    message.add_alternative(html, subtype="html", charset="utf-8")
    return message, message_id


def append_to_inbox(mailbox: Mailbox, message: EmailMessage, *, when: datetime) -> str | None:
    """Store the digest, unread, in the mailbox's INBOX; return its ref. Raises MailboxError.

    A Gmail API mailbox gets it by :func:`send_gmail` (to the user's own address, so it lands
    in the INBOX just the same)."""
    from followup.mailbox.gmail import GmailMailbox

    if isinstance(mailbox, GmailMailbox):
        return send_gmail(mailbox, message)
    return mailbox.append(FolderRole.INBOX, message.as_bytes(), flags=(), when=when)


def send_gmail(mailbox: GmailMailbox, message: EmailMessage) -> str | None:
    """Send the digest with the Gmail API's ``users.messages.send``; return the message id.

    Never retried after an answer that may come after the mail went out (5xx, a dropped
    connection): the digest job's claim then keeps it from going out twice. Raises MailboxError.
    """
    raw = base64.urlsafe_b64encode(message.as_bytes()).decode("ascii")
    sent = mailbox.call(lambda service: service.users().messages().send(userId="me", body={"raw": raw}),
                        "messages.send (the digest)", create=True)
    return str(sent.get("id")) if isinstance(sent, dict) and sent.get("id") else None


def resolve_smtp_password(settings: SmtpSettings, *, environ: dict[str, str] | None = None) -> str | None:
    """The SMTP password from its reference (None without a username); raises ConfigError."""
    if not settings.username:
        return None
    env = os.environ if environ is None else environ
    where = "digest.smtp"
    if settings.password_env:
        value = env.get(settings.password_env)
        if not value:
            raise ConfigError(f"{where}: environment variable {settings.password_env} is not set or empty")
        return value
    if settings.password_credential:
        cred_dir = env.get("CREDENTIALS_DIRECTORY")
        if not cred_dir:
            raise ConfigError(f"{where}: password_credential needs $CREDENTIALS_DIRECTORY "
                              "(set by systemd's LoadCredential=)")
        return _read_secret_file(Path(cred_dir) / settings.password_credential, where, check_mode=False)
    assert settings.password_file is not None  # guaranteed by SmtpSettings._check
    return _read_secret_file(Path(os.path.expanduser(str(settings.password_file))), where, check_mode=True)


def send_smtp(settings: SmtpSettings, message: EmailMessage, *, environ: dict[str, str] | None = None) -> None:
    """Send the digest through the configured server.

    Raises ConfigError (password reference), AuthError (login refused), TransientError
    (network, timeout, 4xx) or ProtocolError (the server refused the mail for good).
    """
    password = resolve_smtp_password(settings, environ=environ)
    context = None
    if settings.security != "plain":
        cafile = os.path.expanduser(str(settings.ca_file)) if settings.ca_file else None
        context = ssl.create_default_context(cafile=cafile)
    host, port = settings.host, settings.effective_port
    where = f"SMTP {host}:{port}"
    try:
        if settings.security == "tls":
            client: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=settings.timeout_seconds, context=context)
        else:
            client = smtplib.SMTP(host, port, timeout=settings.timeout_seconds)
        with client:
            client.ehlo()
            if settings.security == "starttls":
                if not client.has_extn("starttls"):
                    raise ProtocolError(f"{where} does not offer STARTTLS; refusing to send in the clear")
                client.starttls(context=context)
                client.ehlo()
            if settings.username and password is not None:
                client.login(settings.username, password)
            refused = client.send_message(message)
            if refused:
                raise ProtocolError(f"{where} refused recipient(s): {', '.join(sorted(refused))}")
    except smtplib.SMTPAuthenticationError as exc:
        raise AuthError(f"{where}: login refused ({exc.smtp_code})") from exc
    except smtplib.SMTPResponseException as exc:
        kind = TransientError if 400 <= exc.smtp_code < 500 else ProtocolError
        raise kind(f"{where}: {exc.smtp_code} {exc.smtp_error.decode('utf-8', 'replace')[:200]}") from exc
    except smtplib.SMTPRecipientsRefused as exc:
        raise ProtocolError(f"{where} refused recipient(s): {', '.join(sorted(exc.recipients))}") from exc
    except ssl.SSLCertVerificationError as exc:
        raise ProtocolError(f"{where}: the server's certificate is not trusted ({exc.verify_message}); "
                            "digest.smtp.ca_file can name the authority to trust") from exc
    except ssl.SSLError as exc:
        raise TransientError(f"{where}: TLS failed: {exc.reason or exc}") from exc
    except (smtplib.SMTPException, socket.timeout, OSError) as exc:
        raise TransientError(f"{where}: {exc}") from exc
