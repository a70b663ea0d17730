"""A DraftIntent into the draft itself: RFC 5322 bytes ready to APPEND to Drafts.

:func:`compose_draft` is pure given its Jinja2 environment: the same intent, history, user,
``now`` and templates give the same bytes. It never reads the clock (``now`` becomes the Date
header) and it reads templates only through ``env``.

Every header value that holds text from inbound mail (names, subjects, message ids, the role
and company the classifier extracted) is sanitised first: control characters, CR and LF
become spaces, so no inbound text can add a header or break one. Message ids that do not look
like ``<id@host>`` are dropped rather than repaired.

Templates are plain text (``autoescape`` off) with ``StrictUndefined``: a user's override that
names a variable we do not provide fails loudly at composing time instead of mailing a gap.
The variables every template receives are listed in :data:`TEMPLATE_VARIABLES`.
"""

from __future__ import annotations

import email.policy
import email.utils
import re
import unicodedata
from datetime import datetime
from email.headerregistry import Address as HeaderAddress
from email.message import EmailMessage
from pathlib import Path

import jinja2

from followup.core.model import Address, DraftKind, Message
from followup.core.policy import (
    PLACEHOLDER_MARKER,
    ApplicationHistory,
    DraftIntent,
    company_tokens,
    is_writable_address,
    same_company,
)

__all__ = [
    "PLACEHOLDER_MARKER",
    "TEMPLATE_NAMES",
    "TEMPLATE_VARIABLES",
    "compose_draft",
    "default_template_environment",
    "draft_subject",
    "sanitise_header",
]

#: The template file of each draft kind (in the package's ``templates`` directory, or in the
#: user's override directory, which is searched first).
TEMPLATE_NAMES: dict[DraftKind, str] = {kind: f"{kind.value}.txt" for kind in DraftKind}

#: What a template can use. Text values are plain strings (possibly empty), never None.
TEMPLATE_VARIABLES = (
    "kind",  # the draft kind, e.g. "thank_you"
    "greeting",  # "Hi Alice," or "Hello," when no name is known
    "first_name",  # the recipient's first name, or ""
    "recipient_name",  # the recipient's full display name, or ""
    "interviewer_name",  # the interviewer the note is for (thank-you), else the recipient's name
    "role",  # the role as extracted, or ""
    "role_phrase",  # "the Data Engineer role" or "the role"
    "company",  # the company, or ""
    "at_company",  # " at Acme" or ""
    "interview_date",  # "Wednesday, March 5" in the user's zone, or ""
    "point",  # the user's note as a sentence, or the marker when there is none
    "has_point",  # True when ``point`` came from the user's notes
    "marker",  # PLACEHOLDER_MARKER
    "wrong_company",  # for a correction: the company the sent mail named by mistake, or ""
    "signature",  # the user's name for the sign-off, or ""
    "round",  # the interview round (1, 2…)
)

_TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "templates"
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
# Printable ASCII only (RFC 5322 section 3.6.4): an inbound id with 8-bit bytes (kept by the
# parser as surrogate escapes) would put those bytes, a C1 control among them, into the draft.
_MESSAGE_ID = re.compile(r"^<[\x21-\x3b\x3d\x3f-\x7e]+@[\x21-\x3b\x3d\x3f-\x7e]+>$")
_REPLY_PREFIX = re.compile(r"^\s*(re|aw|sv|antw|réf|rif)\s*:", re.IGNORECASE)
_KEY_SAFE = re.compile(r"[^A-Za-z0-9._-]+")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_DOMAIN = re.compile(rf"^{_LABEL}(?:\.{_LABEL})+$")
_TITLES = {"mr", "mrs", "ms", "mx", "dr", "prof", "herr", "frau", "sir", "madam"}
#: References grow with every reply; clients thread on the last few, and a very long header
#: only risks being cut by a server.
_MAX_REFERENCES = 20


def default_template_environment(override_dir: Path | None = None) -> jinja2.Environment:
    """Given an optional directory of user templates, return the Environment drafts use.

    Templates are looked up in ``override_dir`` first (a file there named like a package
    template replaces it), then in the package. Plain text: no autoescaping; undefined
    variables raise ``jinja2.UndefinedError`` when a template is rendered. Building the
    environment reads no file; templates are loaded when first rendered.
    """
    loaders: list[jinja2.BaseLoader] = []
    if override_dir is not None:
        loaders.append(jinja2.FileSystemLoader(str(override_dir)))
    loaders.append(jinja2.FileSystemLoader(str(_TEMPLATE_DIR)))
    return jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=False,  # noqa: S701 - plain-text mail, never HTML
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def sanitise_header(value: str | None) -> str:
    """Given text that may come from inbound mail, return it safe for one header line.

    Control characters (CR and LF among them) and Unicode line separators become single
    spaces; runs of whitespace collapse; format characters (bidi overrides…) are removed.
    """
    if not value:
        return ""
    text = _CONTROL.sub(" ", value)
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    # A "=?charset?q?…?=" left in inbound text would be decoded by the email package while
    # the draft is built, bringing back the CR/LF just removed (a Bcc: injection found by
    # fuzzing): break every encoded-word opener so it stays literal text.
    return " ".join(text.split()).replace("=?", "= ?")


#: The only headers a composed draft may carry; anything else means inbound text got out.
_DRAFT_HEADERS = frozenset({"from", "to", "subject", "date", "message-id", "in-reply-to", "references",
                            "x-followup-key", "mime-version", "content-type", "content-transfer-encoding"})


def _check_headers(raw: bytes) -> None:
    """Raise ValueError when the composed bytes carry a header we did not write (an injection)."""
    import email
    from email import policy as email_policy

    parsed = email.message_from_bytes(raw, policy=email_policy.compat32)
    names = {name.lower() for name in parsed.keys()}
    unexpected = names - _DRAFT_HEADERS
    if unexpected or len(parsed.keys()) != len(names):
        raise ValueError(f"refusing a draft with unexpected or repeated headers: {sorted(unexpected) or 'repeated'}")


def _body_text(value: str | None) -> str:
    # Body values keep no control characters either: a stray ESC or NUL in a role name has
    # no business in a mail the user sends.
    return sanitise_header(value)


def draft_subject(intent: DraftIntent, history: ApplicationHistory) -> str:
    """Given an intent and its application, return the draft's subject (sanitised).

    A reply keeps the answered subject with one ``Re:`` in front; a fresh thread is
    "Follow-Up on <role> Interview" (a thank-you: "Thank You: <role> Interview").
    """
    if intent.reply_to is not None:
        answered = sanitise_header(intent.reply_to.subject)
        if answered:
            return answered if _REPLY_PREFIX.match(answered) else f"Re: {answered}"
    role = sanitise_header(history.role)
    if intent.kind is DraftKind.THANK_YOU:
        return f"Thank You: {role} Interview" if role else "Thank You for the Interview"
    return f"Follow-Up on {role} Interview" if role else "Follow-Up on Our Interview"


def _first_name(name: str) -> str:
    name = _body_text(name)
    if not name:
        return ""
    if "," in name:  # "Archer, Alice"
        surname, _, given = name.partition(",")
        name = f"{given.strip()} {surname.strip()}".strip()
    words = name.split()
    if words and words[0].rstrip(".").lower() in _TITLES:
        return name  # "Dr. Archer": keep the title with the name
    return words[0] if words else ""


def _handles(person: Address) -> set[str]:
    out = {person.email.lower(), person.local_part.lower()}
    name = _body_text(person.name).lower()
    if name:
        out.update({name, name.split()[0]})
    return out


def _note_for(history: ApplicationHistory, person: Address | None) -> str:
    """The latest note for ``person``: one addressed to them ("Alice: …") first, else the latest
    note addressed to no interviewer of the application. With no ``person`` (a follow-up to
    the contact), the latest note of any kind, without its addressee."""
    cleaned = [n for n in (_body_text(n) for n in history.notes) if n]
    if person is None and cleaned:
        head, sep, rest = cleaned[-1].partition(":")
        return rest.strip() if sep and rest.strip() and len(head.split()) <= 3 else cleaned[-1]
    everyone: set[str] = set()
    for item in history.items:
        for interviewer in item.facts.interviewers:
            everyone |= _handles(interviewer)
    mine = _handles(person) if person is not None else set()
    everyone |= mine
    personal = general = ""
    for note in cleaned:
        head, sep, rest = note.partition(":")
        addressee = head.strip().lower() if sep and rest.strip() else ""
        if addressee and addressee in mine:
            personal = rest.strip()
        elif not (addressee and addressee in everyone):
            general = note
    return personal or general


def _company_name(history: ApplicationHistory) -> str | None:
    """The application's company as a person writes it. A one-word name squashed from a domain
    ("Fernhillcu", "Harborpine") gives way to a fuller name of the same company that a message
    of the application states ("Fernhill Credit Union")."""
    company = history.company
    if not company or len(company_tokens(company)) != 1:
        return company
    fuller = [f.company for f in (item.facts for item in history.items)
              if f.company and len(company_tokens(f.company)) > 1
              and same_company(f.company, company)]
    return max(fuller, key=lambda name: len(company_tokens(name)), default=company)


def _as_sentence(note: str) -> str:
    # A full sentence is used as it is; a phrase ("your data platform migration") is framed.
    if note[-1:] in ".!?":
        return note
    return f"I especially enjoyed our conversation about {note}."


def _context(intent: DraftIntent, history: ApplicationHistory, user: Address,
             signature_name: str | None, tz_hint: datetime) -> dict[str, object]:
    recipient = intent.to
    person = intent.interviewer or recipient
    recipient_name = _body_text(recipient.name) if recipient else ""
    first = _first_name(recipient.name) if recipient else ""
    role = _body_text(history.role)
    company = _body_text(_company_name(history))
    note = _note_for(history, intent.interviewer)
    interview_date = ""
    if intent.interview_at is not None:
        local = intent.interview_at.astimezone(intent.due.tzinfo or tz_hint.tzinfo)
        interview_date = f"{local:%A, %B} {local.day}"
    return {
        "kind": intent.kind.value,
        "greeting": f"Hi {first}," if first else "Hello,",
        "first_name": first,
        "recipient_name": recipient_name,
        "interviewer_name": _body_text(person.name) if person else "",
        "role": role,
        "role_phrase": f"the {role} role" if role else "the role",
        "company": company,
        "at_company": f" at {company}" if company else "",
        "interview_date": interview_date,
        "point": _as_sentence(note) if note else PLACEHOLDER_MARKER,
        "has_point": bool(note),
        "marker": PLACEHOLDER_MARKER,
        "wrong_company": _body_text(intent.wrong_company),
        "signature": _body_text(signature_name) or _body_text(user.name),
        "round": intent.round,
    }


def _header_address(address: Address, header: str) -> HeaderAddress:
    # Build through the stdlib's Address so a display name with commas, quotes or non-ASCII
    # is quoted or RFC 2047-encoded correctly; the name is sanitised first.
    local, _, domain = address.email.partition("@")
    named = HeaderAddress(display_name=sanitise_header(address.name),
                          username=sanitise_header(local), domain=sanitise_header(domain))
    if not named.display_name or _folds_cleanly(header, named):
        return named
    return HeaderAddress(username=named.username, domain=named.domain)


def _folds_cleanly(header: str, address: HeaderAddress) -> bool:
    """Whether ``address`` survives being written in ``header`` and read back. The stdlib's
    folder drops the quotes of a display name too long for one line, so a name with a period
    or a comma in it comes back defective or as a different address (found by fuzzing); such a
    name is left out and the bare address used."""
    probe = EmailMessage()
    probe[header] = address
    back = email.message_from_bytes(probe.as_bytes(policy=email.policy.SMTP), policy=email.policy.default)[header]
    return not back.defects and tuple(back.addresses) == (address,)


def _message_ids(values: tuple[str, ...] | list[str]) -> list[str]:
    out: list[str] = []
    for value in values:
        clean = sanitise_header(value)
        if _MESSAGE_ID.match(clean) and clean not in out:
            out.append(clean)
    return out


def _threading(answered: Message) -> tuple[str | None, list[str]]:
    own = _message_ids([answered.message_id])
    references = _message_ids(list(answered.references))
    if not references and answered.in_reply_to:
        references = _message_ids([answered.in_reply_to])
    chain = [r for r in references if r not in own] + own
    return (own[0] if own else None), chain[-_MAX_REFERENCES:]


def compose_draft(
    intent: DraftIntent,
    history: ApplicationHistory,
    *,
    user: Address,
    now: datetime,
    env: jinja2.Environment,
    signature_name: str | None = None,
) -> bytes:
    """Given an intent, its application, the user, ``now`` and a template environment, return
    the draft as RFC 5322 bytes (CRLF line ends, UTF-8 plain text).

    Headers: From (the user), To (the intent's recipient; absent when there is none), Subject
    (see :func:`draft_subject`), In-Reply-To and References when the intent answers a message,
    Message-ID ``<followup.<key>@<user's domain>>``, X-Followup-Key (the key) and Date
    (``now``). Raises ``ValueError`` for a naive ``now``; ``jinja2.TemplateNotFound`` or
    ``jinja2.UndefinedError`` when the template is missing or uses an unknown variable.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    template = env.get_template(TEMPLATE_NAMES[intent.kind])
    body = template.render(_context(intent, history, user, signature_name, now))
    body = body.strip("\n") + "\n"

    msg = EmailMessage(policy=email.policy.SMTP)
    msg["From"] = _header_address(user, "From")
    if intent.to is not None and is_writable_address(intent.to.email):
        # An address that is no RFC 5322 dot-atom (non-ASCII needs SMTPUTF8) is left out: the
        # draft has no recipient rather than a To that clients misread.
        msg["To"] = _header_address(intent.to, "To")
    msg["Subject"] = draft_subject(intent, history)
    msg["Date"] = email.utils.format_datetime(now)
    key = _KEY_SAFE.sub("-", intent.key)
    domain = user.domain if _DOMAIN.match(user.domain) else "followup.invalid"
    msg["Message-ID"] = f"<followup.{key}@{domain}>"
    msg["X-Followup-Key"] = key
    if intent.reply_to is not None:
        in_reply_to, references = _threading(intent.reply_to)
        if in_reply_to:
            msg["In-Reply-To"] = in_reply_to
        if references:
            msg["References"] = " ".join(references)
    msg.set_content(body, subtype="plain", charset="utf-8")
    raw = msg.as_bytes()
    _check_headers(raw)
    return raw
